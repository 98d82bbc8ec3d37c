#!/usr/bin/python3
"""Live-mode latency: from saving a small file to its product-changed event.

Starts `kiln run` on a temporary project with kiln-copy, subscribes to the
product events, saves one small file N times (default 200), and prints the
p50, p90, p99 and max latency in milliseconds. Needs a built kiln
(`--bin DIR`, default build/bin beside this script's repository).
"""
import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load_client():
    spec = importlib.util.spec_from_file_location("kiln_client", os.path.join(ROOT, "common/python/kiln_client.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build/bin"))
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--files", type=int, default=1000, help="other sources in the project")
    args = ap.parse_args()
    kc = load_client()
    tmp = tempfile.mkdtemp(prefix="kiln-latency.")
    proj = os.path.join(tmp, "p")
    os.makedirs(os.path.join(proj, "Assets", "other"))
    with open(os.path.join(proj, "kiln.json"), "w") as f:
        f.write('{"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}], "hosts": 2}')
    for i in range(args.files):
        with open(os.path.join(proj, "Assets", "other", "f%05d.txt" % i), "w") as f:
            f.write("file %d\n" % i)
    target = os.path.join(proj, "Assets", "edit.txt")
    with open(target, "w") as f:
        f.write("start\n")
    run = subprocess.Popen([os.path.join(args.bin, "kiln"), "-p", proj, "run"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    lat = []
    try:
        cache = os.path.join(proj, "Cache")
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(cache, "kiln.sock")) and time.time() < deadline:
            time.sleep(0.05)
        client = kc.Client(cache, timeout=30)
        client.wait_ready(timeout=60)
        sub = client.subscribe("product")
        time.sleep(0.3)
        for i in range(args.edits):
            t0 = time.perf_counter()
            with open(target, "w") as f:
                f.write("edit %d\n" % i)
            while True:
                topic, body = sub.next(timeout=10)
                if body.get("path") == "edit.txt" and body.get("event") == "changed":
                    break
            lat.append((time.perf_counter() - t0) * 1000.0)
            time.sleep(0.02)
    finally:
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(timeout=20)
        except subprocess.TimeoutExpired:
            run.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))]

    print("live latency over %d edits (%d other sources): p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (len(lat), args.files, pct(50), pct(90), pct(99), lat[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
