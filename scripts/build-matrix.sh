#!/usr/bin/env bash
# build-matrix.sh [--unit] [COMBO...]: builds kiln the ways packagers and
# other compilers do, each in its own folder under build-matrix/, with
# warnings as errors so that a warning fails its combination.
#
# A combination is COMPILER-TYPE: gcc or clang, and Release, RelWithDebInfo,
# Debug or None (None is how Debian's packaging builds: no build type, its
# own flags from dpkg-buildflags). With no COMBO every one is built. With
# --unit the unit tests of each build run too (ctest -R '^unit\.').
#
#   bash scripts/build-matrix.sh                      # all eight
#   bash scripts/build-matrix.sh --unit clang-Release # what CI adds
#
# Prints one line a combination and exits non-zero if any failed; the
# compiler's output of a failed one is in build-matrix/COMBO.log.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${KILN_MATRIX_DIR:-$here/build-matrix}
unit=0
combos=()
for a in "$@"; do
	case $a in
	--unit) unit=1 ;;
	-h | --help)
		sed -n '2,16p' "$0"
		exit 0
		;;
	*) combos+=("$a") ;;
	esac
done
if [ ${#combos[@]} -eq 0 ]; then
	for cc in gcc clang; do
		for bt in Release RelWithDebInfo Debug None; do
			combos+=("$cc-$bt")
		done
	done
fi

# Debian's flags for a package built with debhelper's defaults (what
# `dpkg-buildflags` prints on bookworm, less the linker's hardening that does
# not touch compilation).
deb_cflags="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
deb_cppflags="-D_FORTIFY_SOURCE=2"

mkdir -p "$out"
failed=0
for combo in "${combos[@]}"; do
	cc=${combo%%-*}
	bt=${combo#*-}
	case $cc in gcc | clang) ;; *)
		echo "build-matrix: $combo: the compiler must be gcc or clang" >&2
		exit 2
		;;
	esac
	case $bt in Release | RelWithDebInfo | Debug | None) ;; *)
		echo "build-matrix: $combo: the build type must be Release, RelWithDebInfo, Debug or None" >&2
		exit 2
		;;
	esac
	dir=$out/$combo
	log=$out/$combo.log
	start=$(date +%s)
	cflags=""
	if [ "$bt" = None ]; then
		cflags="$deb_cflags $deb_cppflags"
	fi
	status=ok
	# A fresh folder each time: a cache from other flags would hide a change.
	rm -rf "$dir"
	if ! CC=$cc CFLAGS="$cflags" cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$bt" \
		-DKILN_WERROR=ON >"$log" 2>&1; then
		status="configure failed"
	elif ! ninja -C "$dir" -j2 >>"$log" 2>&1; then
		status="build failed ($(grep -c -E 'error:' "$log" || true) errors)"
	elif grep -q -E 'warning:' "$log"; then
		status="warnings ($(grep -c -E 'warning:' "$log"))"
	elif [ $unit = 1 ] && ! (cd "$dir" && ctest -j2 -R '^unit\.' --output-on-failure --timeout 120 >>"$log" 2>&1); then
		status="unit tests failed"
	fi
	printf '%-22s %-28s %4ss  %s\n' "$combo" "$status" $(($(date +%s) - start)) "$log"
	if [ "$status" != ok ]; then
		failed=1
		grep -E -m 20 -A 3 'error:|warning:|FAILED|Failed' "$log" | head -60 || tail -30 "$log"
	fi
done
exit $failed
