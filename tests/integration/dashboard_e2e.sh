# The dashboard in a real browser: kiln run on a project with failing,
# copied and dependent sources serves its page on a free port, and
# tests/dashboard/e2e.js drives Debian's Chromium through it (a failed job and
# its log, a regex filter, a dependency followed both ways, reprocess from the
# page). Needs scripts/setup-dashboard.sh; a missing browser or
# playwright-core fails this scenario, it is never skipped.
set -e
. "$(dirname "$0")/lib.sh"
DASH="$KILN_TESTS/dashboard"
GRAPH="$KILN_TESTS/builders/graph.py"

step "the tools are there"
command -v node >/dev/null || fail "node is missing: run scripts/setup-dashboard.sh"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing: run scripts/setup-dashboard.sh"
[ -d "$DASH/node_modules/playwright-core" ] || fail "playwright-core is missing in tests/dashboard: run scripts/setup-dashboard.sh"

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [
    {"exec": "kiln-copy", "patterns": ["*.txt"]},
    {"exec": "$ROGUE", "patterns": ["*.rog"]},
    {"exec": "$GRAPH", "args": ["graph", "*.dep"]}
  ],
  "hosts": 2,
  "http": "127.0.0.1:$PORT"
}
JSON
for s in $(seq 1 25); do
	mkdir -p "$P/Assets/textures/set$s"
	for f in $(seq 1 8); do echo "texture $s $f" >"$P/Assets/textures/set$s/t$f.txt"; done
done
echo "crash" >"$P/Assets/crash_segv.rog"
echo "fine" >"$P/Assets/again.rog"
echo "warns" >"$P/Assets/noisy_warn.rog"
printf 'plain\n' >"$P/Assets/tex.dep"
printf 'dep tex.dep\npathdep tex.dep.out\n' >"$P/Assets/level.dep"

step "kiln run serves the dashboard"
"$KILN_BIN/kiln" -p "$P" run >"$T/run.out" 2>&1 &
RUN=$!
stop_run() { kill -TERM "$RUN" 2>/dev/null || true; wait "$RUN" 2>/dev/null || true; }
trap 'stop_run; cleanup' EXIT
for _ in $(seq 1 400); do
	grep -q "dashboard: http://127.0.0.1:$PORT/" "$T/run.out" && break
	kill -0 "$RUN" 2>/dev/null || fail "kiln run ended: $(cat "$T/run.out")"
	sleep 0.05
done
grep -q "dashboard: http://127.0.0.1:$PORT/" "$T/run.out" || fail "no dashboard line: $(cat "$T/run.out")"
ready=0
for _ in $(seq 1 600); do
	if "$KILN_BIN/kiln" -p "$P" status --json 2>/dev/null | $PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["ready"] and d["state"]=="idle" and d["jobs_remaining"]==0 else 1)'; then
		ready=1
		break
	fi
	sleep 0.1
done
[ $ready = 1 ] || fail "never idle: $(cat "$T/run.out")"

step "the browser drives the page"
(cd "$DASH" && timeout 150 node e2e.js "http://127.0.0.1:$PORT/" "$KILN_TEST_CALL_LOG") || fail "the dashboard's browser test failed"

step "kiln run stops cleanly with the dashboard"
kill -TERM "$RUN"
set +e
wait "$RUN"
RRC=$?
set -e
expect_eq "$RRC" 0 "exit code after SIGTERM"
echo ok
