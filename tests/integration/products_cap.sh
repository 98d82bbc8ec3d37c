# kiln.json's max_products_per_job caps what one job may make (issue 13,
# item 12): a job whose builder returns more fails with a clear reason and
# lands nothing; a value out of range is a configuration error.
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$GRAPH", "args": ["graph", "*.dep"]}],
  "hosts": 1,
  "max_products_per_job": 5
}
JSON
echo "extras 4" >"$P/Assets/few.dep"
echo "extras 9" >"$P/Assets/many.dep"

step "a job within the cap lands; one over it fails and lands nothing"
kiln batch
expect_rc 1
expect_match "$(summary)" '^2 jobs: 1 completed, 0 with warnings, 0 with errors, 1 failed; 5 products; ' "summary"
expect_eq "$(sql "SELECT s.path || ' ' || j.status || ' ' || ifnull(j.reason, '-') FROM jobs j JOIN sources s ON s.id = j.source_id ORDER BY s.path" | tr '\n' ',')" \
	"few.dep completed -,many.dep failed invalid_product," "jobs"
ID=$(sql "SELECT j.id FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = 'many.dep'")
kiln job "$ID" --json
expect_match "$(printf '%s' "$OUT" | json_get "' | '.join(l['message'] for l in d['lines'])")" \
	'the builder returned 10 products; a job may make at most 5' "the reason"
[ ! -e "$P/Cache/pc/many.dep.out" ] || fail "a product of the capped job landed"

step "a cap out of range is a configuration error at its value"
sed -i 's/"max_products_per_job": 5/"max_products_per_job": 0/' "$P/kiln.json"
kiln batch
expect_rc 2
expect_match "$ERR" 'kiln\.json:[0-9]+:[0-9]+: max_products_per_job must be an integer from 1 to 200000' "range"
echo ok
