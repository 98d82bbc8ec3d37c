# Hostile arguments to the commands that take a path, a UUID or an id:
# kiln asset, kiln product, kiln reprocess and kiln job, with "..", paths
# outside the project, control characters and newlines (argv cannot carry
# a NUL byte, so $'a\x00b' arrives as "a"), 100,000-character arguments and
# bytes that are not UTF-8. Each ends by itself at once with an exit code
# from SPEC section 4 and query.h (2 for an argument that cannot be an id;
# 1 for a source or product that does not exist, which is what a path
# outside the project is), a message naming the command, and nothing
# stored changes or runs again.
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]
}
JSON
mkdir -p "$P/Assets/sub"
echo one >"$P/Assets/one.txt"
echo two >"$P/Assets/sub/two.txt"
echo secret >"$T/outside.txt"
kiln batch
expect_rc 0
snapshot() {
	sql "SELECT id, status, requested, fingerprint, completed_at FROM jobs ORDER BY id"
	sql "SELECT job_id, path, size, hash FROM products ORDER BY id"
}
snapshot >"$T/before"

# run CMD ARG WANT_RC: one command, checked for exit code, time, a message
# on stderr that names the command, and nothing on stdout.
run() {
	local cmd=$1 arg=$2 want=$3 start el shown
	start=$(date +%s%N)
	set +e
	timeout -s KILL 30 "$KILN_BIN/kiln" -p "$P" "$cmd" "$arg" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	el=$(($(date +%s%N) - start))
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	shown=$(printf '%s' "$arg" | head -c 40 | od -An -c | tr -s ' ' | head -c 100)
	[ "$RC" -lt 128 ] || fail "kiln $cmd [$shown] died of signal $((RC - 128)) (or hung for 30 s)"
	[ "$el" -lt 3000000000 ] || fail "kiln $cmd [$shown] took $((el / 1000000)) ms"
	[ "$RC" -eq "$want" ] || fail "kiln $cmd [$shown]: exit $RC, expected $want; stderr: $(head -c 300 "$T/err")"
	expect_match "$(head -n 1 "$T/err")" "^kiln $cmd: " "kiln $cmd [$shown] message"
	[ -z "$OUT" ] || fail "kiln $cmd [$shown]: output on stdout: $(head -c 200 "$T/out")"
}

LONG=$($PY -c "print('x' * 100000)")
LONG_PATH=$($PY -c "print('a/' * 50000)")
LONG_DOTS=$($PY -c "print('../' * 30000 + 'etc/passwd')")
LONG_NUM=$($PY -c "print('9' * 100000)")

step "paths that leave the project, control characters, long and non-UTF-8 arguments"
for cmd in asset product reprocess; do
	for arg in '..' '../..' '../../../../../../etc/passwd' 'Assets/../kiln.json' 'Assets/../../outside.txt' \
		"$T/outside.txt" /etc/passwd / "$P" "$P/kiln.json" "$P/Cache/assetdb.sqlite" "$P/Cache/pc/../../kiln.json" \
		'pc/../../kiln.json' 'pc/../linux/one.txt/..' 'sub/../../one.txt' \
		$'one\ntwo.txt' $'one.txt\n' $'\none.txt' $'one\rtxt' $'one\x1b[2J\x1b[31m.txt' $'a\x00b' $'\x7f' \
		$'\xff\xfe.txt' $'one\xc3.txt' $'\xed\xa0\x80' $'\xc0\xaf' "$LONG" "$LONG_PATH" "$LONG_DOTS" \
		'{00000000-0000-0000-0000-000000000000}' '{zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz}' '{}' '{}:0' \
		'{00000000-0000-0000-0000-000000000000}:ffffffffffffffffffff' ':' '*' '%' "' OR 1=1 --" \
		'one.txt%' '_ne.txt' '/proc/self/fd/0' '/dev/zero'; do
		run "$cmd" "$arg" 1
	done
done

step "kiln job takes a positive number and nothing else"
for arg in '..' '../../etc/passwd' '/etc/passwd' $'1\n' $'1\x1b[2J' $'\xff' "$LONG" "$LONG_NUM" '0' '-0' \
	'99999999999999999999' '9223372036854775808' '1e3' '0x10' '1.0' '1 ' '' "1' OR 1=1 --"; do
	run job "$arg" 2
done
run job 9223372036854775807 1
run job 424242 1

step "an option-like argument is a usage error, and -- lets it through as a path"
run asset '-x' 2
set +e
"$KILN_BIN/kiln" -p "$P" asset -- -x >"$T/out" 2>"$T/err"
RC=$?
set -e
expect_rc 1

step "reprocess with one good and one hostile path marks nothing (all or none)"
set +e
"$KILN_BIN/kiln" -p "$P" reprocess one.txt "$LONG_DOTS" >"$T/out" 2>"$T/err"
RC=$?
set -e
expect_rc 1
expect_eq "$(sql "SELECT count(*) FROM jobs WHERE requested <> 0")" 0 "jobs marked"

step "the real sources are still found by their paths"
kiln asset one.txt
expect_rc 0
kiln asset "$P/Assets/sub/two.txt"
expect_rc 0
kiln product pc/sub/two.txt
expect_rc 0

step "nothing stored changed; nothing runs again"
snapshot >"$T/after"
diff "$T/before" "$T/after" >/dev/null || fail "the database changed: $(diff "$T/before" "$T/after" | head -5)"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity check"
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs:' "no job after the hostile arguments"
echo ok
