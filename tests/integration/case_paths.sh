# Paths with capitals: sources are found, kept and looked up by their path
# with case folded (the engine's source map folds ASCII case and keeps one
# string per path), products land at lowercased paths (SPEC: cache layout),
# a dependency written in another case resolves, and a rename in case only
# is the same source in a new place.
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "kiln-copy", "patterns": ["*.PNG", "*.png", "*.txt"]},
               {"exec": "$GRAPH", "args": ["graph", "*.dep"]}],
  "hosts": 2
}
JSON
A="$P/Assets"
mkdir -p "$A/Textures/Hero" "$A/UI"
echo "hero" >"$A/Textures/Hero/Hero_Diffuse.PNG"
echo "icon" >"$A/UI/icon.png"
echo "Notes One" >"$A/UI/ReadMe.txt"
printf 'dep ui/readme.TXT\n' >"$A/Uses_Readme.dep"

step "first batch"
kiln batch
expect_rc 0
expect_match "$(summary)" '^4 jobs: 4 completed' "summary"
[ -f "$P/Cache/pc/textures/hero/hero_diffuse.png" ] || fail "the product at the lowercased path"
grep -q "Notes One" "$P/Cache/pc/uses_readme.dep.out" || fail "a dependency in another case resolves"
kiln asset Textures/Hero/Hero_Diffuse.PNG --json
expect_eq "$(printf '%s' "$OUT" | json_get 'd["source"]')" "Textures/Hero/Hero_Diffuse.PNG" "asset path as on disk"
UUID=$(printf '%s' "$OUT" | json_get 'd["uuid"]')

step "nothing changed: nothing runs"
reset_calls
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs' "no-op summary"
expect_eq "$(calls)" 0 "builder calls"

step "changing the dependency in its own case reruns the dependent"
reset_calls
echo "Notes Two" >"$A/UI/ReadMe.txt"
kiln batch
expect_rc 0
grep -q "Notes Two" "$P/Cache/pc/uses_readme.dep.out" || fail "the dependent saw the new file"

step "a rename in case only is the same source in a new place"
# Same content, same lowercased product path: the row moves, no job runs.
mv "$A/Textures/Hero/Hero_Diffuse.PNG" "$A/Textures/Hero/hero_diffuse.png"
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs' "nothing to rebuild"
[ -f "$P/Cache/pc/textures/hero/hero_diffuse.png" ] || fail "the product is still there"
kiln assets --json
expect_eq "$(printf '%s' "$OUT" | json_get 'len(d)')" 4 "still four sources"
kiln asset Textures/Hero/hero_diffuse.png --json
expect_eq "$(printf '%s' "$OUT" | json_get 'd["uuid"]')" "$UUID" "the same uuid"

step "and a batch after it has nothing to do"
reset_calls
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs' "no-op summary after the rename"
echo "ok"
