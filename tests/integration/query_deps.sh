# kiln product and kiln asset on a real project (issue 13, items 4 and 5).
# kiln-refs names a model and textures by source path, as it does in the
# demo, where every "depended on by" was empty; graph.py makes two sources
# whose products name each other. Dependants and depended_on_by list what
# names a source by path, on the product's own platform; every entry names
# its asset id and path; --depth follows the graph as a tree and ends on the
# cycle. --filter finds products, assets and jobs by uuid and asset id, on
# the command line and through the dashboard's search (/api/products).
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "builders": [
    {"exec": "kiln-copy", "patterns": ["*.png", "*.ogg"]},
    {"exec": "kiln-refs", "patterns": ["*.xml"]},
    {"exec": "$GRAPH", "args": ["graph", "*.dep"]}
  ],
  "hosts": 2,
  "http": "127.0.0.1:$PORT"
}
JSON
# put PATH TEXT: a file of the scan folder.
put() {
	mkdir -p "$(dirname "$P/Assets/$1")"
	printf '%s\n' "$2" >"$P/Assets/$1"
}
put textures/grass.png png
put textures/Stone.png png
put sounds/step.ogg ogg
put units/archer.xml '<unit><texture>textures/Stone.png</texture><sound path="/sounds/step.ogg"/></unit>'
put levels/level1.xml '<level><unit path="units/archer.xml"/><ground>textures/grass.png</ground></level>'
put loop/a.dep 'srcdep loop/b.dep'
put loop/b.dep 'srcdep loop/a.dep'

uuid_of() { sql "SELECT uuid FROM sources WHERE path = '$1'"; }
field() { printf '%s' "$OUT" | json_get "$1"; }

step "batch"
kiln batch
expect_rc 0
LEVEL=$(uuid_of levels/level1.xml)
ARCHER=$(uuid_of units/archer.xml)
GRASS=$(uuid_of textures/grass.png)
STONE=$(uuid_of textures/Stone.png)
[ -n "$LEVEL" ] && [ -n "$GRASS" ] || fail "sources missing"
expect_eq "$(sql "SELECT count(*) FROM product_deps WHERE dep_kind = 'source_path'")" 12 "source path dependencies stored"

step "dependants by source path, each naming its asset id and path, on the product's platform"
kiln product pc/textures/grass.png --json
expect_rc 0
expect_eq "$(field '[(e["asset_id"], e["platform"], e["path"], e["source"]) for e in d["dependants"]]')" \
	"[('{$LEVEL}:0', 'pc', 'levels/level1.xml', 'levels/level1.xml')]" "dependants of grass"
kiln product linux/textures/stone.png --json
expect_eq "$(field '[(e["platform"], e["path"]) for e in d["dependants"]]')" "[('linux', 'units/archer.xml')]" \
	"dependants of Stone.png, named in its own case"
kiln product pc/levels/level1.xml --json
expect_eq "$(field 'sorted((e["asset_id"], e["path"]) for e in d["dependencies"])')" \
	"[('{$GRASS}:0', 'textures/grass.png'), ('{$ARCHER}:0', 'units/archer.xml')]" "dependencies of the level"
expect_eq "$(field 'd["unmet"]')" "[]" "nothing unmet"

step "sources that name a source by path in their products"
kiln asset textures/Stone.png --json
expect_eq "$(field 'd["depended_on_by"]')" "['units/archer.xml']" "depended on by"
kiln asset levels/level1.xml --json
expect_eq "$(field 'd["depends_on"]')" "['textures/grass.png', 'units/archer.xml']" "depends on"

step "--depth follows them as a tree"
kiln product pc/textures/stone.png --depth all --json
expect_rc 0
expect_eq "$(field 'd["dependants"][0]["path"]')" "units/archer.xml" "level 1"
expect_eq "$(field '[(e["path"], e["dependants"]) for e in d["dependants"][0]["dependants"]]')" \
	"[('levels/level1.xml', [])]" "level 2, read to its end"
expect_eq "$(field '"truncated" in d')" False "nothing cut"
kiln product pc/textures/stone.png --depth 3
expect_match "$OUT" "^    \\{$ARCHER\\}:0  pc/units/archer.xml$" "text, level 1"
expect_match "$OUT" "^      \\{$LEVEL\\}:0  pc/levels/level1.xml$" "text, level 2"
kiln asset sounds/step.ogg --depth 2 --json
expect_eq "$(field '[(e["source"], [x["source"] for x in e["depended_on_by"]]) for e in d["depended_on_by"]]')" \
	"[('units/archer.xml', ['levels/level1.xml'])]" "asset tree"
kiln product pc/textures/stone.png --depth 99
expect_rc 2
expect_match "$ERR" "--depth takes a number from 1 to 32, or 0 or all" "a depth beyond the cap"

step "a cycle ends"
kiln product pc/loop/a.dep.out --depth 0 --json
expect_rc 0
expect_eq "$(field '[(e["path"], [(x["path"], x.get("cycle")) for x in e["dependencies"]]) for e in d["dependencies"]]')" \
	"[('loop/b.dep.out', [('loop/a.dep.out', True)])]" "a.dep.out -> b.dep.out -> a.dep.out (cycle)"
kiln asset loop/b.dep --depth all --json
expect_eq "$(field '[(e["source"], [(x["source"], x.get("cycle")) for x in e["depended_on_by"]]) for e in d["depended_on_by"]]')" \
	"[('loop/a.dep', [('loop/b.dep', True)])]" "the same between sources"

step "--filter finds ids"
kiln products --filter "${GRASS:0:8}" --json
expect_eq "$(field 'sorted((p["platform"], p["path"]) for p in d)')" \
	"[('linux', 'textures/grass.png'), ('pc', 'textures/grass.png')]" "products by a uuid prefix"
kiln products --filter "{$LEVEL}:0" --json
expect_eq "$(field 'len(d)')" 2 "products by asset id"
kiln assets --filter "^$STONE\$" --json
expect_eq "$(field '[a["source"] for a in d]')" "['textures/Stone.png']" "assets by uuid"
kiln jobs --filter "${ARCHER:0:8}" --json
expect_eq "$(field 'sorted(j["platform"] for j in d)')" "['linux', 'pc']" "jobs by their source's uuid"

step "the dashboard's search finds them too"
"$KILN_BIN/kiln" -p "$P" run >"$T/run.out" 2>&1 &
RUN=$!
stop_run() { kill -TERM "$RUN" 2>/dev/null || true; wait "$RUN" 2>/dev/null || true; }
trap 'stop_run; cleanup' EXIT
wait_for 20 "grep -q 'dashboard: http://127.0.0.1:$PORT/' '$T/run.out'" || fail "no dashboard: $(cat "$T/run.out")"
api() { curl -sf "http://127.0.0.1:$PORT/api/$1"; }
expect_eq "$(api "products?filter=${GRASS:0:8}&platform=pc&limit=50" | json_get '[p["path"] for p in d["products"]]')" \
	"['textures/grass.png']" "/api/products by uuid"
expect_eq "$(api "assets?filter=${STONE:0:8}&limit=50" | json_get 'd["total"]')" 1 "/api/assets by uuid"
expect_eq "$(api "product?path=textures/stone.png&platform=pc" | json_get '[e["path"] for e in d["dependants"]]')" \
	"['units/archer.xml']" "/api/product dependants"
stop_run
echo ok
