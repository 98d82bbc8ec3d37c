# Builders that cannot start or die before they work: a script whose #!
# interpreter is missing, a file that is not executable, a builder that
# crashes when asked to describe itself, and one that crashes before reading
# anything. What the user sees (SPEC 7): kiln names the builder and the
# reason, disables it for the run, fails the sources that only it matches
# with a log line naming the cause, runs the other builders' jobs, lists it
# in kiln builders as disabled with the reason, and exits 1, never by a
# signal. A builder that is not executable is the same, with the position of
# its "exec" in kiln.json; only a malformed kiln.json is an error (exit 2).
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_common.sh"

mkdir -p "$P/tools"
printf '#!/nonexistent/python3\nprint("never")\n' >"$P/tools/badinterp.py"
chmod +x "$P/tools/badinterp.py"
cp "$ROGUE" "$P/tools/crashdescribe.py"
cp "$ROGUE" "$P/tools/crashstart.py"
write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [
    {"exec": "$ROGUE", "args": ["good"], "patterns": ["*.rog"]},
    {"exec": "tools/badinterp.py", "patterns": ["*.bad"]},
    {"exec": "tools/crashdescribe.py", "args": ["cd", "--crash-at=describe"], "patterns": ["*.cd"]},
    {"exec": "tools/crashstart.py", "args": ["cs", "--crash-at=start"], "patterns": ["*.cs"]}
  ],
  "hosts": 2
}
JSON
for i in $(seq 1 6); do echo "fine $i" >"$P/Assets/ok$i.rog"; done
for e in bad cd cs; do for i in 1 2; do echo x >"$P/Assets/f$i.$e"; done; done

step "three broken builders are disabled with their reasons; their sources fail; the good one's jobs run"
fkiln batch
fault 3
expect_rc 1
expect_match "$(summary)" '^12 jobs: 6 completed, 0 with warnings, 0 with errors, 6 failed; 6 products; ' "summary"
expect_match "$ERR" "kiln: builder tools/badinterp.py is disabled: describe failed \(spawn_failed\): cannot start $P/tools/badinterp.py: its interpreter /nonexistent/python3 \(from the #! line\) does not exist" "bad interpreter"
expect_match "$ERR" 'kiln: builder tools/crashdescribe.py is disabled: describe failed \(crashed\): killed by signal 11 \(Segmentation fault\)' "crash at describe"
expect_match "$ERR" 'kiln: builder tools/crashstart.py is disabled: describe failed \(crashed\): killed by signal 11 \(Segmentation fault\)' "crash at start"
expect_match "$(cat "$P/Cache/logs/kiln.log")" 'ERROR \[kiln\] builder tools/badinterp.py is disabled' "kiln.log names it too"
# Each source of a disabled builder failed, and its log says why.
expect_eq "$(sql "SELECT count(*) FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path NOT LIKE '%.rog' AND j.status = 'failed'")" 6 "failed jobs of the disabled builders' sources"
fkiln jobs --json --filter 'f1\.cd$'
ID=$(printf '%s' "$OUT" | json_get 'd[0]["id"]')
fkiln job "$ID" --json
expect_match "$(printf '%s' "$OUT" | json_get "' | '.join(l['message'] for l in d['lines'])")" 'builder tools/crashdescribe.py is disabled: describe failed' "the failed source's log names the cause"
# kiln builders lists them as disabled, with the reason.
fkiln builders --json
expect_match "$(printf '%s' "$OUT" | json_get "sorted((b['name'], (b.get('disabled_reason') or '')[:40]) for b in d if b.get('disabled_reason'))")" \
	"tools/badinterp.py.*describe failed.*tools/crashdescribe.py.*describe failed.*tools/crashstart.py" "disabled builders listed"

step "a builder that is not executable is disabled, at the position of its exec"
chmod -x "$P/tools/badinterp.py"
fkiln batch
fault 1
expect_rc 1
expect_match "$ERR" 'builder tools/badinterp\.py is disabled: .*kiln\.json:[0-9]+:[0-9]+: builder "tools/badinterp\.py" is not executable' "the reason names file, line and the builder"
chmod +x "$P/tools/badinterp.py"

step "once fixed, the builders run their jobs"
printf '#!/bin/sh\nexec /usr/bin/python3 %s fixed "$@"\n' "$ROGUE" >"$P/tools/badinterp.py"
cp "$ROGUE" "$P/tools/crashdescribe.py"
cp "$ROGUE" "$P/tools/crashstart.py"
sed -i 's/, "--crash-at=describe"//; s/, "--crash-at=start"//' "$P/kiln.json"
fkiln batch
expect_rc 0
expect_match "$(summary)" '^6 jobs: 6 completed, ' "summary"
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status = 'completed'")" 12 "all jobs"

expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status != 'completed'")" 0 "jobs left failed once the builders work"
faults_report
echo ok
