#!/usr/bin/env bash
# Runs every registered benchmark and saves its figures under out/bench/NAME.json.
set -eo pipefail
mkdir -p out/bench
for name in $(python -c "from calligraphy_bringup.cli import _entry_points, BENCHMARKS_GROUP; print(' '.join(_entry_points(BENCHMARKS_GROUP)))"); do
  echo "== bench $name"
  calligraphy bench "$name" --json "out/bench/$name.json"
done
