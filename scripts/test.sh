#!/usr/bin/env bash
# test.sh: sets up, checks that setup installed everything the tests use,
# builds Release with GCC and with clang (running the clang build's unit
# tests), builds, runs every test under ctest, then builds and runs them all
# again under AddressSanitizer and UndefinedBehaviorSanitizer. Warnings are
# errors in every build here.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
bash scripts/setup-dashboard.sh
echo "== what the tests use, against what setup installs"
/usr/bin/python3 scripts/check-deps.py

echo "== Release builds: GCC, and clang with its unit tests"
bash scripts/build-matrix.sh gcc-Release
bash scripts/build-matrix.sh --unit clang-Release

echo "== build (RelWithDebInfo)"
bash scripts/build.sh "$here/build"
echo "== tests"
(cd build && ctest -j2 --output-on-failure --timeout 300)

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
bash scripts/build.sh "$here/build-asan" -DKILN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
echo "== tests under the sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$here/tests/lsan.supp:print_suppressions=0
(cd build-asan && ctest -j2 --output-on-failure --timeout 600)
echo "== all tests passed"
