# kiln run: saves are processed as they come (edits, new folders, saves by
# rename, deletions), product events reach a subscriber, compile jumps the
# queue, garbage on the control socket is survived, and SIGTERM stops it
# cleanly with exit code 0.
set -e
. "$(dirname "$0")/lib.sh"
GRAPH="$KILN_TESTS/builders/graph.py"
CLIENT="$KILN_SRC/common/python/kiln_client.py"

write_config <<JSON
{
  "platforms": ["pc"],
  "builders": [
    {"exec": "kiln-copy", "patterns": ["*.txt"]},
    {"exec": "$GRAPH", "args": ["graph", "*.dep"]}
  ],
  "hosts": 2
}
JSON
echo "a one" >"$P/Assets/a.txt"

"$KILN_BIN/kiln" -p "$P" run >"$T/run.out" 2>&1 &
RUN=$!
stop_run() { kill -TERM "$RUN" 2>/dev/null || true; wait "$RUN" 2>/dev/null || true; }
show_run() { [ $? -eq 0 ] || { echo "---- kiln run's output ----"; tail -n 60 "$T/run.out"; }; }
trap 'show_run; stop_run; cleanup' EXIT

step "it starts, scans, processes and becomes ready"
wait_for 20 '[ -f "$P/Cache/pc/a.txt" ]' || fail "the first scan made nothing: $(cat "$T/run.out")"
wait_for 10 '"$KILN_BIN/kiln" -p "$P" status --json 2>/dev/null | grep -q "\"ready\": true"' || fail "never ready"
kiln status --json
expect_eq "$(printf '%s' "$OUT" | json_get 'd["running"]')" True "status from the supervisor"

step "an edit is processed and a product event arrives"
$PY - "$CLIENT" "$P/Cache" "$P/Assets/a.txt" >"$T/events" 2>&1 <<'PYEOF' &
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("kiln_client", sys.argv[1])
kc = importlib.util.module_from_spec(spec); spec.loader.exec_module(kc)
c = kc.Client(sys.argv[2])
sub = c.subscribe("product")
# The save comes once kiln's PUB socket counts the subscriber (its pipe is
# up), so the event cannot be sent before anyone listens.
deadline = time.time() + 10
while c.call("connections").get("subscribers", 0) < 1:
    if time.time() > deadline:
        sys.exit("kiln never counted the subscriber")
    time.sleep(0.02)
open(sys.argv[3], "w").write("a two\n")
topic, body = sub.next(timeout=10)
print(topic, body["event"], body["path"], body["asset_id"])
PYEOF
EV=$!
wait "$EV" || fail "no product event: $(cat "$T/events")"
expect_match "$(cat "$T/events")" '^product changed a.txt \{[0-9a-f-]{36}\}:0$' "event"
expect_eq "$(cat "$P/Cache/pc/a.txt")" "a two" "product updated"

step "a new folder with files, a save by rename, a deletion"
mkdir -p "$P/Assets/new/deeper"
echo "deep" >"$P/Assets/new/deeper/d.txt"
wait_for 10 '[ -f "$P/Cache/pc/new/deeper/d.txt" ]' || fail "file in a new folder not processed"
echo "renamed in" >"$P/Assets/.a.txt.tmp"
mv "$P/Assets/.a.txt.tmp" "$P/Assets/a.txt"
wait_for 10 '[ "$(cat "$P/Cache/pc/a.txt")" = "renamed in" ]' || fail "save by rename not processed"
rm "$P/Assets/new/deeper/d.txt"
wait_for 10 '[ ! -e "$P/Cache/pc/new/deeper/d.txt" ]' || fail "deletion not processed"

step "compile jumps a long queue"
for i in $(seq 1 120); do printf 'sleep 0.05\n' >"$P/Assets/q$(printf %03d $i).dep"; done
printf 'plain\n' >"$P/Assets/zz-last.dep"
# Wait until the supervisor has the long queue (the saves are seen and their
# jobs made), so that compile meets it.
queued() { "$KILN_BIN/kiln" -p "$P" status --json 2>/dev/null | json_get 'd["jobs_remaining"] + d["jobs_active"]' 2>/dev/null || echo 0; }
wait_for 20 '[ "$(queued)" -ge 30 ]' || fail "the 121 saves never made a queue: $(queued) jobs"
START=$(date +%s%N)
kiln compile "$P/Assets/zz-last.dep" --timeout 30
END=$(date +%s%N)
expect_rc 0
[ -f "$P/Cache/pc/zz-last.dep.out" ] || fail "compiled product missing"
kiln status --json
REMAIN=$(printf '%s' "$OUT" | json_get 'd["jobs_remaining"] + d["jobs_active"]')
[ "$REMAIN" -gt 20 ] || fail "the queue drained before compile returned ($REMAIN left); compile took $(((END - START) / 1000000)) ms"
echo "compile took $(((END - START) / 1000000)) ms with $REMAIN jobs still queued"

step "garbage on the control socket is survived"
$PY - "$P/Cache/kiln.sock" <<'PYEOF'
import socket, sys, os
for payload in (b"\x00\x00\x00\x00", os.urandom(4096), b"\x00SP\x00\x00\x31\x00\x00" + b"\xff" * 64):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1]); s.sendall(payload); s.close()
PYEOF
kiln status --json
expect_rc 0
kiln compile nope/missing.txt
expect_rc 1

step "SIGTERM stops it with exit code 0"
kill -TERM "$RUN"
set +e
wait "$RUN"
RRC=$?
set -e
expect_eq "$RRC" 0 "exit code after SIGTERM"
kiln compile "$P/Assets/a.txt"
expect_rc 3
kiln batch
expect_rc 0
echo ok
