# A builder written with the Python SDK and registered in kiln.json by path:
# kiln finds the SDK on its own (PYTHONPATH is not set here), describe gives
# its name, uuid, version, analysis fingerprint and patterns, `kiln builders`
# shows them with its metrics, an exception in a callback is a crashed job
# with the traceback in its log, print() lands in the log, warning() and
# dependenciesHandled False make warnings, and the example JSON builder
# minifies.
set -e
. "$(dirname "$0")/lib.sh"
unset PYTHONPATH

mkdir -p "$P/tools"
cp "$KILN_TESTS/python/fixture_builder.py" "$P/tools/pyfix.py"
cp "$KILN_SRC/builders/examples/python/json_minify.py" "$P/tools/json_minify.py"
chmod +x "$P/tools/pyfix.py" "$P/tools/json_minify.py"

config() { # $1: extra keys of the pyfix entry
	write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "builders": [
    {"exec": "tools/pyfix.py", "args": ["pyfix"]$1},
    {"exec": "tools/json_minify.py"},
    {"exec": "kiln-copy", "patterns": ["*.ogg"]}
  ],
  "hosts": 2
}
JSON
}
config ""
mkdir -p "$P/Assets/sub" "$P/Assets/special" "$P/Assets/data"
echo "plain" >"$P/Assets/sub/Plain.pyf"
echo "regex" >"$P/Assets/special/c.dat"
echo "not matched" >"$P/Assets/other.dat"
echo "print" >"$P/Assets/print.pyf"
echo "warn" >"$P/Assets/warn.pyf"
echo "nodeps" >"$P/Assets/nodeps.pyf"
echo "raise" >"$P/Assets/raise.pyf"
echo "sound" >"$P/Assets/s.ogg"
printf '{\n  "include": "../common.json",\n  "list": [1, 2,   3],\n  "name": "caf\\u00e9"\n}\n' >"$P/Assets/data/item.json"
printf '{ "shared": true }\n' >"$P/Assets/common.json"
printf '{ "broken": \n' >"$P/Assets/data/broken.json"

job_of() { # source platform -> job id
	sql "SELECT j.id FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1' AND j.platform = '$2'"
}
status_of() {
	sql "SELECT j.status || ' ' || coalesce(j.reason, '-') FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1' AND j.platform = '$2'"
}
job_lines() { # job id -> "level|source|message" lines
	kiln job "$1" --json
	printf '%s' "$OUT" | json_get '"\n".join("%s|%s|%s" % (l["level"], l["source"], l["message"]) for l in d["lines"])'
}

step "a batch runs the Python builders registered by path"
kiln batch
expect_rc 1 # raise.pyf and broken.json fail
expect_match "$(summary)" '^20 jobs: 12 completed, 4 with warnings, 0 with errors, 4 failed; 16 products; ' "summary"
for pl in pc linux; do
	cmp -s "$P/Assets/sub/Plain.pyf" "$P/Cache/$pl/sub/plain.pyf" || fail "pyfix product for $pl"
	cmp -s "$P/Assets/special/c.dat" "$P/Cache/$pl/special/c.dat" || fail "regex-pattern product for $pl"
	expect_eq "$(status_of sub/Plain.pyf $pl)" "completed -" "plain job on $pl"
done
[ ! -e "$P/Cache/pc/other.dat" ] || fail "a source no pattern matches was processed"
expect_eq "$(cat "$P/Cache/pc/data/item.json")" '{"include":"../common.json","list":[1,2,3],"name":"café"}' "minified JSON"

