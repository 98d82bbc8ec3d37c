# kiln init registers every shipped builder (issue 13, item 8): a PNG, an
# OBJ, a WAV and an XML dropped into a new project's Assets/ are each
# processed, and the patterns it writes are the builders' own.
set -e
. "$(dirname "$0")/lib.sh"
rm -rf "$P"
"$KILN_BIN/kiln" init "$P" >/dev/null
printf 'RIFF....WAVEfmt ' >"$P/Assets/click.wav"
printf '<level><tex file="hero.png"/></level>\n' >"$P/Assets/level.xml"
printf 'v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n' >"$P/Assets/tri.obj"
$PY - "$P/Assets/hero.png" <<'PYEOF'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = b"".join(b"\x00" + b"\x80\x40\x20" * 4 for _ in range(4))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PYEOF

step "a batch on the new project processes every kind of file"
kiln batch
expect_rc 0
expect_match "$(summary)" '^4 jobs: 4 completed, 0 with warnings, 0 with errors, 0 failed; ' "summary"
! printf '%s' "$ERR" | grep -q 'match no builder' || fail "files left unmatched: $ERR"
expect_eq "$(sql "SELECT count(DISTINCT b.name) FROM jobs j JOIN builders b ON b.id = j.builder_id")" 4 "builders that ran"

step "the patterns kiln init wrote are the builders' own"
sql "SELECT name, patterns, described_patterns FROM builders WHERE active = 1" >"$T/b"
while IFS='|' read -r name pats own; do
	expect_eq "$pats" "$own" "patterns of $name"
done <"$T/b"
expect_eq "$(wc -l <"$T/b" | tr -d ' ')" 4 "builders listed"
echo ok
