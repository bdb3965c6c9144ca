# Source this at the repository root to make a shell ready for the calligraphy cell:
#   source env.sh
# It activates .venv, sources the colcon overlay and picks an isolated ROS 2 domain.
_cc_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
if [ ! -f "$_cc_root/install/setup.bash" ]; then
  echo "env.sh: workspace not built; run 'make setup' first" >&2
  return 1 2>/dev/null || exit 1
fi
# shellcheck disable=SC1091
source "$_cc_root/.venv/bin/activate"
export AMENT_PREFIX_PATH="$_cc_root/.venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
# colcon's setup scripts reference unset variables; keep callers that use `set -u` working.
_cc_nounset=$([[ $- == *u* ]] && echo 1 || true)
set +u
# shellcheck disable=SC1091
source "$_cc_root/install/setup.bash"
[ -n "$_cc_nounset" ] && set -u
export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
# Faster participant discovery between the cell's processes (see the file), unless the caller
# brings a Fast DDS profile of their own.
export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$_cc_root/src/calligraphy_bringup/config/fastdds.xml}"
# Keep DDS traffic on this machine, and on a domain of this checkout's own (derived from its
# path) unless the caller chose one, so two checkouts or test runs never hear each other.
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( $(printf '%s' "$_cc_root" | cksum | cut -d' ' -f1) % 100 + 1 ))}"
export CALLIGRAPHY_ROOT="$_cc_root"
export HANZI_WRITER_DATA_DIR="$_cc_root/.deps/node_modules/hanzi-writer-data"
export MUJOCO_GL=osmesa PYOPENGL_PLATFORM=osmesa
unset _cc_root _cc_nounset
