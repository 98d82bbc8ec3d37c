# A builder that segfaults on one file fails only that job (crashed), the
# batch exits 1, every other job completes, the failed job's log holds the
# signal, and the next batch retries that job. The same for the other ways
# a builder can die or lie.
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$ROGUE", "timeout_s": 2}],
  "hosts": 2
}
JSON
for i in $(seq 1 12); do echo "fine $i" >"$P/Assets/ok$i.rog"; done
for m in segv abort exit3 noreply hang garbage huge wrongtype escape absolute missing noproduct fail; do
	echo "$m" >"$P/Assets/$m.rog"
done
echo w >"$P/Assets/warn.rog"
echo e >"$P/Assets/error.rog"

step "one batch: misbehaving jobs fail with the right reason, the rest complete"
kiln batch
expect_rc 1
expect_match "$(summary)" '^27 jobs: 12 completed, 1 with warnings, 1 with errors, 13 failed; 14 products; ' "summary"
reason() { sql "SELECT j.status || ' ' || coalesce(j.reason, '-') FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1'"; }
expect_eq "$(reason segv.rog)" "failed crashed" "segv"
expect_eq "$(reason abort.rog)" "failed crashed" "abort"
expect_eq "$(reason exit3.rog)" "failed crashed" "exit 3"
expect_eq "$(reason noreply.rog)" "failed crashed" "exit 0 without a reply"
expect_eq "$(reason hang.rog)" "failed timeout" "hang"
expect_eq "$(reason garbage.rog)" "failed protocol_error" "garbage"
expect_eq "$(reason huge.rog)" "failed protocol_error" "4 GiB prefix"
expect_eq "$(reason wrongtype.rog)" "failed protocol_error" "wrong field type"
expect_eq "$(reason escape.rog)" "failed invalid_product" "product leaving temp dir"
expect_eq "$(reason absolute.rog)" "failed invalid_product" "absolute product"
expect_eq "$(reason missing.rog)" "failed invalid_product" "missing product"
expect_eq "$(reason noproduct.rog)" "failed failed" "no products"
expect_eq "$(reason fail.rog)" "failed failed" "result failed"
expect_eq "$(reason warn.rog)" "completed_warning -" "warning"
expect_eq "$(reason error.rog)" "completed_error -" "error"
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status = 'completed'")" 12 "completed"
[ -z "$(find "$P/Cache" -name absolute.bin)" ] || fail "a product named by an absolute path landed: $(find "$P/Cache" -name absolute.bin)"
[ ! -e "$P/Cache/escaped.bin" ] && [ ! -e "$P/escaped.bin" ] || fail "an escaping product landed"
expect_match "$ERR" 'segv\.rog.*reason=crashed' "failed jobs listed on stderr"

step "the crashed job's log holds the signal and the builder's last stderr lines"
kiln job "$(sql "SELECT j.id FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = 'segv.rog'")" --json
expect_rc 1 # the asked-for job failed
LINES=$(printf '%s' "$OUT" | json_get '"\n".join(l["message"] for l in d["lines"])')
expect_match "$LINES" 'signal 11' "signal in the log"
expect_match "$LINES" 'processing segv.rog' "stderr tail in the log"
kiln job "$(sql "SELECT j.id FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = 'warn.rog'")" --json
expect_match "$(printf '%s' "$OUT" | json_get '[l for l in d["lines"] if l["level"] == "warning"][0]["context"]["file"]')" 'warn.rog' "warning context"

step "the next batch retries the failed jobs and only those"
reset_calls
rm "$P/Assets/hang.rog" # keep the retry quick
kiln batch
expect_rc 1
expect_match "$(summary)" '^12 jobs: 0 completed, 0 with warnings, 0 with errors, 12 failed; 0 products; ' "retry summary"
expect_eq "$(grep process_job "$KILN_TEST_CALL_LOG" | grep -c ok || true)" 0 "completed jobs not rerun"

step "once the sources are fixed, the retry completes them"
for m in segv abort exit3 noreply garbage huge wrongtype escape absolute missing noproduct fail; do
	mv "$P/Assets/$m.rog" "$P/Assets/fixed-${m:0:1}${#m}.rog"
done
kiln batch
expect_rc 0
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status = 'failed'")" 0 "failed left"
echo ok
