# More builder hosts than one poll set held before (64): a batch with 100
# hosts starts each host once, every host connects and takes work, and no
# host is stopped for "not connecting in time" (issue 13, item 13: hosts 64
# and up were never polled, so they never became ready for work).
set -e
. "$(dirname "$0")/lib.sh"
N=100

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}],
  "hosts": $N
}
JSON
for i in $(seq 1 $((N * 3))); do echo "file $i" >"$P/Assets/f$i.txt"; done

step "a batch on $N hosts completes every job"
kiln batch
expect_rc 0
expect_match "$(summary)" "^$((N * 3)) jobs: $((N * 3)) completed, 0 with warnings, 0 with errors, 0 failed; " "summary"
LOG="$P/Cache/logs/kiln.log"

step "every host started once, none timed out"
STARTS=$(grep -c 'host [0-9]*: started, pid' "$LOG" || true)
[ "$STARTS" -le "$N" ] || fail "$STARTS host starts for $N hosts"
! grep -q 'did not connect in time' "$LOG" || fail "a host was stopped for not connecting: $(grep -m1 'did not connect' "$LOG")"
# Hosts past the 64th connected and ran jobs: each host's log says when it
# starts its first builder, which it does for its first job.
TOP=$(grep -o 'host [0-9]*: started' "$LOG" | awk '{print $2}' | tr -d : | sort -n | tail -1)
[ "$TOP" -ge 64 ] || fail "only hosts up to $TOP started; the test needs more than 64"
HIGH=$(grep -o '\[host-[0-9]*\] started builder' "$LOG" | grep -o '[0-9]*' | sort -un | awk '$1 >= 64' | wc -l)
[ "$HIGH" -ge 1 ] || fail "no host numbered 64 or more ran a job"
echo "hosts started: $STARTS, highest index $TOP, hosts numbered 64 and up that ran jobs: $HIGH"
echo ok
