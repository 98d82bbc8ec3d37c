# A damaged Cache/assetdb.sqlite (SPEC section 7): garbage over the header,
# garbage over pages in the middle, truncated to half and to 100 bytes,
# zero bytes long, a folder in its place. kiln batch and the read-only
# commands end by themselves (never a signal, never a hang), exit 1 or 2
# with a message that names the file and says how to rebuild it (the
# zero-byte file is simply a new database), and leave the products alone.
# Then the rebuild procedure of supervisor/robustness.md, end to end, for each
# kind of damage: move the database files away, remove the platform
# folders, run kiln batch: every product is made again, whole, the database
# passes its integrity check and lists exactly what is on disk, and the
# next batch has nothing to do. Last, the light variant that keeps the
# products, with the orphan the doc warns about.
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}],
  "hosts": 2
}
JSON
for d in 1 2; do
	mkdir -p "$P/Assets/d$d"
	for f in $(seq 1 25); do
		echo "file $d $f $($PY -c "print('x' * ($f * 37))")" >"$P/Assets/d$d/f$f.txt"
	done
done
kiln batch
expect_rc 0
expect_match "$(summary)" '^100 jobs: 100 completed' "first batch"
DB="$P/Cache/assetdb.sqlite"
[ ! -e "$DB-wal" ] || [ ! -s "$DB-wal" ] || fail "kiln left a WAL behind after a clean exit"
cp "$DB" "$T/good.sqlite"
(cd "$P/Cache" && find pc linux -type f ! -name assetcatalog.json -exec sha1sum {} + | sort) >"$T/products.sha1"

restore() {
	rm -rf "$DB" "$DB-wal" "$DB-shm"
	cp "$T/good.sqlite" "$DB"
}

damage() { # KIND
	restore
	case $1 in
	header) printf 'this is not an SQLite header, not at all' | dd of="$DB" conv=notrunc 2>/dev/null ;;
	middle)
		# Four pages of random bytes from page 4 on: tables and
		# indexes the batch reads and writes.
		head -c 16384 /dev/urandom | dd of="$DB" bs=4096 seek=3 conv=notrunc 2>/dev/null
		;;
	half) truncate -s $(($(stat -c %s "$DB") / 2)) "$DB" ;;
	tiny) truncate -s 100 "$DB" ;;
	empty) : >"$DB" ;;
	folder)
		rm -f "$DB"
		mkdir "$DB"
		;;
	*) fail "unknown damage $1" ;;
	esac
}

# one CMD...: runs kiln with a hard limit (kiln blocks SIGTERM), checks no
# signal and no hang.
one() {
	set +e
	timeout -s KILL 60 "$KILN_BIN/kiln" -p "$P" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	[ "$RC" -ne 137 ] || fail "kiln $* hung (killed after 60 s)"
	[ "$RC" -lt 128 ] || fail "kiln $* died of signal $((RC - 128))"
}

# A message that names the database file and says how to rebuild it (the
# procedure of README.md and supervisor/robustness.md).
names_db() { # what
	expect_match "$ERR" 'Cache/assetdb\.sqlite' "$1 names the database file"
	expect_match "$ERR" 'docs/robustness\.md|[Rr]ebuilding the database|move .* away.*kiln batch' "$1 says how to rebuild"
}

products_untouched() {
	(cd "$P/Cache" && find pc linux -type f ! -name assetcatalog.json -exec sha1sum {} + | sort) >"$T/now.sha1"
	diff "$T/products.sha1" "$T/now.sha1" >/dev/null || fail "products changed: $(diff "$T/products.sha1" "$T/now.sha1" | head -3)"
}

READ_ONLY=("jobs" "assets" "products" "builders" "status" "job 1" "asset d1/f1.txt" "product pc/d1/f1.txt"
	"jobs --json" "products --json")

