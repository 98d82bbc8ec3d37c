# A job lands all of its products or none (issue 13, item 14; SPEC 6): when
# one product of three cannot be moved into the cache (a folder is in its
# way), the job fails, the products already moved are taken back, the last
# good run's products and rows stay as they were, and once the way is clear
# the next batch lands all three. The same when the database refuses one
# product's row (a trigger stands in for any failure of SQLite): before,
# such a row was logged and the job still reported completed.
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$GRAPH", "args": ["graph", "*.dep"]}],
  "hosts": 1
}
JSON
A="$P/Assets"
printf 'extra b.bin\nextra c.bin\nv1\n' >"$A/a.dep"

step "a first run lands three products"
kiln batch
expect_rc 0
for f in a.dep.out b.bin c.bin; do grep -q v1 "$P/Cache/pc/$f" || fail "$f of the first run"; done
ROWS1=$(sql "SELECT path || ':' || hash FROM products ORDER BY path" | tr '\n' ' ')

step "the second product's place is taken by a folder: the job fails and nothing lands"
rm "$P/Cache/pc/b.bin"
mkdir "$P/Cache/pc/b.bin"
echo keep >"$P/Cache/pc/b.bin/inside"
printf 'extra b.bin\nextra c.bin\nv2\n' >"$A/a.dep"
kiln batch
expect_rc 1
expect_match "$(summary)" '^1 jobs: 0 completed, 0 with warnings, 0 with errors, 1 failed; ' "summary"
grep -q v1 "$P/Cache/pc/a.dep.out" || fail "the first product was not put back: $(cat "$P/Cache/pc/a.dep.out")"
grep -q v1 "$P/Cache/pc/c.bin" || fail "the third product changed"
[ -f "$P/Cache/pc/b.bin/inside" ] || fail "the folder in the way was touched"
expect_eq "$(sql "SELECT path || ':' || hash FROM products ORDER BY path" | tr '\n' ' ')" "$ROWS1" "product rows"
ID=$(sql "SELECT id FROM jobs")
kiln job "$ID" --json
expect_match "$(printf '%s' "$OUT" | json_get "' | '.join(l['message'] for l in d['lines'])")" \
	"b.bin.*none of the job's products landed" "the job's log"
[ -z "$(find "$P/Cache/tmp" -type f ! -name '*.sock')" ] || fail "files left in Cache/tmp: $(find "$P/Cache/tmp" -type f | head -3)"

step "the way cleared, the next batch lands all three"
rm -r "$P/Cache/pc/b.bin"
kiln batch
expect_rc 0
for f in a.dep.out b.bin c.bin; do grep -q v2 "$P/Cache/pc/$f" || fail "$f of the last run"; done
ROWS2=$(sql "SELECT path || ':' || hash FROM products ORDER BY path" | tr '\n' ' ')

step "the database refuses the third product's row: the job fails, files and rows stay"
$PY - "$P/Cache/assetdb.sqlite" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for when in ("INSERT", "UPDATE"):
    db.execute(f"CREATE TRIGGER refuse_{when.lower()} BEFORE {when} ON products WHEN NEW.path = 'c.bin'"
               " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
db.commit()
PYEOF
printf 'extra b.bin\nextra c.bin\nv3\n' >"$A/a.dep"
kiln batch
expect_rc 1
expect_match "$(summary)" '^1 jobs: 0 completed, 0 with warnings, 0 with errors, 1 failed; ' "summary"
for f in a.dep.out b.bin c.bin; do grep -q v2 "$P/Cache/pc/$f" || fail "$f is not the last good run's"; done
expect_eq "$(sql "SELECT path || ':' || hash FROM products ORDER BY path" | tr '\n' ' ')" "$ROWS2" "product rows"
kiln job "$ID" --json
expect_match "$(printf '%s' "$OUT" | json_get "' | '.join(l['message'] for l in d['lines'])")" \
	"storing product pc/c.bin: refused by the test.*none of the job's products landed" "the job's log"
echo ok
