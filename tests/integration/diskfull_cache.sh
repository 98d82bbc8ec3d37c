# A Cache on a small file system that fills up (SPEC sections 6 and 7):
# jobs whose products do not fit fail, kiln batch exits 1 and does not
# crash, nothing half-written is left in Cache/<platform> or Cache/tmp,
# every product the database lists is whole, the products of a job's last
# good run stay in place, the database passes its integrity check, and
# once space is freed the next batch completes everything.
#
# The small file system is a tmpfs mounted in a private mount namespace
# (unshare -m), or in a user namespace (unshare -U -r -m) where that is
# allowed instead, or, where namespaces are refused but mounting is not, in
# the test's own namespace; an ext4 image on a loop device stands in where
# tmpfs cannot be mounted. Where none of these is possible for lack of
# privilege (a default Docker container: no CAP_SYS_ADMIN, unshare and
# mount blocked by seccomp), the test says so on stderr and exits 77, a
# skip to ctest (SKIP_RETURN_CODE);
# failing to mount for any other reason fails the test.
set -e

if [ -z "${KILN_DISKFULL_MODE:-}" ]; then
	# probe: mounts a 1 MiB tmpfs, or failing that a loop ext4, on a
	# temporary folder and unmounts it; prints the file system type.
	PROBE='d=$(mktemp -d /tmp/kiln-diskfull-probe.XXXXXX) || exit 1
	if [ -z "${KILN_DISKFULL_NO_TMPFS:-}" ] && mount -t tmpfs -o size=1m tmpfs "$d" 2>"$d.err"; then umount "$d"; rmdir "$d"; rm -f "$d.err"; echo tmpfs; exit 0; fi
	cat "$d.err" >&2 2>/dev/null
	if command -v mkfs.ext4 >/dev/null && truncate -s 4m "$d.img" && mkfs.ext4 -q -F -b 4096 "$d.img" 2>&2 &&
		mount -o loop "$d.img" "$d" 2>&2; then umount "$d"; rm -f "$d.img" "$d.err"; rmdir "$d"; echo loop; exit 0; fi
	rm -f "$d.img" "$d.err"; rmdir "$d"; exit 1'
	why=""
	# KILN_DISKFULL_MODES and KILN_DISKFULL_NO_TMPFS=1 narrow the choice,
	# to try each way on a machine where the first one works.
	for mode in ${KILN_DISKFULL_MODES:-mountns userns here}; do
		case $mode in
		mountns) run="unshare -m --propagation private" ;;
		userns) run="unshare -U -r -m --propagation private" ;;
		here) run="" ;;
		esac
		command -v unshare >/dev/null || [ "$mode" = here ] || {
			why="$why
  $mode: no unshare command"
			continue
		}
		if fs=$($run sh -c "$PROBE" 2>"/tmp/kiln-diskfull-why.$$"); then
			rm -f "/tmp/kiln-diskfull-why.$$"
			echo "== small file system: $fs, mounted in mode $mode"
			export KILN_DISKFULL_MODE=$mode KILN_DISKFULL_FS=$fs
			# shellcheck disable=SC2086
			exec $run bash "$0" "$@"
		fi
		why="$why
  $mode: $(tr '\n' ' ' <"/tmp/kiln-diskfull-why.$$")"
		rm -f "/tmp/kiln-diskfull-why.$$"
	done
	if printf '%s' "$why" | grep -qiE 'operation not permitted|permission denied|must be superuser|only root|not privileged'; then
		echo "diskfull_cache: SKIPPED: no small file system can be mounted here for lack of privilege" \
			"(the test needs root with CAP_SYS_ADMIN, or user namespaces):$why" >&2
		exit 77
	fi
	echo "diskfull_cache: cannot mount a small file system, and not for lack of privilege:$why" >&2
	exit 1
fi

. "$(dirname "$0")/lib.sh"

SMALL="$T/small"
mkdir -p "$SMALL"
if [ "$KILN_DISKFULL_FS" = tmpfs ]; then
	mount -t tmpfs -o size=8m tmpfs "$SMALL"
