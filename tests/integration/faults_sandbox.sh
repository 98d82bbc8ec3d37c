# The sandbox, seen from outside: builders that try to reach the network,
# write outside their temp dir, eat memory, or leave a child behind. The
# hosts say which layers this machine gives them (one "sandbox:" line each);
# each layer that is on must block what it is for, and with the layers
# turned off (KILN_SANDBOX=none) the same attempts must get through, so that
# the checks can tell the difference. Other jobs complete; kiln never dies.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_common.sh"

# A listener the builders must not reach; every connection is one line.
PORT_FILE="$T/port"
ACCEPTED="$T/accepted"
: >"$ACCEPTED"
$PY - "$PORT_FILE" "$ACCEPTED" <<'PYEOF' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("connection\n")
    c.close()
PYEOF
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$PORT_FILE" ] && break; sleep 0.05; done
[ -s "$PORT_FILE" ] || fail "the listener did not start"
export KILN_TEST_PORT=$(cat "$PORT_FILE")
export KILN_TEST_OUTSIDE="$T/outside.txt"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "$ROGUE", "timeout_s": 20, "memory_mb": 256}],
  "hosts": 2
}
JSON
for i in $(seq 1 8); do echo "fine $i" >"$P/Assets/ok$i.rog"; done
for m in net writeout eatmem fork; do echo "$m" >"$P/Assets/$m.rog"; done

step "one batch with every layer this machine allows"
fkiln batch
fault 4
expect_rc 1
host_layers
expect_match "$(summary)" '^12 jobs: ' "summary"
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status IN ('completed', 'completed_warning')")" \
	"$([ "$MEMORY" = on ] && echo 10 || echo 11)" "completed jobs"

NET=$(job_lines net.rog | grep 'connect: ' || true)
echo "net: $NET; connections that arrived: $(wc -l <"$ACCEPTED")"
expect_eq "$(job_state net.rog)" "completed_warning -" "the network job still completes"
if [ "$LANDLOCK_ABI" -ge 4 ]; then
	expect_match "$NET" 'connect: \[Errno 13\] Permission denied' "Landlock denies TCP connect"
elif [ "$NETNS" = on ]; then
	expect_match "$NET" 'connect: \[Errno 101\] Network is unreachable' "an empty network namespace"
fi
if [ "$LANDLOCK_ABI" -ge 4 ] || [ "$NETNS" = on ]; then
	expect_eq "$(wc -l <"$ACCEPTED" | tr -d ' ')" 0 "connections that reached the listener"
fi

WR=$(job_lines writeout.rog | grep 'write ' || true)
echo "writes: $(printf '%s' "$WR" | tr '\n' ';')"
expect_eq "$(job_state writeout.rog)" "completed_warning -" "the writing job still completes"
if [ "$LANDLOCK_ABI" -gt 0 ]; then
	[ ! -e "$P/Assets/hacked-writeout.txt" ] || fail "a builder wrote into Assets/"
	[ ! -e "$KILN_TEST_OUTSIDE" ] || fail "a builder wrote $KILN_TEST_OUTSIDE"
	expect_eq "$(printf '%s\n' "$WR" | grep -c 'Permission denied')" 2 "both writes refused"
fi

EAT=$(job_lines eatmem.rog)
if [ "$MEMORY" = on ]; then
	expect_eq "$(job_state eatmem.rog)" "failed crashed" "the memory eater is stopped"
	expect_match "$EAT" 'MemoryError' "the job log says why"
	expect_match "$EAT" 'exited with code 1' "and how it ended"
else
	echo "memory=off (sanitizer build): the memory eater is not stopped"
fi

FORK=$(job_lines fork.rog)
expect_eq "$(job_state fork.rog)" "failed crashed" "a builder that forks and exits"
expect_match "$FORK" 'exited with code 0 without replying' "its exit in the job log"
GRANDCHILD=$(printf '%s\n' "$FORK" | sed -nE 's/.*grandchild ([0-9]+).*/\1/p' | head -n 1)
[ -n "$GRANDCHILD" ] || fail "the grandchild's pid is not in the job log"
! kill -0 "$GRANDCHILD" 2>/dev/null || fail "the grandchild $GRANDCHILD outlived its builder"

step "the same attempts with the layers turned off get through (the checks can fail)"
fkiln reprocess Assets/net.rog Assets/writeout.rog
expect_rc 0
: >"$ACCEPTED"
export KILN_SANDBOX=none
fkiln batch
unset KILN_SANDBOX
# The failed jobs (fork, and the memory eater when it was stopped) are
# retried too, and fail again.
if [ "$MEMORY" = on ]; then
	fault 4
	expect_match "$(summary)" '^4 jobs: 0 completed, 2 with warnings, 0 with errors, 2 failed; ' "summary"
else
	fault 3
	expect_match "$(summary)" '^3 jobs: 0 completed, 2 with warnings, 0 with errors, 1 failed; ' "summary"
fi
expect_rc 1
expect_eq "$(grep -c 'WARN \[host-[0-9]*\] sandbox: netns=off: turned off by KILN_SANDBOX' "$P/Cache/logs/kiln.log")" \
	"$(grep -c 'INFO \[host-[0-9]*\] sandbox: process group.*netns=off' "$P/Cache/logs/kiln.log")" "one warning per host"
expect_match "$(job_lines net.rog)" 'connect: connected' "connected without the sandbox"
expect_match "$(wc -l <"$ACCEPTED")" '^ *[1-9]' "the connection arrived"
[ -e "$P/Assets/hacked-writeout.txt" ] || fail "without Landlock the write into Assets/ should land"
[ -e "$KILN_TEST_OUTSIDE" ] || fail "without Landlock the write to $KILN_TEST_OUTSIDE should land"
rm -f "$P/Assets/hacked-writeout.txt" "$KILN_TEST_OUTSIDE"

faults_report
echo ok
