# kiln run notices a builder's file changing (issue 13, item 6): editing the
# script of a registered builder restarts its process at its next job, it is
# described again, and its new version reprocesses its jobs, with no kiln
# scan or restart. Before, nothing changed until kiln run was restarted.
set -e
. "$(dirname "$0")/lib.sh"
mkdir -p "$P/tools"
cp "$ROGUE" "$P/tools/b.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "/usr/bin/python3", "args": ["tools/b.py", "--note-starts", "changing"]}],
  "hosts": 1
}
JSON
echo "one" >"$P/Assets/a.rog"

"$KILN_BIN/kiln" -p "$P" run >"$T/run.out" 2>&1 &
RUN=$!
stop_run() { kill -TERM "$RUN" 2>/dev/null || true; wait "$RUN" 2>/dev/null || true; }
trap 'rc=$?; [ $rc -eq 0 ] || tail -n 30 "$T/run.out"; stop_run; (exit $rc); cleanup' EXIT

step "the first run processes a.rog with version 1"
wait_for 30 '[ -f "$P/Cache/pc/a.rog" ]' || fail "a.rog was never processed"
wait_for 10 '"$KILN_BIN/kiln" -p "$P" status --json 2>/dev/null | grep -q "\"ready\": true"' || fail "never ready"
kiln builders --json
expect_eq "$(printf '%s' "$OUT" | json_get '[b["version"] for b in d if b["name"] == "changing"]')" "['1']" "version before"
FIRST=$(grep -m1 ' process_job a.rog' "$KILN_TEST_CALL_LOG" | cut -d' ' -f1)

step "editing the builder's script reprocesses its jobs with a new process"
reset_calls
sed -i 's/os.environ.get("KILN_TEST_ROGUE_VERSION", "1")/"2"/' "$P/tools/b.py"
wait_for 30 'grep -q " process_job a.rog" "$KILN_TEST_CALL_LOG"' || fail "a.rog was not processed again after the builder changed"
SECOND=$(grep -m1 ' process_job a.rog' "$KILN_TEST_CALL_LOG" | cut -d' ' -f1)
[ "$SECOND" != "$FIRST" ] || fail "the same builder process ($FIRST) served the job after its script changed"
kiln builders --json
expect_eq "$(printf '%s' "$OUT" | json_get '[b["version"] for b in d if b["name"] == "changing"]')" "['2']" "version after"
wait_for 10 '[ "$(sql "SELECT run_reason FROM jobs")" = "builder version or analysis fingerprint changed" ]' ||
	fail "run reason: $(sql "SELECT run_reason FROM jobs")"
echo ok