for kind in header middle half tiny folder; do
	step "damage '$kind': kiln batch and the read-only commands say so and exit 1 or 2"
	damage "$kind"
	one batch
	[ "$RC" -eq 1 ] || [ "$RC" -eq 2 ] || fail "kiln batch on damage '$kind': exit $RC; stdout: $OUT; stderr: $ERR"
	names_db "kiln batch on damage '$kind'"
	[ "$(printf '%s\n' "$ERR" | wc -l)" -le 3 ] || fail "kiln batch on damage '$kind': $(printf '%s\n' "$ERR" | wc -l) lines of errors"
	products_untouched
	for cmd in "${READ_ONLY[@]}"; do
		# shellcheck disable=SC2086
		one $cmd
		if [ "$kind" = middle ] && { [ "$cmd" = builders ] || [ "$RC" -eq 0 ]; }; then
			# A query that reads only undamaged pages may succeed.
			continue
		fi
		[ "$RC" -eq 2 ] || fail "kiln $cmd on damage '$kind': exit $RC, expected 2; stderr: $ERR"
		names_db "kiln $cmd on damage '$kind'"
	done
	if [ "$kind" = folder ]; then
		expect_match "$ERR" '[Dd]irectory|folder' "a folder in place of the database is called one"
	fi
done

step "damage 'empty': a zero-byte file is a new database, and the batch makes everything again"
damage empty
one batch
expect_rc 0
expect_match "$OUT" '100 jobs: 100 completed' "batch on an empty database"
products_untouched

# The rebuild procedure of supervisor/robustness.md, word for word.
rebuild() {
	mkdir -p "$T/broken"
	rm -rf "$T/broken"/*
	for f in "$DB" "$DB-wal" "$DB-shm"; do
		if [ -e "$f" ]; then mv "$f" "$T/broken/"; fi
	done
	rm -rf "$P/Cache/pc" "$P/Cache/linux" "$P/Cache/intermediate"
	one batch
}

for kind in header middle half tiny folder empty; do
	step "rebuild after damage '$kind': move the database away, drop the products, kiln batch"
	damage "$kind"
	# A source deleted while the database is broken must not come back.
	rm -f "$P/Assets/d2/f25.txt"
	rebuild
	expect_rc 0
	expect_match "$OUT" '^98 jobs: 98 completed, 0 with warnings, 0 with errors, 0 failed; 98 products' "rebuild summary"
	expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity after the rebuild"
	sql "SELECT p.platform, p.path, p.size, s.scan_folder || '/' || s.path FROM products p JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id" >"$T/listed"
	expect_eq "$(wc -l <"$T/listed" | tr -d ' ')" 98 "products listed"
	while IFS='|' read -r plat path size src; do
		f="$P/Cache/$plat/$path"
		[ -f "$f" ] || fail "missing product $f"
		[ "$(stat -c %s "$f")" = "$size" ] || fail "size of $f"
		cmp -s "$f" "$src" || fail "content of $f differs from $src"
	done <"$T/listed"
	(cd "$P/Cache" && find pc linux -type f ! -name assetcatalog.json | sort) >"$T/on-disk"
	awk -F'|' '{print $1 "/" $2}' "$T/listed" | sort >"$T/listed-paths"
	diff "$T/on-disk" "$T/listed-paths" >/dev/null || fail "unlisted or missing products: $(diff "$T/on-disk" "$T/listed-paths" | head -5)"
	one batch
	expect_rc 0
	expect_match "$OUT" '^0 jobs:' "nothing to do after the rebuild"
	kiln jobs --json
	expect_rc 0
	expect_eq "$(printf '%s' "$OUT" | json_get 'len(d)')" 98 "jobs after the rebuild"
	# Back to the first state for the next kind.
	echo "file 2 25 $($PY -c "print('x' * (25 * 37))")" >"$P/Assets/d2/f25.txt"
	one batch
	expect_rc 0
	cp "$DB" "$T/good.sqlite"
	(cd "$P/Cache" && find pc linux -type f ! -name assetcatalog.json -exec sha1sum {} + | sort) >"$T/products.sha1"
done
step "the light rebuild (products kept): everything is made again; a product of a source deleted meanwhile stays, unlisted, as the doc says"
damage header
rm -f "$P/Assets/d2/f25.txt"
for f in "$DB" "$DB-wal" "$DB-shm"; do
	if [ -e "$f" ]; then mv "$f" "$T/broken/"; fi
done
one batch
expect_rc 0
expect_match "$OUT" '^98 jobs: 98 completed, 0 with warnings, 0 with errors, 0 failed; 98 products' "light rebuild summary"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity after the light rebuild"
[ -f "$P/Cache/pc/d2/f25.txt" ] || fail "the doc says the orphan stays; it is gone (update supervisor/robustness.md)"
expect_eq "$(sql "SELECT count(*) FROM products WHERE path = 'd2/f25.txt'")" 0 "the orphan is not listed"
one batch
expect_rc 0
expect_match "$OUT" '^0 jobs:' "nothing to do after the light rebuild"
echo ok
