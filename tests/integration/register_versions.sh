# Registered builders and their identity: a new version or analysis
# fingerprint of one builder (here by editing its script, which the describe
# cache notices) runs that builder's jobs again and no others; an edit that
# keeps both runs nothing; a builder taken out of kiln.json takes its jobs
# and products with it and leaves the other builders' alone.
set -e
. "$(dirname "$0")/lib.sh"

mkdir -p "$P/tools"
cp "$KILN_TESTS/python/fixture_builder.py" "$P/tools/pyfix.py"
chmod +x "$P/tools/pyfix.py"
config() { # $1: the pyfix entry, with its trailing comma, or nothing
	write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "builders": [
    $1
    {"exec": "$ROGUE", "args": ["rogue"]},
    {"exec": "kiln-copy", "patterns": ["*.ogg"]}
  ],
  "hosts": 2
}
JSON
}
PYFIX='{"exec": "tools/pyfix.py", "args": ["pyfix"]},'
config "$PYFIX"
mkdir -p "$P/Assets/py"
echo a >"$P/Assets/py/a.pyf"
echo b >"$P/Assets/py/b.pyf"
echo r1 >"$P/Assets/r1.rog"
echo r2 >"$P/Assets/r2.rog"
echo s >"$P/Assets/s.ogg"
builder_field() { # name key
	kiln builders --json
	printf '%s' "$OUT" | json_get "[b['$2'] for b in d if b['name'] == '$1'][0]"
}
# Every process_job call of the last batch was for a .pyf source.
only_pyfix_ran() {
	expect_eq "$(calls process_job)" 4 "process_job calls"
	expect_eq "$(grep process_job "$KILN_TEST_CALL_LOG" | grep -vc '\.pyf$' || true)" 0 "calls for other builders' sources"
}

step "first batch"
kiln batch
expect_rc 0
expect_match "$(summary)" '^10 jobs: 10 completed, 0 with warnings, 0 with errors, 0 failed; 10 products; ' "summary"
expect_eq "$(builder_field pyfix version)" 1 "version"

step "a new version in the script runs that builder's jobs and no others"
sed -i 's/KILN_FIXTURE_VERSION", "1")/KILN_FIXTURE_VERSION", "2")/' "$P/tools/pyfix.py"
reset_calls
kiln batch
expect_rc 0
expect_match "$(summary)" '^4 jobs: 4 completed, 0 with warnings, 0 with errors, 0 failed; 4 products; ' "summary"
only_pyfix_ran
expect_eq "$(builder_field pyfix version)" 2 "new version"

step "a new analysis fingerprint does the same"
sed -i 's/KILN_FIXTURE_AFP", "a")/KILN_FIXTURE_AFP", "b")/' "$P/tools/pyfix.py"
reset_calls
kiln batch
expect_rc 0
expect_match "$(summary)" '^4 jobs: 4 completed' "summary"
only_pyfix_ran
expect_eq "$(builder_field pyfix analysis_fingerprint)" b "new fingerprint"

step "an edit that keeps version and fingerprint runs nothing"
echo "# a comment" >>"$P/tools/pyfix.py"
reset_calls
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs:' "summary"
expect_eq "$(calls process_job)" 0 "process_job calls"
expect_eq "$(calls create_jobs)" 0 "create_jobs calls"

step "a builder taken out of kiln.json takes its jobs and products with it"
config ""
reset_calls
kiln batch
expect_rc 0
for pl in pc linux; do
	[ ! -e "$P/Cache/$pl/py/a.pyf" ] && [ ! -e "$P/Cache/$pl/py/b.pyf" ] || fail "pyfix products left in $pl"
	[ -e "$P/Cache/$pl/r1.rog" ] && [ -e "$P/Cache/$pl/s.ogg" ] || fail "other builders' products lost in $pl"
done
expect_eq "$(sql "SELECT count(*) FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path LIKE 'py/%'")" 0 "pyfix jobs"
expect_eq "$(sql "SELECT count(*) FROM products p JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id WHERE s.path LIKE 'py/%'")" 0 "pyfix product rows"
expect_eq "$(sql "SELECT count(*) FROM jobs")" 6 "other jobs kept"
expect_eq "$(calls process_job)" 0 "nothing else ran"
kiln builders --json
expect_eq "$(printf '%s' "$OUT" | json_get 'sorted(b["name"] for b in d)')" "['kiln-copy', 'rogue']" "active builders"

step "registered again, it processes its sources again"
config "$PYFIX"
kiln batch
expect_rc 0
expect_match "$(summary)" '^4 jobs: 4 completed' "summary"
[ -e "$P/Cache/linux/py/b.pyf" ] || fail "pyfix product not made again"
echo ok
