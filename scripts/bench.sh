#!/usr/bin/env bash
# Runs every registered benchmark and saves its figures under out/bench/NAME.json.
set -eo pipefail
mkdir -p out/bench
for name in $(python -c "from calligraphy_ros_kit.cli import benchmark_names; print(' '.join(benchmark_names()))"); do
  echo "== bench $name"
  calligraphy bench "$name" --json "out/bench/$name.json"
done
