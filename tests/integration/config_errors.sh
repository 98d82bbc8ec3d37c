# Bad kiln.json files: each is exit code 2 with FILE:LINE:COL and a clear
# message, and nothing already processed is lost.
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]
}
JSON
echo one >"$P/Assets/one.txt"
kiln batch
expect_rc 0

try() { # expected-regex; kiln.json body on stdin
	write_config
	kiln batch
	expect_rc 2
	expect_match "$ERR" "$1" "error message"
	[ -f "$P/Cache/pc/one.txt" ] || fail "a product was lost after a bad kiln.json"
}

step "an unknown key names its line and column"
try 'kiln\.json:3:3: .*unknown key.*platfroms' <<'JSON'
{
  "project": "x",
  "platfroms": ["pc"]
}
JSON

step "a syntax error names its line and column"
try 'kiln\.json:2:17' <<'JSON'
{
  "platforms": [pc]
}
JSON

step "a wrong type"
try 'kiln\.json:1:15: ' <<'JSON'
{"platforms": "pc"}
JSON

step "a regex that does not compile"
try 'kiln\.json:1:15: .*' <<'JSON'
{"excludes": ["(unclosed"]}
JSON

step "a builder that does not exist is disabled, not a configuration error (SPEC 7)"
write_config <<'JSON'
{"builders": [{"exec": "no-such-builder"}]}
JSON
kiln batch
expect_rc 1
expect_match "$ERR" 'builder no-such-builder is disabled: .*kiln\.json:1:24: builder "no-such-builder" not found' "the reason, at the value"

step "a missing kiln.json"
rm "$P/kiln.json"
kiln batch
expect_rc 2

step "an unknown command and a bad option are usage errors"
write_config <<JSON
{"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]}
JSON
kiln frobnicate
expect_rc 2
kiln batch --hosts banana
expect_rc 2
kiln batch --platform xbox
expect_rc 2
kiln compile one.txt
expect_rc 3
echo ok
