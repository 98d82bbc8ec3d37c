# (fixed; was pending): "cache" naming a file (or /proc/version) loads, and
# kiln batch then fails with exit 1: "kiln batch: cannot create
# .../afile/logs/jobs: Not a directory". That is a configuration error:
# expected exit 2 and kiln.json:LINE:COL at the "cache" value (config.c
# checks scan folders on disk but not the cache). The read-only commands
# say "no database yet at .../afile/assetdb.sqlite: run kiln batch first"
# and exit 0, which kiln batch cannot fix.
set -e
. "$(dirname "$0")/../integration/lib.sh"
echo "a file" >"$P/afile"
echo one >"$P/Assets/one.txt"
printf '{"platforms": ["pc"],\n "cache": "afile",\n "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}]}\n' >"$P/kiln.json"
step "kiln batch with a cache that is a file"
kiln batch
expect_rc 2
expect_match "$ERR" 'kiln\.json:2:11: .*afile' "message"
step "kiln jobs with a cache that is a file"
kiln jobs
expect_rc 2
echo ok
