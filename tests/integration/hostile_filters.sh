# Hostile --filter regexes on kiln jobs, kiln assets and kiln products
# (SPEC section 7: "a regex that would run away gets a clear error"), on a
# project whose sources have names near the 255-byte limit. Each listing
# ends by itself within a few seconds: exit 0 with a JSON array, or exit 2
# with a message that starts "kiln CMD: filter:". Nothing stored changes.
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}],
  "hosts": 2
}
JSON
# 150 sources with 240-byte names of one letter repeated (the subject that
# backtracking regexes choke on), in folders, plus a few ordinary ones.
$PY - "$P/Assets" <<'PYEOF'
import os, sys
base = sys.argv[1]
for i in range(150):
    d = os.path.join(base, "d%d" % (i % 5))
    os.makedirs(d, exist_ok=True)
    name = ("a" if i % 2 else "x") * 232 + "%04d.txt" % i
    open(os.path.join(d, name), "w").write("%d\n" % i)
for n in ("plain.txt", "caf\u00e9.txt"):
    open(os.path.join(base, n), "w").write(n)
open(os.path.join(base.encode(), b"latin1-\xe9.txt"), "w").write("x")
PYEOF
kiln batch
expect_rc 0
expect_match "$(summary)" '^153 jobs: 153 completed' "first batch"
sql "SELECT count(*), sum(size) FROM products" >"$T/before"

LIMIT_NS=${HOSTILE_FILTER_LIMIT_NS:-3000000000}

# listing CMD FILTER: runs kiln CMD --filter FILTER --json with a hard
# limit (kiln blocks SIGTERM, so only SIGKILL ends a hung one), and checks
# the outcome and the time.
listing() {
	local cmd=$1 re=$2 start el
	start=$(date +%s%N)
	set +e
	timeout -s KILL 30 "$KILN_BIN/kiln" -p "$P" "$cmd" --filter "$re" --json >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	el=$(($(date +%s%N) - start))
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	local shown
	shown=$(printf '%s' "$re" | head -c 40 | od -An -c | tr -s ' ' | head -c 120)
	[ "$RC" -lt 128 ] || fail "kiln $cmd --filter [$shown] died of signal $((RC - 128)) (or was killed after 30 s)"
	[ "$el" -lt "$LIMIT_NS" ] || fail "kiln $cmd --filter [$shown] took $((el / 1000000)) ms"
	case $RC in
	0)
		printf '%s' "$OUT" | json_get 'isinstance(d, list)' | grep -qx True ||
			fail "kiln $cmd --filter [$shown]: exit 0 without a JSON array: $OUT"
		;;
	2)
		expect_match "$ERR" "^kiln $cmd: filter: " "kiln $cmd --filter [$shown] message"
		[ -z "$OUT" ] || fail "kiln $cmd --filter [$shown]: exit 2 with output on stdout"
		# The message is one line that does not echo the pattern whole.
		[ "$(printf '%s\n' "$ERR" | wc -l)" -le 2 ] || fail "kiln $cmd: a multi-line filter error"
		[ "${#ERR}" -lt 1000 ] || fail "kiln $cmd: a filter error of ${#ERR} bytes"
		;;
	*) fail "kiln $cmd --filter [$shown]: exit $RC; stderr: $ERR" ;;
	esac
}

BIG_ALT=$($PY -c "print('(a|b)' * 20000)")
BIG_LIT=$($PY -c "print('a' * 100000)")
BIG_NEST=$($PY -c "print('(' * 5000 + 'a' + ')' * 5000)")
BIG_CLASS=$($PY -c "print('[' + 'a-z' * 30000 + ']')")

step "catastrophic, huge, broken and odd regexes on jobs, assets and products"
for cmd in jobs assets products; do
	for re in '(a+)+$' '(x+x+)+y' '((a*)*)*b' '(a|aa)+$' '(a|a?)+$' '(.*a){20}' '(.*a){12}$' \
		'(?:a+)+(?:b+)+c' '^(a?){40}a{40}$' '(\w+\s?)+$' '(a+)+\1$' '(?=(a+)+$)' '(?!(a+)+b)x' \
		'a{100000}{100000}' 'a{65535}' '(?:a{1000}){1000}' '(a{2,}){2,}b' \
		"$BIG_ALT" "$BIG_LIT" "$BIG_NEST" "$BIG_CLASS" \
		'(*LIMIT_MATCH=4000000000)(a+)+$' '(*LIMIT_DEPTH=4000000000)(a+)+$' '(*LIMIT_HEAP=4000000000)(a+)+$' \
		'(*NO_JIT)(a+)+$' '(*NO_AUTO_POSSESS)(*NO_START_OPT)(a+)+$' '(?R)' '(a(?1)?)' '(?C1)a' '\C+' \
		$'\xff\xfe' $'\xff(' $'(*UTF)\xff' $'caf\xc3' '\' '[' '(' '(?<' '\p{Foo}' '\x{110000}' \
		'' 'a' '^x{232}' 'é' 'café' '(?i)PLAIN' 'completed' 'failed'; do
		listing "$cmd" "$re"
	done
done

step "a plain filter still works and finds what it should"
listing jobs '^d0/x+0000\.txt$'
expect_rc 0
expect_eq "$(printf '%s' "$OUT" | json_get 'len(d)')" 1 "one job matches"
listing assets 'caf'
expect_rc 0
expect_eq "$(printf '%s' "$OUT" | json_get 'len(d)')" 1 "one asset matches caf"
listing products '^d3/'
expect_rc 0
expect_eq "$(printf '%s' "$OUT" | json_get 'len(d)')" 30 "products under d3/"

step "the filter error says what went wrong"
listing jobs '(a+)+$'
expect_rc 2
expect_match "$ERR" 'match limit' "run-away regex message"
listing assets '('
expect_rc 2
expect_match "$ERR" 'parenthesis' "syntax error message"
listing products 'a{100000}{100000}'
expect_rc 2
expect_match "$ERR" 'too big' "huge repeat message"

step "nothing stored changed; nothing runs again"
sql "SELECT count(*), sum(size) FROM products" >"$T/after"
diff "$T/before" "$T/after" >/dev/null || fail "products changed"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity check"
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs:' "no job after the filters"
echo ok
