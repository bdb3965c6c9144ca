#!/usr/bin/env bash
set -e
source /opt/ros/kilted/setup.bash
source /opt/calligraphy_ws/install/setup.bash
exec "$@"