step "describe: name, uuid, version, fingerprint, patterns; kiln builders --json"
kiln builders --json
expect_rc 0
# One Python run reads every field (each run costs a Python start-up).
GOT=$(printf '%s' "$OUT" | $PY -c '
import hashlib, json, sys, uuid
d = {b["name"]: b for b in json.load(sys.stdin)}
u = bytearray(hashlib.sha1(b"kiln-test-builder:pyfix").digest()[:16])
u[6] = (u[6] & 0x0F) | 0x50
u[8] = (u[8] & 0x3F) | 0x80
p, m = d["pyfix"], d["pyfix"]["metrics"]
print("uuid is the busId:", p["uuid"] == str(uuid.UUID(bytes=bytes(u))))
print("version:", p["version"], "fingerprint:", p["analysis_fingerprint"], "type:", p["type"])
print("patterns:", p["patterns"])
print("jobs:", m["jobs"], "create_jobs:", m["create_jobs_count"], "process_job:", m["process_job_count"])
print("time:", m["process_job_total_ms"] > 0)
# Totals are rounded to whole ms, averages are not.
print("averages:", abs(m["process_job_avg_ms"] * m["process_job_count"] - m["process_job_total_ms"]) <= 1,
      abs(m["create_jobs_avg_ms"] * m["create_jobs_count"] - m["create_jobs_total_ms"]) <= 1)
print("kiln-copy:", d["kiln-copy"]["type"], d["kiln-copy"]["patterns"])
print("example:", d["JSON Minify"]["uuid"], d["JSON Minify"]["type"])
')
expect_eq "$GOT" "uuid is the busId: True
version: 1 fingerprint: a type: external
patterns: ['*.pyf', 're:^special/.*\\\\.dat\$']
jobs: 12 create_jobs: 6 process_job: 12
time: True
averages: True True
kiln-copy: internal ['*.ogg']
example: 6a1c3e52-3f0b-4f7b-9c1e-2e8e4c5d7a10 external" "kiln builders --json"

step "an exception in process_job: crashed, traceback in the job log"
expect_eq "$(status_of raise.pyf pc)" "failed crashed" "raise.pyf"
L=$(job_lines "$(job_of raise.pyf pc)")
expect_match "$L" '^error\|builder\|OnProcessJobRequest raised ValueError: boom from raise\.pyf$' "summary line"
expect_match "$L" '^error\|builder\|Traceback \(most recent call last\):$' "traceback header"
expect_match "$L" 'pyfix\.py", line [0-9]+, in on_process_job' "traceback frame"
expect_match "$L" '^error\|builder\|ValueError: boom from raise\.pyf$' "exception line"
kiln job "$(job_of raise.pyf pc)" --json
expect_eq "$(printf '%s' "$OUT" | json_get 'd["reason"]')" "crashed" "reason in kiln job --json"
expect_eq "$(printf '%s' "$OUT" | json_get '[l["context"] for l in d["lines"] if l["message"].startswith("OnProcessJobRequest")][0]["callback"]')" "OnProcessJobRequest" "context"

step "print() goes to the job log, not the protocol"
expect_eq "$(status_of print.pyf linux)" "completed -" "print.pyf"
expect_match "$(job_lines "$(job_of print.pyf linux)")" '^info\|[a-z]+\|printed by the builder$' "printed line"

step "warning() and dependenciesHandled False make warnings"
expect_eq "$(status_of warn.pyf pc)" "completed_warning -" "warn.pyf"
kiln job "$(job_of warn.pyf pc)" --json
expect_eq "$(printf '%s' "$OUT" | json_get '[l["context"]["file"] for l in d["lines"] if l["level"] == "warning"][0]')" "warn.pyf" "warning context"
expect_eq "$(status_of nodeps.pyf pc)" "completed_warning -" "nodeps.pyf"
expect_match "$(job_lines "$(job_of nodeps.pyf pc)")" '^warning\|kiln\|.*dependencies_handled false' "dependencies_handled warning"

step "the example builder fails a broken JSON file with the parser's message"
expect_eq "$(status_of data/broken.json pc)" "failed failed" "broken.json"
expect_match "$(job_lines "$(job_of data/broken.json pc)")" '^error\|builder\|data/broken\.json is not valid JSON: .*line 2' "parser message"
step "the example's \"include\" is a source dependency: editing it runs the includer again"
done_at() { sql "SELECT j.completed_at FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1' AND j.platform = 'pc'"; }
BEFORE_ITEM=$(done_at data/item.json)
BEFORE_PLAIN=$(done_at sub/Plain.pyf)
sleep 0.01
printf '{ "shared": false }\n' >"$P/Assets/common.json"
kiln batch
expect_rc 1 # raise.pyf and broken.json fail again
# common.json and item.json on two platforms, and the four failed jobs.
expect_match "$(summary)" '^8 jobs: 4 completed, 0 with warnings, 0 with errors, 4 failed; 4 products; ' "summary"
[ "$(done_at data/item.json)" != "$BEFORE_ITEM" ] || fail "item.json did not run again"
expect_eq "$(done_at sub/Plain.pyf)" "$BEFORE_PLAIN" "an unrelated job"
expect_eq "$(cat "$P/Cache/linux/common.json")" '{"shared":false}' "common.json itself"
echo ok
