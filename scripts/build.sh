#!/usr/bin/env bash
# build.sh [DIR] [cmake options...]: configures and builds kiln into DIR
# (default build/) with ninja, two jobs at a time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$here/build}
shift || true
cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=ON "$@" >/dev/null
ninja -C "$dir" -j2