else
	# 4 KiB blocks, as on real disks: mkfs picks 1 KiB blocks for an image
	# this small, and then SQLite's shared-memory file (mmap'd, grown by
	# writing one byte per 4 KiB page) keeps holes that a full disk turns
	# into SIGBUS inside SQLite (see supervisor/robustness.md).
	truncate -s 12m "$T/small.img"
	mkfs.ext4 -q -F -m 0 -b "${KILN_DISKFULL_BLOCK:-4096}" "$T/small.img"
	mount -o loop "$T/small.img" "$SMALL"
fi
# Unmount before lib.sh's cleanup removes $T (in the test's own namespace
# the mount would otherwise outlive the test).
trap 'rc=$?; set +e; umount -l "$SMALL" 2>/dev/null; (exit $rc); cleanup' EXIT
C="$SMALL/Cache"

csql() { # read-only query on the database on the small file system
	$PY - "$C/assetdb.sqlite" "$1" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PYEOF
}

# What must hold on a full disk: every product
# the database lists exists with the size it records; every file in
# Cache/pc is whole (the bytes of a source, now or at its last good run:
# no partial file); nothing is left in Cache/tmp; the database passes its
# integrity check; and nothing in Cache/pc is unlisted.
check_cache() {
	csql "SELECT p.path, p.size FROM products p WHERE p.platform = 'pc'" >"$T/listed"
	while IFS='|' read -r path size; do
		f="$C/pc/$path"
		[ -f "$f" ] || fail "listed product $path is missing"
		[ "$(stat -c %s "$f")" = "$size" ] || fail "product $path: $(stat -c %s "$f") bytes, the database says $size"
	done <"$T/listed"
	(cd "$C/pc" && find . -type f ! -name assetcatalog.json | sed 's|^\./||' | sort) >"$T/on-disk"
	while read -r path; do
		cmp -s "$C/pc/$path" "$P/Assets/$path" || cmp -s "$C/pc/$path" "$T/good/$path" ||
			fail "Cache/pc/$path is not a whole copy of its source"
	done <"$T/on-disk"
	cut -d'|' -f1 "$T/listed" | sort >"$T/listed-paths"
	diff "$T/on-disk" "$T/listed-paths" >/dev/null ||
		fail "files in Cache/pc that the database does not list, or the reverse: $(diff "$T/on-disk" "$T/listed-paths" | head -5)"
	[ -z "$(find "$C/tmp" -type f ! -name '*.sock' 2>/dev/null)" ] || fail "files left in Cache/tmp: $(find "$C/tmp" -type f | head -3)"
	expect_eq "$(csql "PRAGMA integrity_check")" ok "integrity check"
}

# content_is PATH FILE: the product at Cache/pc/PATH holds FILE's bytes.
content_is() {
	cmp -s "$C/pc/$1" "$2" || fail "product $1 does not hold the bytes of $2"
}

write_config <<JSON
{
  "platforms": ["pc"],
  "cache": "$C",
  "builders": [{"exec": "kiln-copy", "patterns": ["*.txt", "*.bin"]}],
  "hosts": 1
}
JSON
for i in 1 2 3 4 5; do echo "small $i" >"$P/Assets/s$i.txt"; done
mkdir -p "$T/good"
cp "$P/Assets/s1.txt" "$T/good/s1.txt"

step "a first batch on the small file system"
kiln batch
expect_rc 0
expect_match "$(summary)" '^5 jobs: 5 completed' "first batch"
check_cache

