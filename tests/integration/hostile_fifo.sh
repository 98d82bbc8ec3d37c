# (fixed; was pending): a FIFO where kiln expects a file makes kiln hang
# forever, and SIGINT/SIGTERM cannot stop it (see hostile_signals.sh).
#  1. kiln -p DIR jobs with DIR/kiln.json a FIFO: config_load
#     (supervisor/config/project.c) open()s it O_RDONLY before checking S_ISREG, and
#     open blocks in wait_for_partner until a writer comes. Without -p the
#     FIFO is skipped (config_find_root checks S_ISREG). Expected: exit 2,
#     "kiln.json: not a regular file", at once.
#  2. Cache/assetdb.sqlite a FIFO: kiln jobs/assets/status/job hang the same
#     way inside sqlite3_open_v2 (q_open in supervisor/query/database.c only checks
#     for ENOENT). kiln batch and kiln reprocess do say "disk I/O error".
set -e
. "$(dirname "$0")/../integration/lib.sh"
write_config <<JSON
{"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]}
JSON
echo one >"$P/Assets/one.txt"
kiln batch
expect_rc 0

hard() { # kiln with a 10 s limit that SIGKILL enforces
	set +e
	timeout -s KILL 10 "$KILN_BIN/kiln" -p "$P" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	ERR=$(cat "$T/err")
}

step "kiln.json is a FIFO"
mv "$P/kiln.json" "$T/kiln.json"
mkfifo "$P/kiln.json"
hard jobs
[ "$RC" -ne 137 ] || fail "kiln jobs hangs on a FIFO kiln.json"
expect_rc 2
expect_match "$ERR" 'kiln\.json: not a regular file' "message"
rm "$P/kiln.json"
mv "$T/kiln.json" "$P/kiln.json"

step "Cache/assetdb.sqlite is a FIFO"
mv "$P/Cache/assetdb.sqlite" "$T/db"
mkfifo "$P/Cache/assetdb.sqlite"
for cmd in jobs assets status; do
	hard $cmd
	[ "$RC" -ne 137 ] || fail "kiln $cmd hangs on a FIFO database"
	expect_rc 2
	expect_match "$ERR" 'assetdb\.sqlite' "kiln $cmd message"
done
echo ok
