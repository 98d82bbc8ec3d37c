# The restart policy of persistent builders, end to end. A builder that
# crashes on every job is restarted after growing gaps; after 5 crashes in a
# row a fresh process is asked to describe itself first, and as it can, the
# crashes are taken for its inputs' fault: it is never given up, and every
# job fails on its own ("crashed"). A builder whose describe is cached but
# that now crashes at every start (before reading anything) fails that
# probe too and is given up during analysis: the rest of its frames are
# refused at once, saying so, and it never spins. The other builder's jobs
# all complete; kiln exits 1, never by a signal.
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

step "a builder that crashes on every job: each job crashes, the builder is never given up"
START=$(date +%s%N)
fkiln batch
TOOK=$((($(date +%s%N) - START) / 1000000))
fault 10
expect_rc 1
expect_match "$(summary)" '^23 jobs: 13 completed, 0 with warnings, 0 with errors, 10 failed; 13 products; ' "summary"
CRASHED=$(sql "SELECT count(*) FROM jobs WHERE status = 'failed' AND reason = 'crashed'")
echo "crashing builder: $CRASHED jobs crashed; batch $TOOK ms"
expect_eq "$CRASHED" 10 "jobs that crashed the builder"
expect_match "$(job_lines segv7.rog)" 'killed by signal 11' "a crash in the job log"
STARTS=$(grep -c " start -" "$KILN_TEST_CALL_LOG" || true)
echo "process starts of the two rogue builders: $STARTS"
# crashy: one process per job (the first also answered create_jobs, the
# probe's served the sixth job); flaky: 1.
expect_eq "$STARTS" 11 "process starts"
KLOG=$(cat "$P/Cache/logs/kiln.log")
expect_match "$KLOG" 'INFO \[host-0\] builder b1: described itself after 5 crashes in a row: the builder works, its inputs crashed it' "the probe after 5 crashes"
! printf '%s\n' "$KLOG" | grep -q 'given up' || fail "a builder was given up"
read -r N MIN MED MAX <<<"$(restart_times)"
echo "gaps before the restarts: n=$N min=$MIN ms median=$MED ms max=$MAX ms"
expect_eq "$N" 9 "restarts"
[ "$MIN" -ge 50 ] && [ "$MAX" -ge 800 ] && [ "$MAX" -lt 2000 ] || fail "restart gaps $MIN..$MAX ms, expected 50..~1000"
[ "$TOOK" -lt 15000 ] || fail "the batch took $TOOK ms"

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
# Five crashes and the probe.
expect_eq "$FL_STARTS" 6 "no spinning"
expect_eq "$(grep -c ' create_jobs ' "$KILN_TEST_CALL_LOG" || true)" 0 "no create_jobs answered"
# A failed analysis is recorded as a failed "create_jobs" job of its source.
AN=$(sql "SELECT j.reason, count(*) FROM jobs j JOIN sources s ON s.id = j.source_id WHERE j.job_key = 'create_jobs' GROUP BY j.reason ORDER BY j.reason" | tr '\n' ' ')
echo "failed analyses by reason: $AN"
expect_eq "$AN" "crashed|5 failed|3 " "5 crashed, 3 refused"
for i in $(seq 4 11); do
	if [ "$(job_state a$i.fl)" = "failed failed" ]; then
		expect_match "$(job_lines a$i.fl)" 'builder given up after 5 crashes in a row and a failed describe' "a$i.fl log"
	fi
done
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status = 'completed'")" 13 "earlier jobs untouched"
expect_match "$(cat "$P/Cache/logs/kiln.log")" 'ERROR \[host-0\] builder b2: builder given up after 5 crashes in a row and a failed describe \(last: killed by signal 11 \(Segmentation fault\)\); next try in 60 s' "given up during analysis"
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
