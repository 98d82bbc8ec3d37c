# Scanning: excludes, scan-folder order overrides (and their removal),
# per-folder platforms, names with spaces, symbolic links out of a scan
# folder not followed, hash mode, and kiln reprocess.
set -e
. "$(dirname "$0")/lib.sh"

mkdir -p "$P/Shared" "$P/Outside" "$P/Assets/.git" "$P/Assets/deep/er/still deeper"
write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "scan_folders": [
    {"path": "Assets", "order": 0},
    {"path": "Shared", "order": 10, "platforms": ["pc"]}
  ],
  "excludes": ["(^|/)\\\\.git/", "\\\\.swp\$", "^ignored/"],
  "builders": [{"exec": "kiln-copy", "patterns": ["*.txt", "re:^bin/.*\\\\.dat\$"]}],
  "hosts": 2
}
JSON
echo "assets a" >"$P/Assets/a.txt"
echo "shared a" >"$P/Shared/a.txt"
echo "shared b" >"$P/Shared/b.txt"
echo "git" >"$P/Assets/.git/config.txt"
echo "swap" >"$P/Assets/x.txt.swp"
mkdir -p "$P/Assets/ignored" "$P/Assets/bin"
echo "ignored" >"$P/Assets/ignored/i.txt"
echo "deep" >"$P/Assets/deep/er/still deeper/My File.TXT"
echo "dat" >"$P/Assets/bin/data.dat"
echo "not matched" >"$P/Assets/other.dat"
echo "secret" >"$P/Outside/secret.txt"
ln -s "$P/Outside/secret.txt" "$P/Assets/link-out.txt"
ln -s "a.txt" "$P/Assets/link-in.txt"
ln -s "$P/Outside" "$P/Assets/outdir"

step "excludes, overrides, platforms, spaces and links"
kiln batch
expect_rc 0
kiln assets --json
SRC=$(printf '%s' "$OUT" | json_get '" ".join(sorted(a["source"] for a in d))')
expect_eq "$SRC" "a.txt b.txt bin/data.dat deep/er/still deeper/My File.TXT link-in.txt" "sources"
expect_eq "$(cat "$P/Cache/pc/a.txt")" "assets a" "the lower order folder wins"
[ -f "$P/Cache/pc/b.txt" ] && [ ! -e "$P/Cache/linux/b.txt" ] || fail "folder platforms"
[ -f "$P/Cache/linux/deep/er/still deeper/my file.txt" ] || fail "spaces and lowercase"
[ ! -e "$P/Cache/pc/link-out.txt" ] && [ ! -e "$P/Cache/pc/outdir" ] || fail "a link out of the scan folder was followed"
expect_eq "$(printf '%s' "$OUT" | json_get '[a["scan_folder"] for a in d if a["source"]=="b.txt"][0]')" "$P/Shared" "scan folder of b.txt"

step "removing the override brings the other file back"
rm "$P/Assets/a.txt"
kiln batch
expect_rc 0
expect_eq "$(cat "$P/Cache/pc/a.txt")" "shared a" "shared a.txt takes over"
[ ! -e "$P/Cache/linux/a.txt" ] || fail "the shared folder is pc only"

step "adding the override back replaces it again"
echo "assets a again" >"$P/Assets/a.txt"
kiln batch
expect_rc 0
expect_eq "$(cat "$P/Cache/pc/a.txt")" "assets a again" "override"

step "hash mode notices a change that keeps size and mtime"
M=$(stat -c %y "$P/Assets/bin/data.dat")
printf 'DAT\n' >"$P/Assets/bin/data.dat"
touch -d "$M" "$P/Assets/bin/data.dat"
kiln batch
expect_match "$(summary)" '^0 jobs:' "fast mode trusts size and mtime"
kiln batch --hash
expect_match "$(summary)" '^2 jobs: 2 completed' "hash mode"
expect_eq "$(cat "$P/Cache/linux/bin/data.dat")" "DAT" "content"

step "kiln reprocess runs a source's jobs again"
kiln reprocess "Shared/b.txt"
expect_rc 0
kiln batch
expect_match "$(summary)" '^1 jobs: 1 completed' "reprocess"
kiln jobs --json
expect_eq "$(printf '%s' "$OUT" | json_get '[j["run_reason"] for j in d if j["source"]=="b.txt"][0]')" "asked for by a user" "run reason"
kiln reprocess "Assets/nope.txt"
expect_rc 1

step "a database from a newer kiln is refused, not damaged"
$PY -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=99'); c.commit()" "$P/Cache/assetdb.sqlite"
kiln batch
[ "$RC" -ne 0 ] || fail "a newer database was accepted"
expect_match "$ERR" 'newer' "message"
echo ok
