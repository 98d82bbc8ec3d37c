#!/bin/sh
# fuzz.sh [SECONDS_PER_TARGET]: builds kiln's libFuzzer targets with ASan
# and UBSan and runs each for SECONDS_PER_TARGET (default 60):
#
#   frame   tests/fuzz/frame_fuzz.c: the frame reader fed in chunks, and
#           every builder and host message decoder
#   config  tests/fuzz/config_fuzz.c: config_parse (kiln.json) on a
#           prepared project root
#
# Each target starts from a seed corpus (frame: one valid frame of every
# message, written by the target built with -DFRAME_FUZZ_SEEDS; config:
# tests/fuzz/seeds/config, valid and broken kiln.json files) plus the
# inputs of tests/fuzz/regress/<target>/, and keeps what it learns in
# build-fuzz/corpus/<target>. Before fuzzing, every regression input is
# replayed. A crash, leak, timeout or oversized allocation is copied into
# tests/fuzz/regress/<target>/ (commit it: the fuzz_replay unit test then
# keeps it from coming back), and the script exits 1 once every target has
# had its turn. Usage errors exit 2.
#
# Environment: FUZZ_COVERAGE=1 adds a line-coverage report of each target's
# sources over its corpus (clang source coverage, llvm-cov) after fuzzing;
# FUZZ_TARGETS (default "frame config") picks targets;
# FUZZ_JOBS (default 1) runs that many fuzzing processes per target.
set -eu

secs=${1:-60}
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS_PER_TARGET]" >&2
	exit 2
	;;
esac
targets=${FUZZ_TARGETS:-frame config}
jobs=${FUZZ_JOBS:-1}

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build-fuzz
command -v clang >/dev/null || {
	echo "fuzz.sh: clang is needed (apt-get install clang)" >&2
	exit 2
}

common="$root/common/arena.c $root/common/kerr.c"
cflags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -I$root/common -I$root/supervisor"
cflags="$cflags $(pkg-config --cflags msgpack libpcre2-8)"
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# target_srcs NAME: the sources a target links, beside its own file.
target_srcs() {
	case $1 in
	frame) echo "$common $root/common/frame.c $root/common/msg.c $root/common/mpscan.c $root/common/mpread.c $root/common/mpwrite.c $root/common/hostproto.c" ;;
	config) echo "$common $(ls $root/supervisor/config/*.c) $root/common/jsonpos.c $root/common/path.c $root/common/pattern.c $root/common/utf8.c $root/common/hex.c" ;;
	*) return 1 ;;
	esac
}

# max_len: a frame stream holds a few frames of messages with long strings;
# a kiln.json is a page or two (deep nesting past the parser's limit of 64
# needs little more than a hundred bytes).
target_max_len() {
	case $1 in
	frame) echo 65536 ;;
	config) echo 16384 ;;
	esac
}

libs="$(pkg-config --libs msgpack libpcre2-8) -lm"
failed=0
for t in $targets; do
	srcs=$(target_srcs "$t") || {
		echo "fuzz.sh: unknown target '$t' (known: frame config)" >&2
		exit 2
	}
	bin=$out/${t}_fuzz
	corpus=$out/corpus/$t
	arts=$out/artifacts/$t
	regress=$root/tests/fuzz/regress/$t
	mkdir -p "$corpus" "$arts" "$regress"
	# shellcheck disable=SC2086
	clang $cflags $san "$root/tests/fuzz/${t}_fuzz.c" $srcs $libs -o "$bin"

	seeds=$out/seeds/$t
	rm -rf "$seeds"
	mkdir -p "$seeds"
	if [ "$t" = frame ]; then
		# shellcheck disable=SC2086
		clang $cflags -DFRAME_FUZZ_SEEDS "$root/tests/fuzz/frame_fuzz.c" $srcs $libs -o "$out/frame_fuzz_seeds"
		"$out/frame_fuzz_seeds" "$seeds"
	else
		cp "$root/tests/fuzz/seeds/$t"/* "$seeds/"
	fi

	# Replay the regression inputs first: a fix that regressed is found
	# in a second, not after minutes of fuzzing.
	# Names are libFuzzer hashes and hand-made words: nothing to quote.
	# shellcheck disable=SC2046
	set -- $(find "$regress" -type f ! -name '.*' ! -name '*.md' | sort)
	if [ $# -gt 0 ]; then
		echo "== $t: replaying $# regression inputs"
		if ! "$bin" -rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=10 "$@" >"$out/$t-replay.log" 2>&1; then
			echo "fuzz.sh: $t: a regression input fails again; see $out/$t-replay.log" >&2
			tail -n 30 "$out/$t-replay.log" >&2
			failed=1
			continue
		fi
	fi

	echo "== $t: fuzzing for $secs s (corpus $corpus)"
	rm -f "$arts"/*
	# -rss_limit_mb and -malloc_limit_mb make an input that asks for
	# gigabytes a finding, not a slow run; -timeout makes a hang one.
	parallel=
	if [ "$jobs" -gt 1 ]; then
		# libFuzzer then writes each worker's log to fuzz-N.log in the
		# working folder.
		parallel="-jobs=$jobs -workers=$jobs -fork=$jobs"
	fi
	set +e
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=10 \
		-max_len="$(target_max_len "$t")" -dict="$root/tests/fuzz/$t.dict" \
		$parallel -artifact_prefix="$arts/" -print_final_stats=1 \
		"$corpus" "$seeds" "$regress" >"$out/$t.log" 2>&1
	rc=$?
	set -e
	grep -E '^(stat::|#[0-9]+[[:space:]]+DONE)' "$out/$t.log" || tail -n 20 "$out/$t.log"
	found=$(find "$arts" -type f | wc -l)
	if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
		for a in "$arts"/*; do
			[ -f "$a" ] || continue
			cp "$a" "$regress/"
			echo "fuzz.sh: $t: finding saved as tests/fuzz/regress/$t/$(basename "$a")" >&2
		done
		echo "fuzz.sh: $t: libFuzzer exited with $rc; the log is $out/$t.log" >&2
		failed=1
	fi
	if [ "${FUZZ_COVERAGE:-0}" = 1 ]; then
		# The same target, built for source coverage instead of
		# sanitizers, runs once over the corpus it has now.
		# shellcheck disable=SC2086
		clang $cflags -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
			"$root/tests/fuzz/${t}_fuzz.c" $srcs $libs -o "$out/${t}_cov"
		rm -f "$out/$t.profraw"
		LLVM_PROFILE_FILE="$out/$t.profraw" "$out/${t}_cov" -runs=0 "$corpus" "$seeds" "$regress" \
			>"$out/$t-cov.log" 2>&1 || true
		llvm-profdata merge -sparse "$out/$t.profraw" -o "$out/$t.profdata"
		echo "== $t: line coverage over $(find "$corpus" -type f | wc -l) corpus inputs"
		# shellcheck disable=SC2086
		llvm-cov report "$out/${t}_cov" -instr-profile="$out/$t.profdata" $srcs "$root/tests/fuzz/${t}_fuzz.c"
	fi
done
exit $failed
