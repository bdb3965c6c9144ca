#!/usr/bin/env bash
# The main job: write TEXT in simulation and save what was written under OUT.
set -eo pipefail
calligraphy write "$1" --out "$2"
