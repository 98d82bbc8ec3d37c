# A builder whose reply breaks the protocol in a way only a full decode sees
# ("products" a string), or whose reply would blow up in memory (16 MiB of
# nils), fails its job as protocol_error and is restarted, so the next job
# on the same host runs at once (issue 13, item 11: the rejected builder was
# kept, and the next plain job hung until its timeout).
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$ROGUE", "args": ["--note-starts"], "timeout_s": 30}],
  "hosts": 1
}
JSON
echo bad >"$P/Assets/a-wrongtype.rog"
echo bad >"$P/Assets/a-nilbomb.rog"
for i in 1 2 3; do echo "fine $i" >"$P/Assets/b$i.rog"; done

step "the bad reply fails its job; the jobs after it on the same host complete"
start=$(date +%s)
kiln batch
took=$(($(date +%s) - start))
expect_rc 1
expect_match "$(summary)" '^5 jobs: 3 completed, 0 with warnings, 0 with errors, 2 failed; ' "summary"
for bad in a-wrongtype.rog a-nilbomb.rog; do
	expect_eq "$(sql "SELECT status || ' ' || reason FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$bad'")" \
		"failed protocol_error" "the bad job $bad"
done
ID=$(sql "SELECT j.id FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = 'a-nilbomb.rog'")
kiln job "$ID" --json
expect_match "$(printf '%s' "$OUT" | json_get "' | '.join(l['message'] for l in d['lines'])")" "more than 4194304 MessagePack objects" "why the nil frame failed"
# Not one of the jobs after it waited for its 30 s timeout.
[ "$took" -lt 25 ] || fail "the batch took $took s: a job waited for its timeout"
# The builder was started again after the bad reply.
STARTS=$(grep -c ' start -' "$KILN_TEST_CALL_LOG" || true)
[ "$STARTS" -ge 3 ] || fail "the builder was not restarted after its bad reply ($STARTS starts)"
echo ok
