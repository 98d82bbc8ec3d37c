#!/usr/bin/env bash
# setup-dashboard.sh: installs what the dashboard's end-to-end tests need:
# Debian's Chromium, Node.js with npm, and playwright-core (pinned in
# tests/dashboard/package-lock.json). Safe to run again: it installs only what
# is missing. Playwright's own browser downloads are never used: the tests
# drive /usr/bin/chromium.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Fonts, so that the page's text renders in screenshots.
dpkg-query -W -f='${Status}' fonts-dejavu-core 2>/dev/null | grep -q "install ok installed" || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup-dashboard: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cd "$here/tests/dashboard"
if [ -d node_modules/playwright-core ] &&
	node -e 'const l=require("./package-lock.json"), p=require("./node_modules/playwright-core/package.json"); process.exit(l.packages["node_modules/playwright-core"].version === p.version ? 0 : 1)' 2>/dev/null; then
	echo "setup-dashboard: playwright-core is installed"
else
	echo "setup-dashboard: npm ci in tests/dashboard"
	# No browser download: Debian's chromium is used.
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup-dashboard: chromium $(chromium --version 2>/dev/null | awk '{print $2}'), node $(node --version)"
