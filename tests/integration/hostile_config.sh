# Hostile project files and folders through the real kiln (SPEC section 7:
# "a malformed kiln.json ... gets a clear error, and nothing that was
# already processed is lost"). Each bad kiln.json is exit 2 with
# kiln.json:LINE:COL where a position applies, the process ends by itself
# (no signal, no hang), and the Cache with its products and database is
# untouched: same files, same bytes, integrity ok. Every JSON case against
# config_parse directly is in tests/unit/hostile_test.c; this scenario
# covers what only the file system and the command line can do.
set -e
. "$(dirname "$0")/lib.sh"

GOOD='{"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]}'
printf '%s\n' "$GOOD" >"$P/kiln.json"
for i in 1 2 3; do echo "one $i" >"$P/Assets/f$i.txt"; done
kiln batch
expect_rc 0

# A fingerprint of everything the batch made: product bytes, the
# database's rows (not its pages: a read may checkpoint the WAL).
snapshot() {
	(cd "$P/Cache" && find pc -type f -exec sha1sum {} + | sort)
	sql "SELECT id, status, fingerprint, completed_at FROM jobs ORDER BY id"
	sql "SELECT job_id, path, size, hash FROM products ORDER BY id"
}
snapshot >"$T/before"

untouched() {
	snapshot >"$T/after"
	diff "$T/before" "$T/after" >/dev/null || fail "the cache changed: $(diff "$T/before" "$T/after" | head -5)"
	expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity check"
}

# bad EXPECTED-STDERR-REGEX: runs kiln batch and a read-only command on
# the kiln.json in place; both must say EXPECTED and exit 2.
bad() {
	for cmd in batch jobs; do
		kiln $cmd
		[ "$RC" -lt 128 ] || fail "kiln $cmd died of signal $((RC - 128))"
		expect_rc 2
		expect_match "$ERR" "$1" "kiln $cmd message"
	done
	untouched
}

F="$P/kiln.json"
step "empty, only whitespace, a JSON array, a string"
: >"$F"
bad "kiln\.json:1:1: .*end of input"
printf ' \n\t\n' >"$F"
bad "kiln\.json:3:1: .*end of input"
printf '[]' >"$F"
bad "kiln\.json:1:1: .*not an array"
printf '"kiln"' >"$F"
bad "kiln\.json:1:1: .*not a string"

step "a 10 MB file is refused by its size, at once"
python3 -c "import sys; sys.stdout.write('{\"project\": \"' + 'x' * 10000000 + '\"}')" >"$F"
start=$(date +%s%N)
bad "kiln\.json:1:1: .*larger than"
[ $(($(date +%s%N) - start)) -lt 4000000000 ] || fail "a 10 MB kiln.json took more than 4 s"

step "nesting 10,000 deep, at the top and inside a key"
python3 -c "import sys; sys.stdout.write('[' * 10000 + ']' * 10000)" >"$F"
bad "kiln\.json:1:65: .*nesting deeper"
python3 -c "import sys; sys.stdout.write('{\n  \"excludes\": ' + '[' * 10000 + ']' * 10000 + '\n}')" >"$F"
bad "kiln\.json:2:(1[4-9]|[2-7][0-9]): .*nesting deeper"

step "unknown keys at each level"
printf '{"platforms": ["pc"],\n "platfrom": 1}' >"$F"
bad 'kiln\.json:2:2: .*unknown key "platfrom"'
printf '{"scan_folders": [\n  {"path": "Assets", "recursiv": true}]}' >"$F"
bad 'kiln\.json:2:22: .*unknown key "recursiv" in scan_folders\[0\]'
printf '{"builders": [\n  {"exec": "kiln-copy", "timeout": 5}]}' >"$F"
bad 'kiln\.json:2:25: .*unknown key "timeout" in builders\[0\]'

step "wrong types for keys at each level"
printf '{"platforms": "pc"}' >"$F"
bad 'kiln\.json:1:15: .*platforms must be an array'
printf '{"scan_folders": [{"path": "Assets", "order": "1"}]}' >"$F"
bad 'kiln\.json:1:47: .*scan_folders\[0\]\.order'
printf '{"builders": [{"exec": "kiln-copy", "persistent": "yes"}]}' >"$F"
bad 'kiln\.json:1:51: .*builders\[0\]\.persistent'
printf '{"hosts": [2]}' >"$F"
bad 'kiln\.json:1:11: .*hosts'

step "duplicate keys"
printf '{"hosts": 1,\n "hosts": 2}' >"$F"
bad 'kiln\.json:2:2: .*duplicate key "hosts"'
printf '{"builders": [{"exec": "kiln-copy",\n  "exec": "kiln-copy"}]}' >"$F"
bad 'kiln\.json:2:3: .*duplicate key "exec"'

