#!/usr/bin/env bash
# demo.sh: sets up, builds, and runs `kiln batch` on the demo project in
# demo/, then says where the products and logs are.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
bash scripts/build.sh "$here/build"
kiln="$here/build/bin/kiln"
echo
echo "== kiln batch on demo/"
set +e
"$kiln" -p demo batch
rc=$?
set -e
echo
"$kiln" -p demo jobs
echo
echo "products:      $here/demo/Cache/<platform>/  (e.g. $(ls -d "$here"/demo/Cache/pc 2>/dev/null || echo demo/Cache/pc))"
echo "job logs:      $here/demo/Cache/logs/jobs/"
echo "kiln's log:    $here/demo/Cache/logs/kiln.log"
echo "database:      $here/demo/Cache/assetdb.sqlite"
echo "try:           $kiln -p demo products   |   $kiln -p demo job 1"
exit $rc
