# A builder host killed with SIGKILL mid-job: that job fails with
# host_lost, a new host takes its place, and the batch still finishes.
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$ROGUE"}],
  "hosts": 1
}
JSON
echo slow >"$P/Assets/a-slow.rog"
for i in $(seq 1 10); do echo "fine $i" >"$P/Assets/b$i.rog"; done

step "kill the only host while it runs the slow job"
( set +e; timeout 120 "$KILN_BIN/kiln" -p "$P" batch >"$T/bout" 2>"$T/berr"; echo $? >"$T/brc" ) &
for _ in $(seq 1 200); do
	grep -q "process_job a-slow.rog" "$KILN_TEST_CALL_LOG" && break
	sleep 0.05
done
grep -q "process_job a-slow.rog" "$KILN_TEST_CALL_LOG" || fail "the slow job never started"
HOST=$(pgrep -f "kiln-builder-host --connect ipc://$P/" | head -n 1)
[ -n "$HOST" ] || fail "no builder host found"
kill -KILL "$HOST"
wait
RC=$(cat "$T/brc")
OUT=$(cat "$T/bout")
expect_eq "$RC" 1 "batch exit code"
expect_match "$(summary)" '^11 jobs: 10 completed, 0 with warnings, 0 with errors, 1 failed; 10 products; ' "summary"
expect_eq "$(sql "SELECT j.reason FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = 'a-slow.rog'")" host_lost "reason"
expect_match "$(cat "$P/Cache/logs/kiln.log")" "builder host 0 \\(pid $HOST\\) was killed by signal 9" "supervisor log"
kill -0 "$HOST" 2>/dev/null && fail "the killed host is still there"

step "the next batch retries the lost job"
kiln batch
expect_rc 0
expect_match "$(summary)" '^1 jobs: 1 completed' "retry"
echo ok
