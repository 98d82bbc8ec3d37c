#!/usr/bin/env bash
# bench.sh: where kiln stands, measured side by side with the plain tools
# that do the same work, in one run on this machine.
#
#   scripts/bench.sh [--sizes 10000,100000] [--keep] [--both-orders]
#                    [--build DIR | --no-build] [--commit REV] [REAL_TREE...]
#
# It builds kiln (RelWithDebInfo, in build-bench/ unless --build names a
# build dir or KILN_BUILD is set; --no-build uses that dir as it is;
# --commit builds REV from a clean `git archive` export in the temp dir,
# leaving uncommitted changes out),
# installs the tools it needs with apt-get when missing, writes deterministic
# trees of small files under a temp dir (in $BENCH_DIR if set, else /tmp),
# and takes every REAL_TREE as one more tree: a read-only scan folder, named
# by absolute path in a kiln.json of a temp project, every file a source of
# kiln-copy. For each tree it prints rows a-f, then e and g once:
#
#   a  kiln's scan (cold, and with nothing changed) vs a `find` stat walk
#   b  kiln's hash-mode scan vs parallel `xxhsum -H3`
#   c  a `kiln batch` with nothing to do vs the stat walk and a no-op `ninja`;
#      the no-op batch must start no builder host and no builder
#   d  a cold `kiln batch` with kiln-copy vs `ninja -jNPROC` running `cp`
#      once per file
#   e  live mode latency (n/a until `kiln run` exists)
#   f  the cold batch's peak RSS, and per 100,000 sources, vs ninja's
#   g  a builder crash to its replacement taking the next job
#
# Exit status: 0 when every step ran; 1 when a step broke (kiln exited with
# an unexpected code, a tool failed) or kiln broke a promise the bench checks
# (a no-op batch started a builder). It is not run by CI.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "$0")/.." && pwd)
HELPER="$REPO/scripts/bench/helper.py"
PY=/usr/bin/python3
SIZES="10000,100000"
KEEP=0
BOTH_ORDERS=auto
BUILD=${KILN_BUILD:-}
DO_BUILD=1
COMMIT_REV=""
REAL_TREES=()
KILN_TIMEOUT=1800

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--sizes) SIZES=${2?--sizes needs a list}; shift 2 ;;
	--sizes=*) SIZES=${1#--sizes=}; shift ;;
	--keep) KEEP=1; shift ;;
	--both-orders) BOTH_ORDERS=1; shift ;;
	--build) BUILD=${2:?--build needs a dir}; shift 2 ;;
	--no-build) DO_BUILD=0; shift ;;
	--commit) COMMIT_REV=${2:?--commit needs a revision}; shift 2 ;;
	-h | --help) usage ;;
	--) shift; REAL_TREES+=("$@"); break ;;
	-*) echo "bench: unknown option $1" >&2; usage ;;
	*) REAL_TREES+=("$1"); shift ;;
	esac
done
if [ -n "$SIZES" ] && ! [[ "$SIZES" =~ ^[0-9]+(,[0-9]+)*$ ]]; then
	echo "bench: --sizes takes numbers separated by commas, e.g. 10000,100000" >&2
	exit 2
fi
for t in "${REAL_TREES[@]+"${REAL_TREES[@]}"}"; do
	[ -d "$t" ] || { echo "bench: $t is not a directory" >&2; exit 2; }
done

say() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	say "FAILED: $*"
	exit 1
}

# ---------------------------------------------------------------- setup

# need CMD PACKAGE: installs PACKAGE with apt-get when CMD is missing.
MISSING_PKGS=()
need() {
	if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
		MISSING_PKGS+=("$2")
	fi
}
need ninja ninja-build
need xxhsum xxhash
need /usr/bin/time time
need cmake cmake
need "$PY" python3
if ! "$PY" -c 'import msgpack' 2>/dev/null; then
	MISSING_PKGS+=(python3-msgpack) # tests/builders/rogue.py, row g
