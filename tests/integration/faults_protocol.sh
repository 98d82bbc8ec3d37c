# The rest of the fault matrix (builder_faults.sh has segv, abort, exit 3,
# exit 0 without a reply, hang, garbage, a 4 GiB length prefix, wrong field
# types, `..` and absolute products, a missing product): endless stderr, a
# product that is a symbolic link out of the temp dir, duplicate sub_ids.
# For each: the job's status and reason, a job log that explains it, the
# other jobs complete, kiln exits 1 and not by a signal. Then the time from a
# builder's crash to its replacement taking the next job.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_common.sh"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$ROGUE", "timeout_s": 3}],
  "hosts": 2
}
JSON
for i in $(seq 1 10); do echo "fine $i" >"$P/Assets/ok$i.rog"; done
for m in endless symlink dupsub; do echo "$m" >"$P/Assets/$m.rog"; done

step "endless stderr, a symlink product and duplicate sub_ids fail their jobs only"
START=$(date +%s%N)
fkiln batch
TOOK=$((($(date +%s%N) - START) / 1000000))
fault 3
expect_rc 1
expect_match "$(summary)" '^13 jobs: 10 completed, 0 with warnings, 0 with errors, 3 failed; 10 products; ' "summary"
echo "batch with an endless stderr writer (timeout 3 s): $TOOK ms"
[ "$TOOK" -lt 15000 ] || fail "the batch took $TOOK ms; the endless writer should end at its 3 s timeout"

expect_eq "$(job_state endless.rog)" "failed timeout" "endless stderr"
LOG=$(sql "SELECT j.log FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = 'endless.rog'")
SIZE=$(stat -c %s "$LOG")
echo "endless stderr: job log $SIZE bytes"
[ "$SIZE" -le $((4 * 1024 * 1024 + 65536)) ] || fail "the job log of the endless writer is $SIZE bytes, over its 4 MiB cap"
LINES=$(job_lines endless.rog)
expect_match "$LINES" 'endless line [0-9]+' "the builder's lines are in the log"
expect_match "$LINES" 'no reply within 3 s' "the timeout is in the log"
expect_match "$LINES" 'stderr truncated: [0-9]+ more bytes dropped|log capped at' "the cut is said"

expect_eq "$(job_state symlink.rog)" "failed invalid_product" "a symlink out of the temp dir"
SYM=$(job_lines symlink.rog | grep "link.bin" | head -n 1)
echo "symlink product: $SYM"
expect_match "$SYM" "link\\.bin" "the log names the product"
[ ! -e "$P/Cache/pc/link.bin" ] && [ ! -L "$P/Cache/pc/link.bin" ] || fail "the symlink product landed"

DUP=$(job_state dupsub.rog)
echo "duplicate sub_ids: $DUP; $(job_lines dupsub.rog | grep -i "sub_id" | head -n 1)"
expect_eq "$DUP" "failed invalid_product" "duplicate sub_ids"
expect_match "$(job_lines dupsub.rog)" 'sub_id' "the log names the sub_id"
[ ! -e "$P/Cache/pc/one.bin" ] && [ ! -e "$P/Cache/pc/two.bin" ] || fail "a product of the duplicate job landed"

step "restart time: one persistent builder, crashes among good files"
rm -f "$P/Assets/endless.rog" "$P/Assets/symlink.rog" "$P/Assets/dupsub.rog"
sed -i 's/"hosts": 2/"hosts": 1/' "$P/kiln.json"
for i in $(seq 1 6); do echo segv >"$P/Assets/r${i}-segv.rog"; done
for i in $(seq 1 30); do echo "fine $i" >"$P/Assets/r$i.rog"; done
fkiln batch
fault 6
expect_rc 1
expect_match "$(summary)" '^36 jobs: 30 completed, 0 with warnings, 0 with errors, 6 failed; ' "summary"
for i in $(seq 1 6); do expect_eq "$(job_state r${i}-segv.rog)" "failed crashed" "r$i-segv"; done
# One bad file at a time never gives the builder up.
! grep -q 'given up' "$P/Cache/logs/kiln.log" || fail "a builder was given up"
read -r N MIN MED MAX <<<"$(restart_times)"
echo "restart after a crash (crash noted -> replacement started for the next job): n=$N min=${MIN} ms median=${MED} ms max=${MAX} ms"
[ "$N" -ge 6 ] || fail "only $N restarts seen in kiln.log"
[ "$MAX" -lt 1000 ] || fail "a restart took $MAX ms"

faults_report
echo ok
