#!/usr/bin/env bash
# screenshots.sh: makes a project of a few thousand jobs (some failing, some
# with warnings, a few dependencies), runs `kiln run` on it and takes a
# screenshot of every tab of the dashboard into OUTDIR (supervisor/dash/web/screenshots by
# default).   tests/dashboard/screenshots.sh BUILD_BIN_DIR [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
bin=${1:?usage: screenshots.sh BUILD_BIN_DIR [OUTDIR]}
out=${2:-$src/supervisor/dash/web/screenshots}
T=$(mktemp -d /tmp/kiln-shots.XXXXXX)
P="$T/game"
RUN=
trap '[ -n "$RUN" ] && kill -TERM $RUN 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$P/Assets"
cat >"$P/kiln.json" <<JSON
{
  "project": "stonebridge",
  "platforms": ["pc", "linux"],
  "builders": [
    {"exec": "kiln-copy", "patterns": ["*.txt", "*.wav"]},
    {"exec": "$src/tests/builders/rogue.py", "patterns": ["*.rog"]},
    {"exec": "$src/tests/builders/graph.py", "args": ["graph", "*.dep"]}
  ],
  "hosts": 2,
  "http": "127.0.0.1:$port"
}
JSON
for area in env chars props ui fx; do
	for s in $(seq 1 12); do
		d="$P/Assets/textures/$area/set$s"
		mkdir -p "$d"
		for f in $(seq 1 20); do echo "$area $s $f" >"$d/${area}_${s}_$f.txt"; done
	done
done
mkdir -p "$P/Assets/sounds" "$P/Assets/scripts" "$P/Assets/levels"
for f in $(seq 1 40); do echo "sound $f" >"$P/Assets/sounds/sfx_$f.wav"; done
for f in $(seq 1 30); do echo "ok" >"$P/Assets/scripts/logic_$f.rog"; done
for f in $(seq 1 6); do echo "x" >"$P/Assets/scripts/crash_segv_$f.rog"; done
for f in $(seq 1 5); do echo "x" >"$P/Assets/scripts/bad_fail_$f.rog"; done
for f in $(seq 1 8); do echo "x" >"$P/Assets/scripts/noisy_warn_$f.rog"; done
for f in $(seq 1 10); do printf 'tex %d\n' "$f" >"$P/Assets/levels/tile_$f.dep"; done
for f in $(seq 1 5); do printf 'dep tile_%d.dep\npathdep levels/tile_%d.dep.out\n' "$f" "$f" >"$P/Assets/levels/level_$f.dep"; done

"$bin/kiln" -p "$P" run >"$T/run.out" 2>&1 &
RUN=$!
for _ in $(seq 1 1200); do
	if "$bin/kiln" -p "$P" status --json 2>/dev/null | python3 2>/dev/null -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["state"]=="idle" and d["jobs_remaining"]==0 and d["jobs_active"]==0 else 1)'; then
		break
	fi
	sleep 0.25
done
"$bin/kiln" -p "$P" status
mkdir -p "$out"
(cd "$here" && node shots.js "http://127.0.0.1:$port/" "$out")
ls -la "$out"
