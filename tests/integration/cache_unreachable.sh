# (fixed; was pending): a "cache" path that can never be a folder because
# of what is on its way loads, and kiln batch then fails with exit 1 and no
# position: "cache": "loop1" (a symlink loop) gives "kiln batch: cannot
# create .../loop1/logs/jobs: Too many levels of symbolic links", and
# "cache": "afile/sub" (a regular file on the way) gives "... Not a
# directory". The read-only commands say "no database yet at ...: run kiln
# batch first", exit 0. config.c now refuses a cache that exists and is not
# a folder (stat succeeds); ELOOP and ENOTDIR from stat fall through as "does
# not exist yet". Expected: exit 2 and kiln.json:LINE:COL at the value, as
# for a file.
set -e
. "$(dirname "$0")/../integration/lib.sh"
echo "a file" >"$P/afile"
ln -s loop2 "$P/loop1"
ln -s loop1 "$P/loop2"
echo one >"$P/Assets/one.txt"
for cache in loop1 afile/sub; do
	printf '{"platforms": ["pc"],\n "cache": "%s",\n "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]}\n' "$cache" >"$P/kiln.json"
	step "kiln batch with the cache at $cache"
	kiln batch
	expect_rc 2
	expect_match "$ERR" 'kiln\.json:2:11: ' "message"
	step "kiln jobs with the cache at $cache"
	kiln jobs
	expect_rc 2
done
echo ok
