#!/usr/bin/env bash
# demo.sh: sets up, builds, and runs `kiln batch` on the demo project in
# scripts/demo/, then says where the products and logs are.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
demo="$here/scripts/demo"
cd "$here"
bash scripts/setup.sh
bash scripts/build.sh "$here/build"
kiln="$here/build/bin/kiln"
echo
echo "== kiln batch on scripts/demo/"
set +e
"$kiln" -p "$demo" batch
rc=$?
set -e
echo
"$kiln" -p "$demo" jobs
echo
echo "products:      $demo/Cache/<platform>/   (pc and linux)"
echo "asset catalog: $demo/Cache/pc/assetcatalog.json"
echo "job logs:      $demo/Cache/logs/jobs/"
echo "kiln's log:    $demo/Cache/logs/kiln.log"
echo "database:      $demo/Cache/assetdb.sqlite"
echo "try:           $kiln -p $demo products    |    $kiln -p $demo job 1    |    $kiln -p $demo run"
exit $rc
