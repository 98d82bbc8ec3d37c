# Job dependencies (order, fingerprint, cycles), two jobs making one product,
# adding a platform, and deleting a folder.
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$GRAPH", "args": ["graph", "*.dep"]}],
  "hosts": 2
}
JSON
A="$P/Assets"
mkdir -p "$A/folder/inner"
printf 'jobdep j2.dep\n' >"$A/j1.dep"
printf 'sleep 1\n' >"$A/j2.dep"
printf 'jobdep j4.dep fingerprint\n' >"$A/j3.dep"
printf 'plain j4\n' >"$A/j4.dep"
printf 'jobdep k2.dep\n' >"$A/k1.dep"
printf 'jobdep k1.dep\n' >"$A/k2.dep"
printf 'out same.out\n' >"$A/d1.dep"
printf 'out same.out\nother\n' >"$A/d2.dep"
for i in 1 2 3; do echo "plain $i" >"$A/folder/f$i.dep"; done
echo "plain in" >"$A/folder/inner/g.dep"

col() { sql "SELECT j.$2 FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1' AND j.platform = '${3:-pc}'"; }

step "a batch with an order dependency, a cycle and a duplicate product ends"
kiln batch
expect_rc 1
[ "$(col j1.dep started_at)" -ge "$(col j2.dep completed_at)" ] || fail "j1 started before j2 finished"
expect_eq "$(col j1.dep status)" completed "j1"
expect_eq "$(col j2.dep status)" completed "j2"
K1=$(col k1.dep status)
K2=$(col k2.dep status)
[ "$K1" = failed ] || [ "$K2" = failed ] || fail "a job dependency cycle did not fail (k1 $K1, k2 $K2)"
kiln jobs --status failed --json
expect_match "$OUT" "k[12].dep" "the cycle is listed"
KF=$(printf '%s' "$OUT" | json_get '[j["id"] for j in d if j["source"].startswith("k")][0]')
kiln job "$KF" --json
expect_match "$(printf '%s' "$OUT" | json_get '" ".join(l["message"] for l in d["lines"])')" "cycle" "the log names the cycle"
expect_eq "$(col d1.dep status)" failed "d1 fails"
expect_eq "$(col d2.dep status)" failed "d2 fails"
expect_eq "$(col d1.dep reason)" invalid_product "d1 reason"
kiln job "$(col d1.dep id)" --json
expect_match "$(printf '%s' "$OUT" | json_get '" ".join(l["message"] for l in d["lines"])')" "d2.dep" "d1's log names d2"
kiln job "$(col d2.dep id)" --json
expect_match "$(printf '%s' "$OUT" | json_get '" ".join(l["message"] for l in d["lines"])')" "d1.dep" "d2's log names d1"

step "a fingerprint job dependency reruns its dependant"
rm "$A/k1.dep" "$A/k2.dep" "$A/d2.dep"
kiln batch
expect_rc 0
reset_calls
printf 'plain j4 changed\n' >"$A/j4.dep"
kiln batch
expect_rc 0
expect_eq "$(grep process_job "$KILN_TEST_CALL_LOG" | cut -d' ' -f3 | sort | tr '\n' ' ')" "j3.dep j4.dep " "j3 follows j4"
expect_eq "$(col j3.dep run_reason)" "a job it depends on changed its fingerprint" "reason"

step "adding a platform runs only the new platform's jobs"
write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "builders": [{"exec": "$GRAPH", "args": ["graph", "*.dep"]}],
  "hosts": 2
}
JSON
reset_calls
kiln batch
expect_rc 0
expect_eq "$(grep process_job "$KILN_TEST_CALL_LOG" | grep -vc ' linux$' || true)" 0 "no pc job ran"
expect_eq "$(grep -c 'process_job .* linux$' "$KILN_TEST_CALL_LOG")" "$(sql "SELECT count(*) FROM jobs WHERE platform = 'linux'")" "every linux job ran"
[ -f "$P/Cache/linux/folder/f1.dep.out" ] || fail "linux product"

step "deleting a folder deletes its sources"
rm -r "$A/folder"
kiln batch
expect_rc 0
expect_eq "$(sql "SELECT count(*) FROM sources WHERE path LIKE 'folder/%'")" 0 "sources"
[ ! -e "$P/Cache/pc/folder" ] && [ ! -e "$P/Cache/linux/folder" ] || fail "products of the folder are left"
echo ok
