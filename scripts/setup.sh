#!/usr/bin/env bash
# setup.sh: installs what kiln needs to build and test, from Debian's
# packages. Safe to run again: it installs only what is missing.
set -euo pipefail

PACKAGES=(
	build-essential cmake ninja-build pkg-config git
	libsqlite3-dev sqlite3 libnng-dev libmsgpack-dev libpcre2-dev libxxhash-dev xxhash libjansson-dev
	python3 python3-msgpack python3-xxhash python3-pytest
	clang libclang-rt-14-dev
	libstb-dev libpng-dev libassimp-dev assimp-testmodels libmeshoptimizer-dev libexpat1-dev
	imagemagick curl libcurl4-openssl-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: every package is installed"
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