# KILN_DISKFULL_FREE_KB (default 300) sets the room left; with 60 KB even
# the database's commits meet the full disk (tests/integration/
# diskfull_messages.sh runs both).
FREE_KB=${KILN_DISKFULL_FREE_KB:-300}
step "fill the file system to within $FREE_KB KB; products of 1 MB cannot land"
dd if=/dev/zero of="$SMALL/filler" bs=64k 2>/dev/null || true
truncate -s "-${FREE_KB}k" "$SMALL/filler"
for i in 1 2 3 4; do head -c 1000000 /dev/urandom >"$P/Assets/big$i.bin"; done
for i in 6 7 8; do head -c 1000 /dev/urandom >"$P/Assets/s$i.txt"; done
# A source whose last good product is small grows past the free space: its
# job fails and the old product must stay.
head -c 1000000 /dev/urandom >"$P/Assets/s1.txt"
kiln batch
[ "$RC" -lt 128 ] || fail "kiln batch died of signal $((RC - 128))"
expect_rc 1
expect_match "$(summary)" '^[0-9]+ jobs: .* [1-9][0-9]* failed; ' "summary with failed jobs"
# The batch's own report names each job that could not land.
for s in big1.bin big2.bin big3.bin big4.bin s1.txt; do
	expect_match "$ERR" "FAILED $P/Assets/$s .*reason=failed" "the FAILED line of $s"
done
# The database says the same, and each failed job's log keeps the
# builder's "No space left on device". This holds even when a commit of the
# database fails while a product that does not fit fills the disk to the
# last byte (with 60 KB free that is every run): the records are written
# again once the space comes back.
kiln jobs --json
expect_rc 0
echo "$OUT" >"$T/jobs.json"
for s in big1.bin big2.bin big3.bin big4.bin s1.txt; do
	expect_eq "$(json_get "[(j['status'], j['reason']) for j in d if j['source'] == '$s'][:1]" <"$T/jobs.json")" \
		"[('failed', 'failed')]" "status and reason of $s in the database"
done
# Jobs that fitted completed; none is left pending or processing.
expect_eq "$(json_get "sorted(set(j['status'] for j in d) - {'completed', 'failed'})" <"$T/jobs.json")" "[]" "other statuses"
expect_eq "$(json_get "len([j for j in d if j['status'] == 'failed' and j['errors'] < 1])" <"$T/jobs.json")" 0 "failed jobs without an error count"
for id in $(json_get "' '.join(str(j['id']) for j in d if j['status'] == 'failed')" <"$T/jobs.json"); do
	kiln job "$id" --json
	expect_match "$(printf '%s' "$OUT" | json_get "' | '.join(l['message'] for l in d['lines'])")" \
		'No space left on device|disk is full' "job $id's log lines"
done
check_cache
# The job that failed kept its last good product, whole.
content_is s1.txt "$T/good/s1.txt"
expect_eq "$(csql "SELECT size FROM products WHERE path = 's1.txt'")" "$(stat -c %s "$T/good/s1.txt")" "size of the kept product"

step "the file system entirely full: kiln says so and does not crash"
dd if=/dev/zero of="$SMALL/filler2" bs=4k 2>/dev/null || true
echo "one more" >"$P/Assets/s9.txt"
kiln batch
[ "$RC" -lt 128 ] || fail "kiln batch on a full disk died of signal $((RC - 128))"
[ "$RC" -eq 1 ] || [ "$RC" -eq 2 ] || fail "kiln batch on a full disk: exit $RC; stderr: $ERR"
[ -n "$ERR" ] || fail "kiln batch on a full disk said nothing on stderr"
expect_match "$ERR" "$C" "the message names the cache"
expect_match "$ERR" 'No space left on device|disk is full|disk may be full' "the message says the disk is full"
printf '%s' "$ERR" | grep -qi damaged && fail "a full disk is reported as a damaged database: $ERR"
kiln jobs
[ "$RC" -lt 128 ] || fail "kiln jobs on a full disk died of signal $((RC - 128))"
rm -f "$SMALL/filler2"
check_cache

step "space freed: the next batch completes everything"
rm -f "$SMALL/filler"
kiln batch
expect_rc 0
expect_match "$(summary)" ' 0 failed; ' "no failure once there is space"
kiln jobs --json
expect_eq "$(printf '%s' "$OUT" | json_get "sorted(set(j['status'] for j in d))")" "['completed']" "every job completed"
check_cache
for s in big1.bin big2.bin big3.bin big4.bin s1.txt s6.txt s9.txt; do content_is "$s" "$P/Assets/$s"; done
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs:' "nothing left to do"
echo ok
