# A builder run by an interpreter: a script path in args relative to the
# project root works, editing the script is noticed (describe again, and
# its jobs rerun on a new version), and a script that dies in describe is
# reported with its own stderr.
set -e
. "$(dirname "$0")/lib.sh"

mkdir -p "$P/tools"
cp "$ROGUE" "$P/tools/b.py"
write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$PY", "args": ["tools/b.py", "scripted"]}],
  "hosts": 1
}
JSON
echo one >"$P/Assets/one.rog"

step "a script path relative to the project root"
kiln batch
expect_rc 0
expect_match "$(summary)" '^1 jobs: 1 completed' "summary"

step "editing the script is noticed"
sed -i 's/KILN_TEST_ROGUE_VERSION", "1"/KILN_TEST_ROGUE_VERSION", "2"/' "$P/tools/b.py"
reset_calls
kiln batch
expect_rc 0
expect_match "$(summary)" '^1 jobs: 1 completed' "rerun on a new version"
kiln builders --json
expect_eq "$(printf '%s' "$OUT" | json_get 'd[0]["version"]')" 2 "version shown"
kiln jobs --json
expect_eq "$(printf '%s' "$OUT" | json_get 'd[0]["run_reason"]')" "builder version or analysis fingerprint changed" "reason"

step "a script that dies in describe is reported with its stderr"
printf 'import sys\nsys.stderr.write("cannot load my model\\n")\nsys.exit(4)\n' >"$P/tools/b.py"
kiln batch
expect_rc 1
expect_match "$ERR" "cannot load my model" "stderr of the builder in the message"
echo ok
