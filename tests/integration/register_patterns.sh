# kiln.json `patterns` replace the patterns a registered builder describes:
# sources only the builder's own patterns matched lose their jobs and
# products, and when the override is taken out again, the builder's own
# patterns apply again (the executable did not change, so this comes from
# the describe cache).
set -e
. "$(dirname "$0")/lib.sh"

mkdir -p "$P/tools"
cp "$KILN_TESTS/python/fixture_builder.py" "$P/tools/pyfix.py"
chmod +x "$P/tools/pyfix.py"
config() { # $1: extra keys of the builder's entry
	write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "tools/pyfix.py", "args": ["pyfix"]$1}],
  "hosts": 1
}
JSON
}
patterns() {
	kiln builders --json
	expect_rc 0
	printf '%s' "$OUT" | json_get "[b['patterns'] for b in d if b['name'] == 'pyfix'][0]"
}
OWN="['*.pyf', 're:^special/.*\\\\.dat\$']"
mkdir -p "$P/Assets/special"
echo a >"$P/Assets/a.pyf"
echo c >"$P/Assets/special/c.dat"
echo t >"$P/Assets/t.txt"

step "the builder's own patterns"
config ""
kiln batch
expect_rc 0
expect_eq "$(patterns)" "$OWN" "described patterns"
[ -e "$P/Cache/pc/special/c.dat" ] || fail "special/c.dat not processed"

step "kiln.json patterns replace them"
config ', "patterns": ["*.pyf", "*.txt"]'
kiln batch
expect_rc 0
expect_eq "$(patterns)" "['*.pyf', '*.txt']" "overridden patterns"
[ -e "$P/Cache/pc/t.txt" ] || fail "t.txt (matched by the override) not processed"
[ ! -e "$P/Cache/pc/special/c.dat" ] || fail "the product of a source no builder matches any more is still in the cache"
expect_eq "$(sql "SELECT count(*) FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = 'special/c.dat'")" 0 "its jobs"

step "without the override, the described patterns apply again"
config ""
kiln batch
expect_rc 0
expect_eq "$(patterns)" "$OWN" "own patterns back"
[ -e "$P/Cache/pc/special/c.dat" ] || fail "special/c.dat not processed again"
[ ! -e "$P/Cache/pc/t.txt" ] || fail "t.txt still processed"
echo ok
