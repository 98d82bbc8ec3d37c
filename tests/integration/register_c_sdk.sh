# The C SDK as a product: `cmake --install --component sdk` puts the headers,
# the static libraries and kiln-builder.pc under a prefix; the example
# builder in builders/examples/c builds outside the tree from that prefix
# alone (Makefile and CMake, also after the prefix is moved), and kiln runs
# it when kiln.json names it by path.
set -e
. "$(dirname "$0")/lib.sh"

BUILD=$(cd "$KILN_BIN/.." && pwd)
grep -rq 'kiln-builder.pc' "$BUILD"/cmake_install.cmake "$BUILD"/builders 2>/dev/null ||
	grep -q 'install.cmake' "$KILN_SRC/CMakeLists.txt" || fail "the build has no install rules for the SDK"


step "cmake --install puts exactly the SDK under the prefix"
cmake --install "$BUILD" --prefix "$T/prefix" --component sdk >"$T/install.log" 2>&1 || fail "install: $(cat "$T/install.log")"
PC=$(find "$T/prefix" -name kiln-builder.pc)
[ -n "$PC" ] || fail "no kiln-builder.pc installed"
LIBDIR=$(dirname "$(dirname "$PC")")
expect_eq "$(cd "$T/prefix" && find . -type f | sort | tr '\n' ' ')" \
	"$(printf '%s\n' ./include/kiln/arena.h ./include/kiln/kiln_builder.h ./include/kiln/msg.h \
		".${LIBDIR#"$T/prefix"}/libkiln_builder_sdk.a" ".${LIBDIR#"$T/prefix"}/libkiln_common.a" \
		".${LIBDIR#"$T/prefix"}/pkgconfig/kiln-builder.pc" | sort | tr '\n' ' ')" "installed files"
echo '#include "kiln_builder.h"' | cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$T/prefix/include/kiln" -x c - ||
	fail "the installed header does not compile on its own"

step "the example builds from the installed SDK alone (Makefile)"
cp -r "$KILN_SRC/builders/examples/c" "$T/src"
mkdir -p "$T/bld"
make -s -C "$T/src" PKG_CONFIG_PATH="$LIBDIR/pkgconfig" OUT="$T/bld" >"$T/make.log" 2>&1 || fail "make: $(cat "$T/make.log")"
[ -x "$T/bld/kiln-upper" ] || fail "no executable"

step "and with CMake, from a moved prefix"
mv "$T/prefix" "$T/moved"
cmake -S "$T/src" -B "$T/cmb" -G Ninja -DCMAKE_PREFIX_PATH="$T/moved" >"$T/cmake.log" 2>&1 || fail "cmake: $(cat "$T/cmake.log")"
ninja -C "$T/cmb" >>"$T/cmake.log" 2>&1 || fail "ninja: $(cat "$T/cmake.log")"
[ -x "$T/cmb/kiln-upper" ] || fail "no executable from CMake"

step "kiln runs the out-of-tree builder registered by path"
write_config <<JSON
{
  "platforms": ["pc", "linux"],
  "builders": [{"exec": "$T/bld/kiln-upper"}],
  "hosts": 1
}
JSON
mkdir -p "$P/Assets/notes"
printf 'hello, World 42\n' >"$P/Assets/notes/Hi.up"
echo "ignored" >"$P/Assets/other.txt"
kiln batch
expect_rc 0
expect_match "$(summary)" '^2 jobs: 2 completed, 0 with warnings, 0 with errors, 0 failed; 2 products; ' "summary"
expect_eq "$(cat "$P/Cache/linux/notes/hi.up")" "HELLO, WORLD 42" "product"
kiln builders --json
expect_eq "$(printf '%s' "$OUT" | json_get '[(b["name"], b["type"], b["version"], b["patterns"]) for b in d]')" \
	"[('kiln-upper', 'external', '1', ['*.up'])]" "builder"
JOB=$(sql "SELECT id FROM jobs WHERE platform = 'pc'")
kiln job "$JOB" --json
expect_match "$(printf '%s' "$OUT" | json_get '"\n".join(l["message"] for l in d["lines"])')" \
	'upper-cased notes/Hi.up \(16 bytes\) for pc' "printf line in the job log"
echo ok
