#!/usr/bin/env bash
# Runs the whole test suite: the packages' tests (core, adapters, nodes) and the cross-package
# tests in test/. Each run gets a ROS domain of its own so parallel runs never hear each other.
set -eo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export ROS_DOMAIN_ID="${CALLIGRAPHY_TEST_DOMAIN_ID:-$(( RANDOM % 100 + 1 ))}"
# shellcheck disable=SC1091
source env.sh
exec python -m pytest "$@"
