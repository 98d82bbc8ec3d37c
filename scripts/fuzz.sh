#!/bin/sh
# fuzz.sh [SECONDS]: builds the frame/message fuzz target with libFuzzer,
# ASan and UBSan, and runs it for SECONDS (default 60) on the corpus in
# build-fuzz/corpus. Exits non-zero when it finds a crash, a leak or an
# oversized allocation; the input that did it is left in build-fuzz/.
set -eu

secs=${1:-60}
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build-fuzz
mkdir -p "$out/corpus" "$out/artifacts"

srcs="$root/common/frame.c $root/common/msg.c $root/common/hostproto.c $root/common/arena.c $root/common/kerr.c"
cflags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -I$root/common $(pkg-config --cflags msgpack)"
libs=$(pkg-config --libs msgpack)

# shellcheck disable=SC2086
clang $cflags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	"$root/tests/fuzz/frame_fuzz.c" $srcs $libs -o "$out/frame_fuzz"

# Seed the corpus with one valid frame of every message.
# shellcheck disable=SC2086
clang $cflags -DFRAME_FUZZ_SEEDS "$root/tests/fuzz/frame_fuzz.c" $srcs $libs -o "$out/frame_fuzz_seeds"
"$out/frame_fuzz_seeds" "$out/corpus"

# -rss_limit_mb and -malloc_limit_mb make a frame that asks for gigabytes
# a finding, not a slow run.
exec "$out/frame_fuzz" -max_total_time="$secs" -rss_limit_mb=1024 -malloc_limit_mb=512 -max_len=65536 \
	-timeout=10 -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$out/corpus"
