# An intermediate product and the final product made from it at the same
# relative path (issue 13, item 3): the intermediate lives under
# Cache/intermediate/, the final one under Cache/pc/, and both are stored,
# listed and in the catalog; before, the second row hit UNIQUE(platform,
# path), kiln.log said so, and the job still reported completed.
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [
    {"exec": "$GRAPH", "args": ["first", "*.dep"]},
    {"exec": "$GRAPH", "args": ["second", "*.txt"]}
  ],
  "hosts": 2
}
JSON
mkdir -p "$P/Assets/things"
printf 'inter first things/mid.txt\noutfor second things/mid.txt\n' >"$P/Assets/things/top.dep"

step "the chain lands both products, each in its place"
kiln batch
expect_rc 0
expect_match "$(summary)" '^2 jobs: 2 completed, 0 with warnings, 0 with errors, 0 failed; ' "summary"
[ -f "$P/Cache/intermediate/things/mid.txt" ] || fail "no intermediate"
[ -f "$P/Cache/pc/things/mid.txt" ] || fail "no final product"
! grep -q 'UNIQUE constraint' "$P/Cache/logs/kiln.log" || fail "a product row collided: $(grep -m1 UNIQUE "$P/Cache/logs/kiln.log")"

step "the database, listings and catalog hold both"
expect_eq "$(sql "SELECT platform || ':' || path FROM products ORDER BY platform, path" | tr '\n' ' ')" \
	"intermediate:things/mid.txt pc:things/mid.txt pc:things/top.dep.out " "product rows"
kiln products --platform intermediate --json
expect_rc 0
expect_eq "$(printf '%s' "$OUT" | json_get '[p["path"] for p in d]')" "['things/mid.txt']" "intermediate listing"
kiln products --platform pc --json
expect_eq "$(printf '%s' "$OUT" | json_get 'sorted(p["path"] for p in d)')" "['things/mid.txt', 'things/top.dep.out']" "pc listing"
expect_eq "$($PY -c "import json,sys; c=json.load(open(sys.argv[1])); print(sorted(a['path'] for a in c['assets'].values()))" "$P/Cache/pc/assetcatalog.json")" \
	"['things/mid.txt', 'things/top.dep.out']" "catalog"

step "a second batch runs nothing"
kiln batch
expect_match "$(summary)" '^0 jobs:' "no-op"
echo ok
