# (fixed; was pending): a database that exists but cannot be read (mode
# 000, read by a user other than root) is reported as missing: "no database
# yet at .../assetdb.sqlite: run kiln batch first", "no jobs", exit 0.
# db_open (supervisor/db/db.c) maps every SQLITE_CANTOPEN of a read-only open
# to KILN_E_NOTFOUND, and q_open (supervisor/query/database.c) turns that into an
# empty listing. Expected: exit 2 and "Permission denied" naming the file.
set -e
. "$(dirname "$0")/../integration/lib.sh"
command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] || {
	echo "needs root and setpriv to run a command as nobody" >&2
	exit 1
}
write_config <<JSON
{"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]}
JSON
echo one >"$P/Assets/one.txt"
kiln batch
expect_rc 0
chmod 755 "$T" "$P" "$P/Cache"
chmod 000 "$P/Cache/assetdb.sqlite"
step "kiln jobs as nobody on an unreadable database"
set +e
setpriv --reuid=nobody --regid=nogroup --clear-groups "$KILN_BIN/kiln" -p "$P" jobs >"$T/out" 2>"$T/err"
RC=$?
set -e
ERR=$(cat "$T/err")
OUT=$(cat "$T/out")
chmod 644 "$P/Cache/assetdb.sqlite"
expect_rc 2
expect_match "$ERR" 'assetdb\.sqlite.*(Permission denied|cannot be read|unable to open)' "message"
echo ok
