# The supervisor killed with SIGKILL at random moments during a batch: each
# restart finishes the work; afterwards the database passes its integrity
# check, every product it lists exists with the recorded size and content,
# no product is unlisted, and no temp file is left.
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}],
  "hosts": 2
}
JSON
for d in $(seq 1 10); do
	mkdir -p "$P/Assets/d$d"
	for f in $(seq 1 40); do echo "file $d $f" >"$P/Assets/d$d/f$f.txt"; done
done

# The moments come from bash's RANDOM, seeded and said, so that a failure
# can be run again with the same moments: KILN_TEST_SEED=N.
SEED=${KILN_TEST_SEED:-$(($(date +%s%N) % 32768))}
RANDOM=$SEED
echo "random seed $SEED (KILN_TEST_SEED=$SEED repeats these moments)"
step "kill the supervisor at random moments, five times"
for round in 1 2 3 4 5; do
	"$KILN_BIN/kiln" -p "$P" batch >/dev/null 2>&1 &
	pid=$!
	sleep "0.$((RANDOM % 9 + 1))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# Hosts and builders die with their supervisor (PR_SET_PDEATHSIG).
	for _ in $(seq 1 50); do
		pgrep -f "kiln-builder-host --connect ipc://$P/" >/dev/null || break
		sleep 0.1
	done
	pgrep -f "kiln-builder-host --connect ipc://$P/" >/dev/null && fail "a builder host outlived its supervisor"
	# Change a file between rounds, as a user would.
	echo "round $round" >>"$P/Assets/d$round/f1.txt"
done

step "the next batch finishes everything"
kiln batch
expect_rc 0
kiln batch
expect_match "$(summary)" '^0 jobs:' "nothing left to do"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity check"
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE status <> 'completed'")" 0 "jobs not completed"
expect_eq "$(sql "SELECT count(*) FROM products")" 800 "products"

step "every listed product exists with its size and content; nothing unlisted"
sql "SELECT p.platform, p.path, p.size, s.scan_folder || '/' || s.path FROM products p JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id" >"$T/products"
while IFS='|' read -r plat path size src; do
	f="$P/Cache/$plat/$path"
	[ -f "$f" ] || fail "missing product $f"
	[ "$(stat -c %s "$f")" = "$size" ] || fail "size of $f"
	cmp -s "$f" "$src" || fail "content of $f differs from $src"
done <"$T/products"
(cd "$P/Cache" && find pc linux -type f ! -name assetcatalog.json | sort) >"$T/on-disk"
awk -F'|' '{print $1 "/" $2}' "$T/products" | sort >"$T/listed"
diff "$T/on-disk" "$T/listed" >/dev/null || fail "unlisted or missing products: $(diff "$T/on-disk" "$T/listed" | head -5)"
[ "$(find "$P/Cache/tmp" -type f)" = "" ] || fail "files left in Cache/tmp"
echo ok
