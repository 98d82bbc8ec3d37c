# lib.sh: shared helpers for kiln's integration scenarios.
#
# Each scenario sources this file, gets a fresh temporary project in $P,
# runs the real kiln, kiln-builder-host and builders on it, and asserts on
# the cache, the database and the --json output. A failed assertion prints
# what was expected and exits 1; ctest runs every scenario with a timeout.
set -u
: "${KILN_BIN:?KILN_BIN must name the bin folder of the build}"
: "${KILN_TESTS:?KILN_TESTS must name the tests folder}"
PY=/usr/bin/python3
ROGUE="$KILN_TESTS/builders/rogue.py"
T=$(mktemp -d /tmp/kiln-it.XXXXXX)
P="$T/project"
mkdir -p "$P/Assets"
export KILN_TEST_CALL_LOG="$T/calls.log"
: >"$KILN_TEST_CALL_LOG"
STEP=0
cleanup() {
	local rc=$?
	if [ $rc -ne 0 ] && [ -f "$P/Cache/logs/kiln.log" ]; then
		echo "---- last lines of kiln.log ----"
		tail -n 40 "$P/Cache/logs/kiln.log"
	fi
	rm -rf "$T"
}
trap cleanup EXIT

fail() {
	echo "FAIL (step $STEP): $*" >&2
	exit 1
}

step() {
	STEP=$((STEP + 1))
	echo "== $STEP: $*"
}

# kiln ARGS...: runs the real kiln on the project; output in $OUT/$ERR, status in $RC.
kiln() {
	set +e
	timeout 120 "$KILN_BIN/kiln" -p "$P" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "exit code $RC, expected $1; stdout: $OUT; stderr: $ERR"
}

expect_eq() { # actual expected what
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

expect_match() { # text regex what
	printf '%s\n' "$1" | grep -Eq -- "$2" || fail "$3: '$1' does not match /$2/"
}

# The summary line: the last line of stdout.
summary() {
	printf '%s\n' "$OUT" | tail -n 1
}

calls() { # number of builder requests of a type (or all)
	if [ $# -eq 0 ]; then
		wc -l <"$KILN_TEST_CALL_LOG" | tr -d ' '
	else
		grep -c " $1 " "$KILN_TEST_CALL_LOG" || true
	fi
}

reset_calls() { : >"$KILN_TEST_CALL_LOG"; }

sql() { # read-only query on the project database
	$PY - "$P/Cache/assetdb.sqlite" "$1" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PYEOF
}

json_get() { # JSON text on stdin, python expression over `d`
	$PY -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# wait_for SECONDS CONDITION...: evaluates the shell condition every 50 ms
# until it holds (0) or the time is up (1).
wait_for() {
	local limit=$1
	shift
	for _ in $(seq 1 $((limit * 20))); do
		if eval "$@"; then return 0; fi
		sleep 0.05
	done
	return 1
}

write_config() { # kiln.json body on stdin
	cat >"$P/kiln.json"
}
