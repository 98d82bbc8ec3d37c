# The restart policy of persistent builders, end to end: a builder that
# crashes on every job is restarted after growing gaps, given up after 5
# crashes in a row (its remaining jobs fail at once, saying so), and never
# spins; a builder whose describe is cached but that now crashes at every
# start (before reading anything) is given up the same way during analysis.
# The other builder's jobs all complete; kiln exits 1, never by a signal.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_common.sh"

FLAG="$T/crash-now"
write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [
    {"exec": "$ROGUE", "args": ["good"], "patterns": ["*.txt"]},
    {"exec": "$ROGUE", "args": ["crashy", "--note-starts"], "patterns": ["*.rog"]},
    {"exec": "$ROGUE", "args": ["flaky", "--note-starts", "--crash-if=$FLAG"], "patterns": ["*.fl"]}
  ],
  "hosts": 1
}
JSON
for i in $(seq 1 10); do echo "fine $i" >"$P/Assets/ok$i.txt"; done
for i in $(seq 1 10); do echo segv >"$P/Assets/segv$i.rog"; done
for i in 1 2 3; do echo "fine $i" >"$P/Assets/a$i.fl"; done

step "a builder that crashes on every job: 5 crashes, then its jobs are refused at once"
START=$(date +%s%N)
fkiln batch
TOOK=$((($(date +%s%N) - START) / 1000000))
fault 10
expect_rc 1
expect_match "$(summary)" '^23 jobs: 13 completed, 0 with warnings, 0 with errors, 10 failed; 13 products; ' "summary"
CRASHED=$(sql "SELECT count(*) FROM jobs WHERE status = 'failed' AND reason = 'crashed'")
REFUSED=$(sql "SELECT count(*) FROM jobs WHERE status = 'failed' AND reason = 'failed'")
echo "crashing builder: $CRASHED jobs crashed, $REFUSED refused at once; batch $TOOK ms"
expect_eq "$CRASHED" 5 "jobs that crashed the builder"
expect_eq "$REFUSED" 5 "jobs refused once it was given up"
# Every refused job's log says why, and when the next try comes.
for i in $(seq 1 10); do
	if [ "$(job_state segv$i.rog)" = "failed failed" ]; then
		expect_match "$(job_lines segv$i.rog)" 'builder given up after 5 crashes in a row \(last: killed by signal 11 \(Segmentation fault\)\); next try in [0-9]+ s' "segv$i.rog log"
	fi
done
CRASHY_STARTS=$(grep -c " start -" "$KILN_TEST_CALL_LOG" || true)
echo "process starts of the two rogue builders: $CRASHY_STARTS"
# crashy: 5 processes (the first also answered create_jobs); flaky: 1.
expect_eq "$CRASHY_STARTS" 6 "no spinning"
expect_match "$(cat "$P/Cache/logs/kiln.log")" 'ERROR \[host-0\] builder b1: builder given up after 5 crashes in a row' "the host says it gave up"
read -r N MIN MED MAX <<<"$(restart_times)"
echo "gaps before the restarts: n=$N min=$MIN ms median=$MED ms max=$MAX ms"
expect_eq "$N" 4 "restarts"
[ "$MIN" -ge 50 ] && [ "$MAX" -ge 400 ] && [ "$MAX" -lt 1500 ] || fail "restart gaps $MIN..$MAX ms, expected 50..~500"
[ "$TOOK" -lt 10000 ] || fail "the batch took $TOOK ms"

step "a builder whose describe is cached now crashes at every start: given up during analysis"
reset_calls
touch "$FLAG"
rm "$P/Assets"/segv*.rog
for i in $(seq 4 11); do echo "new $i" >"$P/Assets/a$i.fl"; done
START=$(date +%s%N)
fkiln batch
TOOK=$((($(date +%s%N) - START) / 1000000))
fault 8
echo "$ERR" | tail -n 3
expect_rc 1
FL_STARTS=$(grep -c " start -" "$KILN_TEST_CALL_LOG" || true)
echo "flaky builder: $FL_STARTS starts for 8 new sources; batch $TOOK ms"
expect_eq "$FL_STARTS" 5 "no spinning"
expect_eq "$(grep -c ' create_jobs ' "$KILN_TEST_CALL_LOG" || true)" 0 "no create_jobs answered"
# A failed analysis is recorded as a failed "create_jobs" job of its source.
AN=$(sql "SELECT j.reason, count(*) FROM jobs j JOIN sources s ON s.id = j.source_id WHERE j.job_key = 'create_jobs' GROUP BY j.reason ORDER BY j.reason" | tr '\n' ' ')
echo "failed analyses by reason: $AN"
expect_eq "$AN" "crashed|5 failed|3 " "5 crashed, 3 refused"
for i in $(seq 4 11); do
	if [ "$(job_state a$i.fl)" = "failed failed" ]; then
		expect_match "$(job_lines a$i.fl)" 'builder given up after 5 crashes in a row' "a$i.fl log"
	fi
done
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status = 'completed'")" 13 "earlier jobs untouched"
expect_match "$(cat "$P/Cache/logs/kiln.log")" 'builder b2: builder given up after 5 crashes in a row \(last: killed by signal 11 \(Segmentation fault\) before replying|builder b2: builder given up after 5 crashes in a row \(last: killed by signal 11' "given up during analysis"
[ "$TOOK" -lt 10000 ] || fail "the batch took $TOOK ms"
# Until the supervisor handles it, the host's "builder" message is logged as unexpected.
echo "supervisor lines about the new message: $(grep -c 'unexpected message type' "$P/Cache/logs/kiln.log" || true)"

step "fixed: the next batch analyses and builds everything"
rm "$FLAG"
fkiln batch
expect_rc 0
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status = 'completed'")" 21 "completed jobs"

faults_report
echo ok
