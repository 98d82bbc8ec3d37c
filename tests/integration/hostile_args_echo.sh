# (fixed; was pending): the "no source" / "no product" / "unknown source"
# messages of kiln asset, kiln product and kiln reprocess
# (supervisor/query/assets.c, products.c, reprocess.c) print the
# argument raw: an ESC sequence in it reaches the terminal as is (kiln asset
# $'a\x1b[2J' clears the screen), a newline splits the message, and a
# 100,000-character argument is echoed whole (100,076 bytes of stderr).
# supervisor/config/schema.c (cfg_quote) already quotes values with
# escapes and a cut at 60 characters; the query messages should do the
# same. kiln job ' 1' is also taken as job 1 while '1 ' is refused (strtoll
# skips leading blanks).
set -e
. "$(dirname "$0")/../integration/lib.sh"
write_config <<JSON
{"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]}
JSON
echo one >"$P/Assets/one.txt"
kiln batch
expect_rc 0
LONG=$($PY -c "print('x' * 100000)")
for cmd in asset product reprocess; do
	step "kiln $cmd with control characters and a long argument"
	kiln $cmd $'a\x1b[2J\nb\rc'
	expect_rc 1
	printf '%s' "$ERR" | od -c | grep -q '033' && fail "kiln $cmd echoes ESC raw"
	[ "$(printf '%s\n' "$ERR" | grep -c .)" -le 2 ] || fail "kiln $cmd: a newline in the argument splits the message"
	kiln $cmd "$LONG"
	expect_rc 1
	[ "${#ERR}" -lt 1000 ] || fail "kiln $cmd echoes a 100,000-character argument whole (${#ERR} bytes)"
done
step "kiln job ' 1' is refused like '1 '"
kiln job ' 1'
expect_rc 2
echo ok
