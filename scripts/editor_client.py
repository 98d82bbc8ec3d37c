#!/usr/bin/python3
"""An example editor client of kiln's control API (supervisor/control/control-api.md).

It does what a game editor does with `kiln run` beside it: connects,
registers itself, waits until no critical job is left, asks for the assets it
needs right now (compile: escalated, answered when their jobs are done), and
then reloads products as they change (here: prints the product events).

    scripts/editor_client.py [-p PROJECT | --connect WHERE] [--platform P]
                             [--timeout S] [--count N] [ASSET ...]

ASSET is a source path (relative to the project root or its scan folder, or
absolute) or a source UUID. It stops after --count product events, or on
Ctrl-C. Exit status: 0 when every compile completed, 1 when one failed, was
missing or timed out, 3 when no supervisor runs there.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common", "python"))
import kiln_client  # noqa: E402


def find_cache(project):
    """The cache folder of the project at or above project (kiln.json's
    "cache", default Cache)."""
    d = os.path.abspath(project)
    while True:
        f = os.path.join(d, "kiln.json")
        if os.path.isfile(f):
            break
        parent = os.path.dirname(d)
        if parent == d:
            raise SystemExit("editor_client: no kiln.json at or above %s" % project)
        d = parent
    try:
        with open(f, encoding="utf-8") as fh:
            cache = json.load(fh).get("cache", "Cache")
    except (OSError, ValueError) as e:
        raise SystemExit("editor_client: %s: %s" % (f, e))
    return cache if os.path.isabs(cache) else os.path.join(d, cache)


def say(fmt, *args):
    print(time.strftime("%H:%M:%S ") + (fmt % args if args else fmt), flush=True)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-p", "--project", default=".", help="project folder (default: the nearest with kiln.json)")
    ap.add_argument("--connect", help="cache folder, socket path or tcp://HOST:PORT instead of -p")
    ap.add_argument("--token", help="control.token, for tcp://")
    ap.add_argument("--platform", help="compile for this platform only")
    ap.add_argument("--timeout", type=float, default=0, help="compile timeout in seconds (0: none)")
    ap.add_argument("--ready-timeout", type=float, default=0, help="give up waiting for ready after S seconds")
    ap.add_argument("--count", type=int, default=0, help="stop after N product events (0: never)")
    ap.add_argument("assets", nargs="*", help="assets to compile now (path or UUID)")
    args = ap.parse_args(argv)

    where = args.connect or find_cache(args.project)
    try:
        client = kiln_client.Client(where, token=args.token, timeout=10.0)
    except (OSError, kiln_client.KilnError) as e:
        print("editor_client: no supervisor at %s (%s); start `kiln run`" % (where, e), file=sys.stderr)
        return 3
    status = 0
    sub = None
    try:
        cid = client.hello("editor_client")
        say("connected to %s as client %d", where, cid)
        # Subscribe first, so that no product event between the compile
        # and the subscription is lost.
        if not where.startswith("tcp://"):
            sub = client.subscribe("product", "ready")

        st = client.call("status")["status"]
        if not st.get("ready"):
            say("waiting for critical assets (%s, %s jobs left)", st.get("state"), st.get("jobs_remaining"))
            client.wait_ready(timeout=args.ready_timeout or None)
        say("ready")

        for asset in args.assets:
            field = {"uuid": asset} if _looks_like_uuid(asset) else {"path": asset}
            t0 = time.monotonic()
            try:
                r = client.compile(platform=args.platform, timeout_ms=int(args.timeout * 1000) or None, **field)
            except kiln_client.RequestError as e:
                say("compile %s: error: %s", asset, e)
                status = 1
                continue
            result = r.get("result")
            jobs = ", ".join("%s/%s %s" % (j.get("platform"), j.get("job_key"), j.get("status"))
                             for j in r.get("jobs", []))
            say("compile %s: %s in %.2f s%s", asset, result, time.monotonic() - t0, " (%s)" % jobs if jobs else "")
            if result != "completed":
                status = 1

        if sub is None:
            return status
        seen = 0
        say("listening for product changes (Ctrl-C stops)")
        while not args.count or seen < args.count:
            topic, body = sub.next()
            if topic == "ready":
                say("ready: %s", body.get("ready"))
                continue
            seen += 1
            say("product %s: %s/%s %s", body.get("event"), body.get("platform"), body.get("path"),
                body.get("asset_id"))
    except KeyboardInterrupt:
        pass
    except kiln_client.ConnectionLost as e:
        print("editor_client: the supervisor went away (%s)" % e, file=sys.stderr)
        return 3
    except kiln_client.KilnError as e:
        print("editor_client: %s" % e, file=sys.stderr)
        return 1
    finally:
        if sub:
            sub.close()
        client.close()
    return status


def _looks_like_uuid(s):
    h = s.strip("{}").replace("-", "")
    return len(h) == 32 and all(c in "0123456789abcdefABCDEF" for c in h)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
