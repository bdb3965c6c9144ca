#!/usr/bin/env bash
# Sets up the calligraphy cell workspace on a fresh Debian 12 / Python 3.11 machine, as root.
# Idempotent: each stage checks what is already there and does only what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMPS="$ROOT/.setup"
PYTHON="${PYTHON:-python3}"
HANZI_WRITER_DATA_VERSION=2.0.1
APT_PACKAGES=(libosmesa6 libgl1 fonts-arphic-ukai fonts-arphic-uming fonts-cwtex-kai fonts-dejavu-core libusb-1.0-0 cmake g++)

mkdir -p "$STAMPS"
log() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages: MuJoCo offscreen rendering (OSMesa), Kaiti/Mingti fonts (cwTeX Kai: the
#    held-out Kaiti font of the stroke-order figure), librealsense's USB runtime, the C++
#    toolchain that colcon needs for the interface package, npm for stroke data.
# One dpkg-query for all of them: one per package took 0.14 s of every `make demo`.
installed=" $(dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null \
  | awk '/ install ok installed$/ {printf "%s ", $1}' || true) "
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  [[ "$installed" == *" $pkg "* ]] || missing+=("$pkg")
done
# The machine image may ship its own Node.js; take Debian's npm only where there is none.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# 2. Virtual environment with the pinned requirements. torch goes first, alone, so that the CPU
#    build is the one installed (any later requirement that names torch finds it satisfied).
req_hash="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment at .venv"
  "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$STAMPS/requirements.sha256" 2>/dev/null)" != "$req_hash" ]; then
  log "pip: installing pinned requirements (torch CPU first)"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q torch==2.13.0
  "$VENV/bin/pip" install -q -r requirements.txt
  echo "$req_hash" > "$STAMPS/requirements.sha256"
fi

# 3. The ROS wheels' CMake export files name the wheel build machine's Python and numpy include
#    directories; point them at this interpreter's so rosidl_generate_interfaces can build.
#    Asked of the interpreter only where a file needs it. The files are read again only when a
#    folder under share/ changed since the last check (pip adding, removing or rewriting a
#    package's files): reading the 1,000 of them was 0.17 s of every `make demo` with a cold page
#    cache.
paths_stamp="$STAMPS/cmake-paths.stamp"
if [ ! -f "$paths_stamp" ] || [ -n "$(find "$VENV/share" -maxdepth 2 -newer "$paths_stamp" -print -quit)" ]; then
  stale=$(grep -rl '/opt/python/cp311-cp311' "$VENV"/share/*/cmake/ 2>/dev/null || true)
  if [ -n "$stale" ]; then
    py_include="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
    np_include="$("$VENV/bin/python" -c 'import numpy; print(numpy.get_include())')"
    log "cmake: rewriting wheel build paths in $(echo "$stale" | wc -l) export files"
    echo "$stale" | xargs sed -i \
      -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#${np_include}#g" \
      -e "s#/opt/python/cp311-cp311/include/python3.11#${py_include}#g"
  fi
  touch "$paths_stamp"
fi

# 4. Stroke-order data (hanzi-writer-data, Arphic Public License) from npm.
data_pkg="$ROOT/.deps/node_modules/hanzi-writer-data/package.json"
if ! grep -q "\"version\": \"$HANZI_WRITER_DATA_VERSION\"" "$data_pkg" 2>/dev/null; then
  log "npm: installing hanzi-writer-data@$HANZI_WRITER_DATA_VERSION"
  mkdir -p "$ROOT/.deps"
  npm install --prefix "$ROOT/.deps" --no-audit --no-fund --loglevel=error \
    "hanzi-writer-data@$HANZI_WRITER_DATA_VERSION"
fi

# 5. colcon build of src/ — only when a source file changed since the last successful build.
#    Serialised with a lock: two shells building one workspace at once corrupt build/.
exec 9>"$STAMPS/colcon.lock"
flock 9
if [ ! -f "$STAMPS/colcon.stamp" ] || [ ! -f install/setup.bash ] \
  || [ -n "$(find src launch urdf test/ros_interfaces -newer "$STAMPS/colcon.stamp" -print -quit)" ]; then
  log "colcon: building src/"
  # shellcheck disable=SC1091
  source "$VENV/bin/activate"
  export CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV"
  # test/ros_interfaces: upstream interfaces no registry here ships (control_msgs), for tests.
  colcon --log-base build/log build --symlink-install --base-paths src test/ros_interfaces \
    --event-handlers console_cohesion- summary+ \
    --cmake-args -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF
  # Bytecode for our sources, once per build: where PYTHONDONTWRITEBYTECODE is set (this machine
  # and CI) every process of the cell compiled the modules it imports at each start, about
  # 0.15 s of CPU in the writer's process. Python checks each file's stamp: an edited source is
  # compiled again, never read stale.
  "$VENV/bin/python" -m compileall -q src >/dev/null
  touch "$STAMPS/colcon.stamp"
fi
log "ready: source env.sh"
