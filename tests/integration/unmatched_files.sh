# Files that no builder matches are reported once a batch, with a few
# examples, in kiln.log, on stderr and in kiln status (issue 13, item 8: a
# PNG dropped where only kiln-copy is registered did nothing, and nothing
# said why).
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}], "hosts": 1}
JSON
echo text >"$P/Assets/a.txt"
mkdir -p "$P/Assets/models"
printf 'png?' >"$P/Assets/hero.png"
printf 'v 0 0 0\n' >"$P/Assets/models/box.obj"

step "a batch says how many files no builder takes, and names them"
kiln batch
expect_rc 0
expect_match "$(summary)" '^1 jobs: 1 completed' "summary"
expect_match "$ERR" '2 files under the scan folders match no builder' "stderr"
expect_match "$(grep 'match no builder' "$P/Cache/logs/kiln.log")" 'Assets/hero.png' "kiln.log names an example"
[ "$(grep -c 'match no builder' "$P/Cache/logs/kiln.log")" = 1 ] || fail "the log says it more than once"

step "kiln status says it too"
kiln status --json
expect_eq "$(printf '%s' "$OUT" | json_get 'd["unmatched"]["count"]')" 2 "count"
expect_eq "$(printf '%s' "$OUT" | json_get 'sorted(d["unmatched"]["examples"])')" "['Assets/hero.png', 'Assets/models/box.obj']" "examples"
kiln status
expect_match "$OUT" 'unmatched +2 files match no builder' "text status"

step "once a builder takes them, nothing is reported"
write_config <<JSON
{"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt", "*.png", "*.obj"]}], "hosts": 1}
JSON
kiln batch
expect_rc 0
! printf '%s' "$ERR" | grep -q 'match no builder' || fail "still reported: $ERR"
kiln status --json
expect_eq "$(printf '%s' "$OUT" | json_get 'd["unmatched"]["count"]')" 0 "count after"
echo ok
