# Source dependencies: by path (to a plain file and to another source), by
# UUID, by wildcard; transitive; a dependency that appears later; sidecars;
# product dependencies resolved when their target appears;
# sources_to_reprocess; and the reason each job ran.
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$GRAPH", "args": ["graph", "*.dep"]}],
  "metadata": {"assetinfo": ["dep"]},
  "hosts": 2
}
JSON
A="$P/Assets"
mkdir -p "$A/textures" "$A/sub"
echo "b one" >"$A/b.txt"
printf 'dep b.txt\n' >"$A/a.dep"
printf 'dep d.dep\n' >"$A/c.dep"
printf 'dep e.txt\n' >"$A/d.dep"
echo "e one" >"$A/e.txt"
printf 'dep later.dep\n' >"$A/f.dep"
printf 'depglob textures/*.json\n' >"$A/h.dep"
echo '{}' >"$A/textures/one.json"
printf 'plain\n' >"$A/m.dep"
echo '{"normals": "custom"}' >"$A/m.dep.assetinfo"
printf 'pathdep q.dep.out\nsrcdep b.txt\nsrcdep nothere.txt\n' >"$A/p.dep"
printf 'plain s1\n' >"$A/s1.dep"
printf 'plain s2\n' >"$A/s2.dep"
printf 'dep ../b.txt\n' >"$A/sub/rel.dep"
printf 'plain x\n' >"$A/x.dep"

reason_of() { sql "SELECT j.run_reason FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1'"; }
ran() { grep -c "process_job $1 " "$KILN_TEST_CALL_LOG" || true; }

step "first batch"
kiln batch
expect_rc 0
expect_match "$(summary)" '^11 jobs: 11 completed' "summary"
kiln assets --json
expect_eq "$(printf '%s' "$OUT" | json_get '"m.dep.assetinfo" in [a["source"] for a in d]')" False "a sidecar is not a source"
grep -q "b one" "$P/Cache/pc/a.dep.out" || fail "product content: a.dep saw b.txt"
grep -q '"normals"' "$P/Cache/pc/m.dep.out" || fail "the sidecar is passed among the source's dependencies"
grep -q 'b one' "$P/Cache/pc/sub/rel.dep.out" || fail "a dependency relative to the source's own folder"

step "changing a plain file reruns exactly what depends on it"
reset_calls
echo "b two" >"$A/b.txt"
kiln batch
expect_rc 0
expect_eq "$(grep process_job "$KILN_TEST_CALL_LOG" | cut -d' ' -f3 | sort | tr '\n' ' ')" "a.dep sub/rel.dep " "jobs that ran"
expect_eq "$(reason_of a.dep)" "dependency b.txt changed" "run reason names the dependency"
grep -q 'b two' "$P/Cache/pc/a.dep.out" || fail "a.dep saw the new b.txt"

step "transitive: e.txt -> d.dep -> c.dep"
reset_calls
echo "e two" >"$A/e.txt"
kiln batch
expect_eq "$(grep process_job "$KILN_TEST_CALL_LOG" | cut -d' ' -f3 | sort | tr '\n' ' ')" "c.dep d.dep " "transitive reruns"

step "a dependency that appears later is honoured"
reset_calls
printf 'plain later\n' >"$A/later.dep"
kiln batch
expect_eq "$(ran f.dep)" 1 "f.dep reran"
expect_eq "$(ran later.dep)" 1 "later.dep processed"
expect_eq "$(reason_of f.dep)" "dependency later.dep appeared" "reason"

step "by UUID"
U=$(sql "SELECT uuid FROM sources WHERE path = 'x.dep'")
printf 'depuuid %s\n' "$U" >"$A/g.dep"
kiln batch
reset_calls
printf 'plain x changed\n' >"$A/x.dep"
kiln batch
expect_eq "$(ran g.dep)" 1 "g.dep reran after its uuid dependency changed"

step "by wildcard: a new match reruns the dependant"
reset_calls
echo '{"a": 1}' >"$A/textures/two.json"
kiln batch
expect_eq "$(ran h.dep)" 1 "h.dep reran"
expect_eq "$(calls process_job)" 1 "only h.dep"

step "a sidecar change reprocesses its source"
reset_calls
echo '{"normals": "generated"}' >"$A/m.dep.assetinfo"
kiln batch
expect_eq "$(ran m.dep)" 1 "m.dep reran"
expect_eq "$(calls process_job)" 1 "only m.dep"

step "product dependencies: unmet until the target appears"
PID=$(sql "SELECT p.id FROM products p JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id WHERE s.path = 'p.dep'")
kiln product pc/p.dep.out --json
expect_rc 0
expect_match "$(printf '%s' "$OUT" | json_get 'd["unmet"]')" "q.dep.out" "q.dep.out unmet"
printf 'plain q\n' >"$A/q.dep"
kiln batch
kiln product pc/p.dep.out --json
QID=$(sql "SELECT '{' || s.uuid || '}:0' FROM sources s WHERE s.path = 'q.dep'")
expect_match "$(printf '%s' "$OUT" | json_get 'd["dependencies"]')" "$QID" "resolved once q.dep.out exists"
expect_eq "$(printf '%s' "$OUT" | json_get '"q.dep.out" in d["unmet"]')" False "no longer unmet"
kiln product pc/q.dep.out --json
expect_match "$(printf '%s' "$OUT" | json_get 'd["dependants"]')" "\\}:0" "dependants of q"

step "the asset catalog lists products with resolved dependencies"
CAT="$P/Cache/pc/assetcatalog.json"
[ -f "$CAT" ] || fail "no catalog"
PAID=$(sql "SELECT '{' || s.uuid || '}:0' FROM sources s WHERE s.path = 'p.dep'")
expect_eq "$($PY -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['assets'][sys.argv[2]]['path'])" "$CAT" "$PAID")" "p.dep.out" "catalog path"
expect_match "$($PY -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['assets'][sys.argv[2]]['dependencies'])" "$CAT" "$PAID")" "$QID" "catalog dependencies"
expect_eq "$($PY -c "import json,sys; c=json.load(open(sys.argv[1])); print(len(c['assets']))" "$CAT")" "$(sql "SELECT count(*) FROM products WHERE platform = 'pc'")" "catalog size"

step "sources_to_reprocess"
reset_calls
printf 'reprocess s2.dep\nchanged\n' >"$A/s1.dep"
kiln batch
expect_eq "$(ran s1.dep)" 1 "s1 ran"
expect_eq "$(ran s2.dep)" 1 "s2 ran because s1 asked"
echo ok