fi
if [ ${#MISSING_PKGS[@]} -gt 0 ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	say "installing ${MISSING_PKGS[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${MISSING_PKGS[@]}" >/dev/null
fi

# Everything the bench writes lives under $W; only $W is ever removed.
BASE=${BENCH_DIR:-/tmp}
mkdir -p "$BASE"
W=$(mktemp -d "$BASE/kiln-bench.XXXXXX")
cleanup() {
	local rc=$?
	if [ "$KEEP" = 1 ]; then
		say "kept $W"
	else
		say "removing $W"
		rm -rf "$W"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The commit the sources are at, and the files of kiln's own code that
# differ from it, so a figure can be traced to the code that made it.
source_state() {
	local commit dirty
	commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
	dirty=$(git -C "$REPO" status --porcelain -- common supervisor builder-host builders CMakeLists.txt 2>/dev/null |
		awk '{ print $2 }' | tr '\n' ' ' | sed 's/ $//')
	printf 'commit %s%s' "$commit" "${dirty:+ with uncommitted changes in: $dirty}"
}

if [ -n "$COMMIT_REV" ] && [ "$DO_BUILD" = 0 ]; then
	echo "bench: --commit and --no-build do not go together" >&2
	exit 2
fi
if [ -n "$COMMIT_REV" ]; then
	git -C "$REPO" rev-parse --verify -q "$COMMIT_REV^{commit}" >/dev/null ||
		{ echo "bench: $COMMIT_REV is no commit" >&2; exit 2; }
fi
if [ -z "$BUILD" ]; then
	if [ -n "$COMMIT_REV" ]; then
		BUILD="$W/build" # a fresh configure: its sources are the export
	else
		BUILD="$REPO/build-bench"
	fi
fi

if [ "$DO_BUILD" = 1 ]; then
	if ! pkg-config --exists msgpack libpcre2-8 libxxhash jansson sqlite3 2>/dev/null || ! command -v cc >/dev/null; then
		bash "$REPO/scripts/setup.sh" >&2
	fi
	if [ -n "$COMMIT_REV" ]; then
		mkdir -p "$W/src"
		git -C "$REPO" archive "$COMMIT_REV" | tar -x -C "$W/src" || die "exporting $COMMIT_REV"
		SRC_STATE="commit $(git -C "$REPO" rev-parse --short "$COMMIT_REV") (clean export)"
		say "building kiln $SRC_STATE (RelWithDebInfo) in $BUILD"
		bash "$W/src/scripts/build.sh" "$BUILD" >&2 || die "the build failed"
	else
		SRC_STATE=$(source_state)
		say "building kiln (RelWithDebInfo) in $BUILD"
		bash "$REPO/scripts/build.sh" "$BUILD" >&2 || die "the build failed"
	fi
	# What the binaries were built from, for later --no-build runs.
	printf '%s\n' "$SRC_STATE" >"$BUILD/bench-source.txt"
elif [ -f "$BUILD/bench-source.txt" ]; then
	SRC_STATE="$(cat "$BUILD/bench-source.txt") (as of the last bench build; --no-build)"
else
	SRC_STATE="unknown (--no-build; HEAD is now $(source_state))"
fi
BIN="$BUILD/bin"
KILN="$BIN/kiln"
for exe in kiln kiln-builder-host kiln-copy; do
	[ -x "$BIN/$exe" ] || die "$BIN/$exe is missing (build kiln, or drop --no-build)"
done
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
SANITIZE=$(sed -n 's/^KILN_SANITIZE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
case "$BUILD_TYPE" in
RelWithDebInfo | Release) ;;
*) say "warning: $BUILD is a '$BUILD_TYPE' build; the figures mean little" ;;
esac
[ "$SANITIZE" != ON ] || say "warning: $BUILD is built with sanitizers; the figures mean little"

NPROC=$(nproc)
# The sources measured: the export for --commit, else this checkout. The
# test builder and the live-mode client come from there, matching the build.
SRC_ROOT=$REPO
[ -z "$COMMIT_REV" ] || SRC_ROOT="$W/src"
ROGUE="$SRC_ROOT/tests/builders/rogue.py"

# ---------------------------------------------------------------- timing

# tick; CMD; tock: the wall time of CMD in microseconds, in $US.
tick() { T0=${EPOCHREALTIME/./}; }
tock() { US=$((${EPOCHREALTIME/./} - T0)); }

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# fmt_us US: a duration for people.
fmt_us() {
	awk -v us="$1" 'BEGIN {
		if (us >= 10e6) printf "%.1f s", us / 1e6;
		else if (us >= 1e6) printf "%.2f s", us / 1e6;
		else if (us >= 10e3) printf "%.0f ms", us / 1e3;
		else printf "%.1f ms", us / 1e3 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

ROWS=()
FAILURES=0
# row ID TREE WHAT KILN BASELINE RATIO
row() {
	local IFS='|'
	ROWS+=("$*")
	say "  $1 $3: kiln $4, baseline $5, $6"
}

# ---------------------------------------------------------------- kiln runs

# kiln_run PROJECT EXPECTED_RC ARGS...: runs kiln on PROJECT; stdout and
# stderr land in PROJECT.out / PROJECT.err, the wall time in $US, and the
# kiln.log lines this run wrote in PROJECT.log. Any other exit code than
# EXPECTED_RC means the step broke.
kiln_run() {
	local p=$1 want=$2 rc before=0
	shift 2
	[ -f "$p/Cache/logs/kiln.log" ] && before=$(wc -l <"$p/Cache/logs/kiln.log")
	set +e
	tick
	if [ -n "${RSS_FILE:-}" ]; then
		/usr/bin/time -f %M -o "$RSS_FILE" timeout "$KILN_TIMEOUT" "$KILN" -p "$p" "$@" >"$p.out" 2>"$p.err"
	else
		timeout "$KILN_TIMEOUT" "$KILN" -p "$p" "$@" >"$p.out" 2>"$p.err"
	fi
	rc=$?
	tock
	set -e
	tail -n +$((before + 1)) "$p/Cache/logs/kiln.log" >"$p.log" 2>/dev/null || : >"$p.log"
	if [ "$rc" -ne "$want" ]; then
		say "kiln -p $p $* exited with $rc (expected $want)"
		tail -n 5 "$p.err" >&2 || true
		tail -n 20 "$p.log" >&2 || true
		die "kiln $*"
	fi
}

# The "in N ms" of the scan: line this run logged.
scan_ms() {
	local v
	v=$(sed -n 's/.*\[kiln\] scan: .* in \([0-9]*\) ms$/\1/p' "$1.log" | tail -n 1)
	[ -n "$v" ] || die "no 'scan: ... in N ms' line in kiln.log of $1 (did its format change?)"
	echo "$v"
}
# The phase lines (scan, analysis, processing) a run logged, joined by "; ".
phases() { sed -n 's/.*\[kiln\] \(\(scan\|analysis\|processing\): .*\)/\1/p' "$1.log" | paste -sd';' | sed 's/;/; /g'; }
summary() { tail -n 1 "$1.out"; }

new_project() { # DIR TREE
	mkdir -p "$1"
	cat >"$1/kiln.json" <<JSON
{
  "project": "bench",
  "platforms": ["pc"],
  "scan_folders": [{"path": "$2"}],
  "builders": [{"exec": "kiln-copy", "patterns": ["*"]}],
  "hosts": $NPROC
}
JSON
}

# Let the file system settle between runs that write many files, so the
# one that runs second does not pay for the first one's writeback.
settle() {
	sync
	sleep 2
}

# ---------------------------------------------------------------- rows

# cold_pair DIR TREE ORDER: a cold kiln batch and a cold ninja, each into
# fresh directories, in ORDER (kiln-first or ninja-first). Sets
# COLD_KILN_US, COLD_NINJA_US, KILN_RSS_KB, NINJA_RSS_KB (peak RSS, which
# GNU time reads from wait4: the larger of the process's own and that of its
# biggest child) and the project used, COLD_P.
cold_pair() {
	local d=$1 tree=$2 order=$3
	local p="$d/kiln-$order" n="$d/ninja-$order"
	new_project "$p" "$tree"
	mkdir -p "$n"
	"$PY" "$HELPER" ninja "$tree" "$n/out" "$n/build.ninja" >"$n/count"
	settle
	if [ "$order" = kiln-first ]; then
		cold_kiln "$p"
		settle
		cold_ninja "$n"
	else
		cold_ninja "$n"
		settle
		cold_kiln "$p"
	fi
	settle
	COLD_P=$p
}

cold_kiln() {
	local p=$1
	say "  cold kiln batch in $p"
	# Under /usr/bin/time, as ninja is: one more fork and exec on each side.
	RSS_FILE="$p.rss" kiln_run "$p" 0 batch
	COLD_KILN_US=$US
	KILN_RSS_KB=$(tail -n 1 "$p.rss")
	grep -q ' 0 failed;' <<<"$(summary "$p")" || die "the cold batch failed jobs: $(summary "$p")"
}

cold_ninja() {
	local n=$1
	say "  cold ninja -j$NPROC in $n"
	set +e
	tick
	/usr/bin/time -f %M -o "$n/rss" ninja -C "$n" -j "$NPROC" >"$n/ninja.out" 2>&1
	local rc=$?
	tock
	set -e
	[ "$rc" -eq 0 ] || { tail -n 5 "$n/ninja.out" >&2; die "ninja failed"; }
	COLD_NINJA_US=$US
	NINJA_RSS_KB=$(tail -n 1 "$n/rss")
}

bench_tree() { # LABEL TREE
	local label=$1 tree=$2
	local d="$W/$label" i files v
	mkdir -p "$d"
	files=$(find "$tree" -type f | wc -l)
	say "tree $label: $tree, $files files"

	# a, c: the stat walk, warm (one untimed walk first), median of 3.
	find "$tree" -type f -printf '%s %T@\n' >/dev/null
	local walk=()
	for i in 1 2 3; do
		tick
		find "$tree" -type f -printf '%s %T@\n' >/dev/null
		tock
		walk+=("$US")
	done
	local walk_us
	walk_us=$(median "${walk[@]}")
	# Read every file once, so the cold runs find the contents in the page
	# cache as the baselines do.
	find "$tree" -type f -print0 | xargs -0 cat >/dev/null

	# d (and f): the cold runs, kiln first; ninja first too when asked, or
	# on trees small enough that it costs little.
	local orders="kiln-first"
	if [ "$BOTH_ORDERS" = 1 ] || { [ "$BOTH_ORDERS" = auto ] && [ "$files" -le 20000 ]; }; then
		orders="kiln-first ninja-first"
	fi
	local p="" ord cold_k=() cold_n=() rss_k="" rss_n="" sources="" scan_cold="" phases=""
	for ord in $orders; do
		cold_pair "$d" "$tree" "$ord"
		cold_k+=("$COLD_KILN_US")
		cold_n+=("$COLD_NINJA_US")
		if [ -z "$p" ]; then
			p=$COLD_P
			rss_n=$NINJA_RSS_KB
			rss_k=$KILN_RSS_KB
			sources=$(sed -n 's/.*scan: [0-9]* files, \([0-9]*\) sources.*/\1/p' "$p.log" | tail -n 1)
			scan_cold=$(scan_ms "$p")
			phases=$(phases "$p")
		fi
	done
	if [ -z "$sources" ] || [ "$sources" -eq 0 ]; then
		die "the cold batch logged no sources"
	fi

	# a: scans. Cold: the first batch's scan (every file is new: stat, hash,
	# insert). Fast: the scan of a batch with nothing changed.
	row a1 "$label" "scan, cold (new db: every file hashed), from kiln.log" \
		"$(fmt_us $((scan_cold * 1000)))" "$(fmt_us "$walk_us") find stat walk" "$(ratio $((scan_cold * 1000)) "$walk_us")"

	# c: no-op batches, median of 3; every one must start no host and no builder.
	local noop=() noop_scan=() started=0 jobs_line
	for i in 1 2 3; do
		kiln_run "$p" 0 batch
		noop+=("$US")
		v=$(scan_ms "$p")
		noop_scan+=("$((v * 1000))")
		started=$((started + $(grep -cE 'started builder|host [0-9]+: started' "$p.log" || true)))
		jobs_line=$(summary "$p")
		[[ "$jobs_line" == "0 jobs:"* ]] || { say "no-op batch ran jobs: $jobs_line"; started=$((started + 1000000)); }
	done
	local noop_us noop_scan_us
	noop_us=$(median "${noop[@]}")
	noop_scan_us=$(median "${noop_scan[@]}")
	row a2 "$label" "scan, fast, nothing changed (median of 3), from kiln.log" \
		"$(fmt_us "$noop_scan_us")" "$(fmt_us "$walk_us") find stat walk" "$(ratio "$noop_scan_us" "$walk_us")"

	# b: hash mode on the built project vs xxhsum, median of 3 each.
	# xxhsum draws progress on stderr; a failure still fails the pipeline.
	find "$tree" -type f -print0 | xargs -0 -P "$NPROC" -n 500 xxhsum -H3 >/dev/null 2>&1
	local xx=() hscan=() hwall=()
	for i in 1 2 3; do
		tick
		find "$tree" -type f -print0 | xargs -0 -P "$NPROC" -n 500 xxhsum -H3 >/dev/null 2>&1
		tock
		xx+=("$US")
		kiln_run "$p" 0 batch --hash
		hwall+=("$US")
		v=$(scan_ms "$p")
		hscan+=("$((v * 1000))")
		[[ "$(summary "$p")" == "0 jobs:"* ]] || die "batch --hash on an unchanged tree ran jobs: $(summary "$p")"
		grep -q "scan: .* $sources hashed" "$p.log" || die "batch --hash did not hash every source: $(grep 'scan:' "$p.log")"
	done
	local xx_us hscan_us hwall_us
	xx_us=$(median "${xx[@]}")
	hscan_us=$(median "${hscan[@]}")
	hwall_us=$(median "${hwall[@]}")
	row b1 "$label" "scan, hash mode (batch --hash, median of 3), from kiln.log" \
		"$(fmt_us "$hscan_us")" "$(fmt_us "$xx_us") xxhsum -H3 -P$NPROC" "$(ratio "$hscan_us" "$xx_us")"
	row b2 "$label" "kiln batch --hash, whole command" \
		"$(fmt_us "$hwall_us")" "$(fmt_us "$xx_us") xxhsum -H3 -P$NPROC" "$(ratio "$hwall_us" "$xx_us")"

	# c: the no-op batch against the stat walk and a no-op ninja.
	local n="$d/ninja-kiln-first" nn=()
	ninja -C "$n" -j "$NPROC" >/dev/null
	for i in 1 2 3; do
		tick
		ninja -C "$n" -j "$NPROC" >"$n/noop.out"
		tock
		nn+=("$US")
		grep -q 'no work to do' "$n/noop.out" || die "the no-op ninja did work"
	done
	local nn_us
	nn_us=$(median "${nn[@]}")
	row c1 "$label" "kiln batch, nothing changed (median of 3)" \
		"$(fmt_us "$noop_us")" "$(fmt_us "$walk_us") find stat walk" "$(ratio "$noop_us" "$walk_us")"
	row c2 "$label" "kiln batch, nothing changed (median of 3)" \
		"$(fmt_us "$noop_us")" "$(fmt_us "$nn_us") ninja, no work to do" "$(ratio "$noop_us" "$nn_us")"
	if [ "$started" -eq 0 ]; then
		row c3 "$label" "hosts and builders started by those 3 no-op batches" "0" "0 (ninja runs no command)" "ok"
	else
		row c3 "$label" "hosts and builders started by those 3 no-op batches" "$started" "0 (ninja runs no command)" "FAIL"
		FAILURES=$((FAILURES + 1))
	fi

	# d: the cold runs.
	local k n_us o=0
	for ord in $orders; do
		k=${cold_k[$o]}
		n_us=${cold_n[$o]}
		row "d" "$label" "cold kiln batch, kiln-copy ($ord; $(awk -v s="$sources" -v us="$k" 'BEGIN { printf "%.0f", s / (us / 1e6) }') jobs/s)" \
			"$(fmt_us "$k")" "$(fmt_us "$n_us") ninja -j$NPROC cp ($(awk -v s="$sources" -v us="$n_us" 'BEGIN { printf "%.0f", s / (us / 1e6) }')/s)" "$(ratio "$k" "$n_us")"
		o=$((o + 1))
	done

	# f: memory.
	local mib per
	mib=$(awk -v k="$rss_k" 'BEGIN { printf "%.1f", k / 1024 }')
	# Per 100k sources only where the sources outweigh the fixed cost.
	per="-"
	[ "$sources" -lt 10000 ] || per=$(awk -v k="$rss_k" -v s="$sources" 'BEGIN { printf "%.1f MiB", k / 1024 * 100000 / s }')
	row f "$label" "peak RSS of a cold batch (per 100k sources)" \
		"$mib MiB ($per)" "$(awk -v k="$rss_n" 'BEGIN { printf "%.1f", k / 1024 }') MiB ninja -j$NPROC cp" "$(ratio "$rss_k" "$rss_n")"

	PHASES+=("$label ($sources sources): $phases")
}

# e: live mode latency, saving a small file to its product-changed event.
# scripts/live_latency.py of the measured sources (it comes with `kiln run`)
# starts `kiln run` on a project of its own (LIVE_FILES other sources),
# subscribes to the product events, saves one small file LIVE_EDITS times
# and prints percentiles. The baseline is the floor for any watcher: the same
# saves, each waited for with inotify and copied (scripts/bench/helper.py).
LIVE_EDITS=200
LIVE_FILES=1000
bench_live() {
	LIVE_KILN="n/a (live mode not built yet)"
	LIVE_BASE="-"
	LIVE_RATIO="-"
	local script="$SRC_ROOT/scripts/live_latency.py" out k50 k99 b50 b99
	[ -f "$script" ] || return 0
	say "live mode latency: $LIVE_EDITS saves, $LIVE_FILES other sources"
	out=$(TMPDIR="$W" timeout 600 "$PY" "$script" --bin "$BIN" --edits "$LIVE_EDITS" --files "$LIVE_FILES") ||
		die "scripts/live_latency.py failed: $out"
	k50=$(sed -n 's/.* p50 \([0-9.]*\) ms.*/\1/p' <<<"$out")
	k99=$(sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' <<<"$out")
	if [ -z "$k50" ] || [ -z "$k99" ]; then
		die "cannot read p50/p99 from scripts/live_latency.py: $out"
	fi
	read -r b50 b99 <<<"$("$PY" "$HELPER" inotify-copy "$LIVE_EDITS")" || die "the inotify baseline failed"
	LIVE_KILN="$k50 / $k99 ms"
	LIVE_BASE="$b50 / $b99 ms inotify + copy"
	LIVE_RATIO=$(ratio "$k50" "$b50")
	NOTES+=("e: scripts/live_latency.py says: $out")
}

# g: a builder crash to the replacement taking the next job, from the logs
# of five fresh one-host projects holding a-segv.rog (crashes rogue.py) and
# b-ok.rog (sorted after it, so it is the next job on the same host).
bench_crash() {
	local i p restart=() first=() assigned=() done_=() r
	for i in 1 2 3 4 5; do
		p="$W/crash-$i"
		mkdir -p "$p/Assets"
		echo segv >"$p/Assets/a-segv.rog"
		echo fine >"$p/Assets/b-ok.rog"
		cat >"$p/kiln.json" <<JSON
{
  "project": "crash",
  "platforms": ["pc"],
  "builders": [{"exec": "$ROGUE"}],
  "hosts": 1
}
JSON
		kiln_run "$p" 1 batch # one job fails: exit 1
		[[ "$(summary "$p")" == "2 jobs: 1 completed, 0 with warnings, 0 with errors, 1 failed;"* ]] ||
			die "the crash project: $(summary "$p")"
		r=$("$PY" "$HELPER" crash "$p") || die "reading the crash project's logs"
		read -r a b c e <<<"$r"
		restart+=("$a")
		first+=("$b")
		assigned+=("$c")
		done_+=("$e")
	done
	local base
	base=$("$PY" "$HELPER" startup "$ROGUE" 5) || die "starting rogue.py by hand"
	local m_first
	m_first=$(median "${first[@]}")
	NOTES+=("g: medians of 5 from the crash (the earlier of the host's \"killed by signal 11\" and the job log's \"builder crashed\"): next job assigned +$(median "${assigned[@]}") ms, replacement builder started +$(median "${restart[@]}") ms, its first output on that job +$m_first ms, job completed +$(median "${done_[@]}") ms.")
	row g "-" "builder crash to the replacement's first output on the next job (median of 5)" \
		"$m_first ms" "$base ms rogue.py start to describe reply" "$(ratio "$m_first" "$base")"
}

# ---------------------------------------------------------------- run

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
say "working in $W"

PHASES=()
NOTES=()
TREES=()
IFS=',' read -r -a SIZE_LIST <<<"$SIZES"
for n in "${SIZE_LIST[@]}"; do
	[ -n "$n" ] || continue
	t="$W/tree-$n"
	say "writing $n files in $t"
	"$PY" "$HELPER" gen "$t" "$n" || die "writing the tree"
	TREES+=("$n|$t")
done
for t in "${REAL_TREES[@]+"${REAL_TREES[@]}"}"; do
	TREES+=("$(basename "$(cd "$t" && pwd)")|$(cd "$t" && pwd)")
done
[ ${#TREES[@]} -gt 0 ] || die "no tree to measure (give --sizes or a REAL_TREE)"

for entry in "${TREES[@]}"; do
	bench_tree "${entry%%|*}" "${entry#*|}"
done
bench_live
row e "-" "live mode: file saved to product-changed event, p50 / p99 ($LIVE_EDITS saves, $LIVE_FILES other sources)" "$LIVE_KILN" "$LIVE_BASE" "$LIVE_RATIO"
bench_crash

# ---------------------------------------------------------------- report

FS=$(df -PT "$W" | awk 'NR == 2 { print $2 }')
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
echo
echo "kiln bench, $STARTED_AT"
echo
echo "- kiln: $SRC_STATE ($BUILD_TYPE build, $BUILD)"
echo "- machine: $NPROC CPUs ($CPU), $MEM RAM, Linux $(uname -r), temp dir on $FS ($W)"
echo "- load average: $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "- tools: $(ninja --version | sed 's/^/ninja /'), $(xxhsum --version 2>&1 | awk '{ print "xxhsum", $2; exit }'), kiln hosts $NPROC, ninja -j$NPROC"
echo
echo "| row | tree | what | kiln | baseline | kiln / baseline |"
echo "| --- | --- | --- | --- | --- | --- |"
for r in "${ROWS[@]}"; do
	IFS='|' read -r id tree what k b q <<<"$r"
	echo "| $id | $tree | $what | $k | $b | $q |"
done
echo
echo "Cold batch phases (kiln.log of the first cold batch):"
for ph in "${PHASES[@]}"; do
	echo "- $ph"
done
for nt in "${NOTES[@]+"${NOTES[@]}"}"; do
	echo "- $nt"
done
if [ "$FAILURES" -gt 0 ]; then
	say "$FAILURES check(s) failed (see FAIL in the table)"
	exit 1
fi
