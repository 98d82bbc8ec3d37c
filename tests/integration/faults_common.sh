# faults_common.sh: helpers shared by the fault-matrix scenarios
# (tests/integration/faults_*.sh), sourced after lib.sh. Run on its own (ctest
# runs every *.sh in this folder) it has nothing to do.
#
# Each scenario counts the faults it injects (fault N), runs kiln through
# fkiln (which counts a kiln that died of a signal as a supervisor crash),
# and ends with faults_report, which prints
#   faults injected: N, jobs lost: 0, supervisor crashes: 0
# and fails when a job was lost (left pending or processing) or kiln crashed.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "helpers for faults_*.sh; nothing to run"
	exit 0
fi

FAULTS=0
SUP_CRASHES=0

fault() { FAULTS=$((FAULTS + ${1:-1})); }

# fkiln ARGS...: kiln, counting a death by signal (exit code > 128; timeout's
# own 124 is a hang and fails the expected exit code anyway).
fkiln() {
	kiln "$@"
	if [ "$RC" -gt 128 ]; then
		SUP_CRASHES=$((SUP_CRASHES + 1))
	fi
}

job_id() { # source path (relative to its scan folder)
	sql "SELECT j.id FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1'"
}

job_state() { # "status reason" of a source's job
	sql "SELECT j.status || ' ' || coalesce(j.reason, '-') FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1'"
}

# job_lines SRC: the job's log lines from `kiln job ID --json`, one per line
# as "level: message".
job_lines() {
	local id
	id=$(job_id "$1")
	[ -n "$id" ] || fail "no job for $1"
	set +e
	timeout 60 "$KILN_BIN/kiln" -p "$P" job "$id" --json >"$T/job.json" 2>"$T/job.err"
	local rc=$?
	set -e
	[ $rc -le 1 ] || fail "kiln job $id exited with $rc: $(cat "$T/job.err")"
	json_get '"\n".join("%s: %s" % (l["level"], l["message"]) for l in d["lines"])' <"$T/job.json"
}

jobs_lost() {
	sql "SELECT count(*) FROM jobs WHERE status IN ('pending', 'processing')"
}

# host_layers: sets NETNS (on/off), LANDLOCK_ABI (0 when off) and MEMORY
# (on/off) from the builder hosts' "sandbox:" line in kiln.log.
host_layers() {
	local line
	line=$(grep '\] sandbox: process group' "$P/Cache/logs/kiln.log" | tail -n 1)
	[ -n "$line" ] || fail "no host said which sandbox layers it has"
	NETNS=off
	LANDLOCK_ABI=0
	MEMORY=off
	case "$line" in *netns=on*) NETNS=on ;; esac
	case "$line" in *memory=on*) MEMORY=on ;; esac
	case "$line" in *"landlock=on (ABI "*) LANDLOCK_ABI=$(printf '%s\n' "$line" | sed -E 's/.*landlock=on \(ABI ([0-9]+)\).*/\1/') ;; esac
	echo "sandbox layers: netns=$NETNS landlock ABI $LANDLOCK_ABI memory=$MEMORY"
}

# restart_times: from kiln.log, the time from each crash a host noted
# ("builder KEY: crashed N time(s) in a row" or "... given up ...") to the
# next "started builder KEY" of the same host, that is to the replacement
# taking the next job. Prints "n min median max" in ms (n 0: none).
restart_times() {
	$PY - "$P/Cache/logs/kiln.log" <<'PYEOF'
import re, sys
from datetime import datetime
pat_time = re.compile(r'^(\S+Z) \w+ \[(host-\d+)\] (.*)$')
crash = re.compile(r'^builder (\S+): (crashed \d+ times? in a row|builder given up)')
start = re.compile(r'^started builder (\S+) ')
pending = {}
gaps = []
for line in open(sys.argv[1], errors="replace"):
    m = pat_time.match(line.rstrip("\n"))
    if not m:
        continue
    t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
    host, msg = m.group(2), m.group(3)
    c = crash.match(msg)
    if c:
        pending[(host, c.group(1))] = t
        continue
    s = start.match(msg)
    if s and (host, s.group(1)) in pending:
        gaps.append(t - pending.pop((host, s.group(1))))
gaps.sort()
if gaps:
    print(len(gaps), round(gaps[0]), round(gaps[len(gaps) // 2]), round(gaps[-1]))
else:
    print(0, 0, 0, 0)
PYEOF
}

faults_report() {
	local lost
	lost=$(jobs_lost)
	echo "faults injected: $FAULTS, jobs lost: $lost, supervisor crashes: $SUP_CRASHES"
	[ "$lost" -eq 0 ] || fail "$lost jobs were left pending or processing"
	[ "$SUP_CRASHES" -eq 0 ] || fail "kiln died of a signal $SUP_CRASHES times"
}
