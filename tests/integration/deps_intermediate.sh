# Intermediate assets: a chain of two builders through Cache/intermediate,
# deleting the top source removes the chain, deleting an intermediate or a
# final product regenerates it, and a loop fails with a clear reason.
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [
    {"exec": "$GRAPH", "args": ["first", "*.dep"]},
    {"exec": "$GRAPH", "args": ["second", "*.mid"]}
  ],
  "hosts": 2
}
JSON
A="$P/Assets"
printf 'inter first chain.mid\n' >"$A/top.dep"

step "a chain: top.dep -> intermediate chain.mid -> final chain.mid.out"
kiln batch
expect_rc 0
[ -f "$P/Cache/intermediate/chain.mid" ] || fail "no intermediate"
[ -f "$P/Cache/pc/chain.mid.out" ] || fail "no final product of the intermediate"
grep -q "made from top.dep" "$P/Cache/pc/chain.mid.out" || fail "final product content"
kiln assets --json
expect_match "$(printf '%s' "$OUT" | json_get '[a["source"] for a in d]')" "chain.mid" "the intermediate is a source"
U=$(sql "SELECT uuid FROM sources WHERE path = 'chain.mid'")
TOPU=$(sql "SELECT uuid FROM sources WHERE path = 'top.dep'")
[ "$U" != "$TOPU" ] && [ -n "$U" ] || fail "intermediate uuid"
expect_eq "$(calls process_job)" 2 "two jobs"

step "nothing changed: nothing runs"
reset_calls
kiln batch
expect_match "$(summary)" '^0 jobs:' "no-op"

step "deleting the intermediate in the cache regenerates it"
rm "$P/Cache/intermediate/chain.mid"
kiln batch
expect_rc 0
[ -f "$P/Cache/intermediate/chain.mid" ] || fail "intermediate not regenerated"
expect_eq "$(sql "SELECT uuid FROM sources WHERE path = 'chain.mid'")" "$U" "same uuid after regeneration"

step "deleting the final product regenerates it"
rm "$P/Cache/pc/chain.mid.out"
kiln batch
[ -f "$P/Cache/pc/chain.mid.out" ] || fail "final product not regenerated"

step "changing the top source flows down the chain"
reset_calls
printf 'inter first chain.mid\nmore\n' >"$A/top.dep"
kiln batch
expect_rc 0
expect_eq "$(grep process_job "$KILN_TEST_CALL_LOG" | cut -d' ' -f1,3 | sort | tr '\n' ' ')" "first top.dep second chain.mid " "both steps ran"
grep -q "more" "$P/Cache/pc/chain.mid.out" || fail "the change reached the end of the chain"

step "deleting the top source removes the whole chain"
rm "$A/top.dep"
kiln batch
expect_rc 0
[ ! -e "$P/Cache/intermediate/chain.mid" ] && [ ! -e "$P/Cache/pc/chain.mid.out" ] && [ ! -e "$P/Cache/pc/top.dep.out" ] || fail "chain left behind"
expect_eq "$(sql "SELECT count(*) FROM sources")" 0 "sources"
expect_eq "$(sql "SELECT count(*) FROM products")" 0 "products"

step "a loop fails with a clear reason and does not hang"
write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [
    {"exec": "$GRAPH", "args": ["first", "*.dep"]},
    {"exec": "$GRAPH", "args": ["second", "*.mid"]}
  ],
  "hosts": 2
}
JSON
printf 'inter first a.mid\ninter second b.dep\n' >"$A/loop.dep"
kiln batch
expect_rc 1
kiln jobs --status failed --json
expect_match "$(printf '%s' "$OUT" | json_get '[j["source"] for j in d]')" "b.dep" "the loop's job is listed"
ID=$(printf '%s' "$OUT" | json_get '[j["id"] for j in d if j["source"] == "b.dep"][0]')
kiln job "$ID" --json
expect_match "$(printf '%s' "$OUT" | json_get '" ".join(l["message"] for l in d["lines"])')" "loop: builder first" "reason"
echo ok
