# The first batch processes everything; a second one runs no job and calls
# no builder; touching a file runs nothing; changing one file runs exactly
# its jobs; deleting a source removes its products and rows.
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "project": "basic",
  "platforms": ["pc", "linux", "mac"],
  "scan_folders": [{"path": "Assets"}],
  "builders": [
    {"exec": "kiln-copy", "patterns": ["*.ogg", "*.wav"]},
    {"exec": "$ROGUE", "args": ["rogue"]}
  ],
  "hosts": 2
}
JSON
mkdir -p "$P/Assets/music" "$P/Assets/text files"
for i in $(seq 1 20); do echo "sound $i" >"$P/Assets/music/s$i.ogg"; done
for i in $(seq 1 10); do echo "text $i" >"$P/Assets/text files/T$i.txt"; done
echo "not a source" >"$P/Assets/readme.md"

step "first batch processes every source for every platform"
kiln batch
expect_rc 0
expect_eq "$(summary)" "$(summary | grep -E '^90 jobs: 90 completed, 0 with warnings, 0 with errors, 0 failed; 90 products; [0-9.]+ s$')" "summary line"
[ -f "$P/Cache/pc/music/s1.ogg" ] || fail "missing pc product"
[ -f "$P/Cache/mac/text files/t10.txt" ] || fail "product paths are lowercased"
cmp -s "$P/Assets/music/s7.ogg" "$P/Cache/linux/music/s7.ogg" || fail "product content differs"
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status='completed'")" 90 "completed jobs"
expect_eq "$(sql "SELECT count(*) FROM products")" 90 "products"
expect_eq "$(ls "$P/Cache/logs/jobs" | wc -l | tr -d ' ')" 90 "one log per job run"
[ "$(find "$P/Cache/tmp" -type f)" = "" ] || fail "files left in the temp dirs"

step "a second batch runs no job and calls no builder"
reset_calls
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs: 0 completed, 0 with warnings, 0 with errors, 0 failed; 0 products; ' "no-op summary"
expect_eq "$(calls)" 0 "builder calls on a no-op batch"

step "touching a file without changing it runs nothing"
touch "$P/Assets/music/s3.ogg" "$P/Assets/text files/T2.txt"
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs:' "touch summary"
expect_eq "$(calls)" 0 "builder calls after touch"

step "changing one file runs exactly its jobs"
echo "changed" >>"$P/Assets/text files/T4.txt"
kiln batch
expect_rc 0
expect_match "$(summary)" '^3 jobs: 3 completed' "one source, three platforms"
expect_eq "$(calls process_job)" 3 "process_job calls"
expect_eq "$(grep process_job "$KILN_TEST_CALL_LOG" | cut -d' ' -f3- | sort -u)" "text files/T4.txt" "which source ran"
cmp -s "$P/Assets/text files/T4.txt" "$P/Cache/pc/text files/t4.txt" || fail "changed product not updated"

step "deleting a source removes its products and rows"
rm "$P/Assets/music/s5.ogg"
kiln batch
expect_rc 0
for pl in pc linux mac; do
	[ ! -e "$P/Cache/$pl/music/s5.ogg" ] || fail "product of deleted source left in $pl"
done
expect_eq "$(sql "SELECT count(*) FROM sources WHERE path='music/s5.ogg'")" 0 "source row"
expect_eq "$(sql "SELECT count(*) FROM jobs")" 87 "job rows"
expect_eq "$(sql "SELECT count(*) FROM products")" 87 "product rows"

step "a product deleted from the cache is made again"
rm "$P/Cache/linux/music/s9.ogg"
reset_calls
kiln batch
expect_rc 0
expect_match "$(summary)" '^1 jobs: 1 completed' "regenerate summary"
[ -f "$P/Cache/linux/music/s9.ogg" ] || fail "product not regenerated"

step "--json listings parse and hold the documented keys"
kiln jobs --json
expect_rc 0
expect_eq "$(printf '%s' "$OUT" | json_get 'len(d)')" 87 "jobs --json length"
expect_eq "$(printf '%s' "$OUT" | json_get 'sorted(set(d[0].keys()) & {"id","source","scan_folder","builder","job_key","platform","status","reason","warnings","errors","completed_at","duration_ms","log"}) == sorted(["id","source","scan_folder","builder","job_key","platform","status","reason","warnings","errors","completed_at","duration_ms","log"])')" True "jobs keys"
kiln products --json
expect_rc 0
expect_eq "$(printf '%s' "$OUT" | json_get 'len(d)')" 87 "products --json length"
expect_match "$(printf '%s' "$OUT" | json_get 'd[0]["asset_id"]')" '^\{[0-9a-f-]{36}\}:[0-9a-f]+$' "asset id form"
kiln builders --json
expect_rc 0
expect_eq "$(printf '%s' "$OUT" | json_get 'sorted(b["name"] for b in d)')" "['kiln-copy', 'rogue']" "builders"
kiln assets --json
expect_eq "$(printf '%s' "$OUT" | json_get 'len(d)')" 29 "assets"
echo "ok"