step "NUL bytes, invalid UTF-8, UTF-16 and a doubled byte-order mark"
printf '{"project": "a\0b"}' >"$F"
bad 'kiln\.json:1:15: .*control character 0x00'
printf '{\0}' >"$F"
bad 'kiln\.json:1:2: '
printf '{"project": "caf\xe9"}' >"$F"
bad 'kiln\.json:1:(17|18): .*invalid UTF-8'
printf '\xff\xfe{\0}\0' >"$F"
bad 'kiln\.json:1:1: .*(UTF-8|byte 0xff)'
printf '\xef\xbb\xbf\xef\xbb\xbf{}' >"$F"
bad 'kiln\.json:1:4: '

step "numbers: 1e999, 2^63, -0 where zero is out of range, a fraction"
printf '{"hosts": 1e999}' >"$F"
bad 'kiln\.json:1:11: .*out of range'
printf '{"hosts": 9223372036854775808}' >"$F"
bad 'kiln\.json:1:11: .*hosts must be an integer'
printf '{"builders": [{"exec": "kiln-copy", "timeout_s": -0}]}' >"$F"
bad 'kiln\.json:1:50: .*timeout_s must be an integer from 1'
printf '{"hosts": 2.5}' >"$F"
bad 'kiln\.json:1:11: .*hosts must be an integer'

step "trailing garbage"
printf '%s x' "$GOOD" >"$F"
bad "kiln\.json:1:$((${#GOOD} + 2)): .*after the JSON value"
printf '%s}' "$GOOD" >"$F"
bad "kiln\.json:1:$((${#GOOD} + 1)): "

step "a byte-order mark before a good file is fine, and -0 hosts is 0"
printf '\xef\xbb\xbf{"hosts": -0, "platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]}' >"$F"
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs:' "nothing to do"
untouched

step "kiln.json that is a folder, a link to /dev/zero, a link loop"
rm "$F"
mkdir "$F"
bad "kiln\.json: not a regular file"
rmdir "$F"
ln -s /dev/zero "$F"
bad "kiln\.json: not a regular file"
rm "$F"
ln -s kiln.json "$F"
bad "kiln\.json: cannot read: Too many levels of symbolic links"
rm "$F"

step "kiln.json that cannot be read"
printf '%s\n' "$GOOD" >"$F"
chmod 000 "$F"
if [ "$(id -u)" != 0 ]; then
	bad "kiln\.json: cannot read: Permission denied"
elif command -v setpriv >/dev/null && setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
	# Root reads a mode-000 file anyway; a read-only command run as
	# nobody shows the error a user gets.
	chmod 755 "$T" "$P"
	set +e
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$KILN_BIN/kiln" -p "$P" jobs >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	ERR=$(cat "$T/err")
	expect_rc 2
	expect_match "$ERR" "kiln\.json: cannot read: Permission denied" "unreadable kiln.json"
else
	echo "   (running as root without setpriv: a mode-000 kiln.json is readable; not checked)"
fi
chmod 644 "$F"
untouched

step "a scan folder that is a file, a missing one, a symlink loop"
echo "a file" >"$P/afile"
ln -s loop2 "$P/loop1"
ln -s loop1 "$P/loop2"
printf '{"platforms": ["pc"],\n "scan_folders": [{"path": "afile"}],\n "builders": [{"exec": "kiln-copy"}]}' >"$F"
bad 'kiln\.json:2:28: .*"afile"'
printf '{"platforms": ["pc"],\n "scan_folders": [{"path": "nowhere"}],\n "builders": [{"exec": "kiln-copy"}]}' >"$F"
bad 'kiln\.json:2:28: .*"nowhere"'
printf '{"platforms": ["pc"],\n "scan_folders": [{"path": "loop1"}],\n "builders": [{"exec": "kiln-copy"}]}' >"$F"
bad 'kiln\.json:2:28: .*"loop1".*symbolic links'

step "links inside a scan folder that point up or out do not make kiln loop or leave the project"
printf '%s\n' "$GOOD" >"$F"
mkdir -p "$P/Assets/sub"
ln -s .. "$P/Assets/sub/up"
ln -s ../.. "$P/Assets/sub/up2"
ln -s / "$P/Assets/root"
ln -s "$P/Assets" "$P/Assets/self"
timeout -s KILL 60 "$KILN_BIN/kiln" -p "$P" batch >"$T/out" 2>"$T/err" || fail "batch with link loops: $(cat "$T/err")"
kiln assets --json
expect_eq "$(printf '%s' "$OUT" | json_get 'sorted(a["source"] for a in d)')" "['f1.txt', 'f2.txt', 'f3.txt']" "sources"
untouched

step "the good file again: nothing was lost, nothing runs"
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs:' "no job after the bad files"
untouched
echo ok
