#!/usr/bin/python3
"""seams.py: the figures issue 13 asks for, each beside its baseline in one
run, with the machine's load printed beside every figure. Never pass/fail.

  /usr/bin/python3 scripts/bench/seams.py [--bin BUILD/bin] [--rows h,i,j,k]

  h  `status` p50/p99 over the control API while two clients loop the
     heaviest filter ('a*a*a*a*x' on 1,500 names of 240 characters), against
     `status` on the same supervisor with no other client
  i  peak RSS of kiln and of the builder host when a builder answers with a
     16 MiB frame of 16 million nils, against a plain one-file job
  j  supervisor time to land one job's 10,000 and 40,000 products (the
     job's wall time less the builder's own time), against `mv` of the same
     files into one folder
  k  a cold batch of 1,024 kiln-copy jobs with 256 builder hosts, against the
     same batch with 2
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "common", "python"))
import kiln_client  # noqa: E402

ROGUE = os.path.join(REPO, "tests", "builders", "rogue.py")
GRAPH = os.path.join(REPO, "tests", "builders", "graph.py")


def load():
    with open("/proc/loadavg") as f:
        return "load " + " ".join(f.read().split()[:3])


def row(name, what, kiln, base, ratio):
    print(f"| {name} | {what} | {kiln} | {base} | {ratio} | {load()} |", flush=True)


def project(root, config):
    os.makedirs(os.path.join(root, "Assets"), exist_ok=True)
    with open(os.path.join(root, "kiln.json"), "w") as f:
        json.dump(config, f)


def kiln(bindir, root, *args, check=True, **kw):
    r = subprocess.run([os.path.join(bindir, "kiln"), "-p", root, *args], capture_output=True, text=True, **kw)
    if check and r.returncode not in (0, 1):
        raise SystemExit(f"kiln {' '.join(args)}: exit {r.returncode}: {r.stderr[-500:]}")
    return r


def start_run(bindir, root):
    p = subprocess.Popen([os.path.join(bindir, "kiln"), "-p", root, "run"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = kiln_client.Client(os.path.join(root, "Cache"))
            st = c.call("status")["status"]
            if st.get("ready") and st.get("state") == "idle" and st.get("jobs_remaining") == 0:
                return p, c
            c.close()
        except Exception:
            pass
        time.sleep(0.1)
    p.kill()
    raise SystemExit("kiln run never became idle")


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def status_times(c, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        c.call("status")
        out.append((time.perf_counter() - t) * 1000)
    return out


def row_h(bindir, tmp):
    root = os.path.join(tmp, "h")
    project(root, {"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}], "hosts": 2,
                   "http": ""})
    for i in range(1500):
        open(os.path.join(root, "Assets", "a" * 236 + "%04d.txt" % i), "w").write(str(i))
    kiln(bindir, root, "batch")
    p, c = start_run(bindir, root)
    try:
        idle = status_times(c, 200)
        stop = threading.Event()

        def hammer():
            hc = kiln_client.Client(os.path.join(root, "Cache"))
            while not stop.is_set():
                try:
                    hc.request("jobs", filter="a*a*a*a*x", timeout=30)
                except Exception:
                    pass
            hc.close()

        ts = [threading.Thread(target=hammer) for _ in range(2)]
        for t in ts:
            t.start()
        time.sleep(1)
        busy = status_times(c, 200)
        stop.set()
        for t in ts:
            t.join()
    finally:
        p.terminate()
        p.wait()
    row("h", "`status` p50 / p99 while 2 clients loop the heaviest filter (1,500 names of 240 chars)",
        f"{statistics.median(busy):.2f} / {pct(busy, 0.99):.2f} ms",
        f"{statistics.median(idle):.2f} / {pct(idle, 0.99):.2f} ms idle",
        f"{statistics.median(busy) / statistics.median(idle):.2f}x")


def peak_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def watch_peaks(proc, host_pattern):
    """Samples kiln's and its hosts' VmHWM until proc ends."""
    peak = {"kiln": 0, "host": 0}
    while proc.poll() is None:
        k = peak_rss_kb(proc.pid)
        if k:
            peak["kiln"] = max(peak["kiln"], k)
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"kiln-builder-host" in cmd and host_pattern.encode() in cmd:
                h = peak_rss_kb(int(d))
                if h:
                    peak["host"] = max(peak["host"], h)
        time.sleep(0.01)
    return peak


def row_i(bindir, tmp):
    res = {}
    for name in ("plain", "nilbomb"):
        root = os.path.join(tmp, "i-" + name)
        project(root, {"platforms": ["pc"], "builders": [{"exec": ROGUE}], "hosts": 1})
        open(os.path.join(root, "Assets", f"x-{name}.rog"), "w").write("x")
        p = subprocess.Popen([os.path.join(bindir, "kiln"), "-p", root, "batch"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        res[name] = watch_peaks(p, root)
    row("i", "peak RSS of kiln / its host, a 16 MiB frame of 16 million nils",
        f"{res['nilbomb']['kiln'] / 1024:.1f} / {res['nilbomb']['host'] / 1024:.1f} MiB",
        f"{res['plain']['kiln'] / 1024:.1f} / {res['plain']['host'] / 1024:.1f} MiB, one plain job",
        f"{res['nilbomb']['kiln'] / max(1, res['plain']['kiln']):.2f}x / "
        f"{res['nilbomb']['host'] / max(1, res['plain']['host']):.2f}x")


def row_j(bindir, tmp, n):
    root = os.path.join(tmp, f"j-{n}")
    project(root, {"platforms": ["pc"], "builders": [{"exec": GRAPH, "args": ["graph", "*.dep"]}], "hosts": 1})
    with open(os.path.join(root, "Assets", "many.dep"), "w") as f:
        f.write(f"extras {n}\n")
    kiln(bindir, root, "batch")
    r = kiln(bindir, root, "jobs", "--json")
    j = json.loads(r.stdout)[0]
    db = os.path.join(root, "Cache", "assetdb.sqlite")
    import sqlite3
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    started, completed, dur = con.execute("SELECT started_at, completed_at, duration_ms FROM jobs").fetchone()
    con.close()
    sup_ms = completed - started - dur
    # Baseline: the same number of files moved into one folder by mv.
    src = os.path.join(tmp, f"j-src-{n}")
    dst = os.path.join(tmp, f"j-dst-{n}")
    os.makedirs(src)
    os.makedirs(dst)
    for i in range(n):
        open(os.path.join(src, f"{i:06d}.bin"), "w").write("x")
    t = time.perf_counter()
    subprocess.run(f"find {src} -type f -exec mv -t {dst} {{}} +", shell=True, check=True)
    mv_ms = (time.perf_counter() - t) * 1000
    row("j", f"supervisor time to land one job's {n:,} products (status {j['status']})", f"{sup_ms:.0f} ms",
        f"{mv_ms:.0f} ms find | mv", f"{sup_ms / max(1, mv_ms):.2f}x")


def row_k(bindir, tmp):
    res = {}
    for hosts in (256, 2):
        root = os.path.join(tmp, f"k-{hosts}")
        project(root, {"platforms": ["pc"], "builders": [{"exec": "kiln-copy", "patterns": ["*.txt"]}],
                       "hosts": hosts})
        for i in range(1024):
            open(os.path.join(root, "Assets", f"f{i:04d}.txt"), "w").write(str(i))
        t = time.perf_counter()
        r = kiln(bindir, root, "batch")
        res[hosts] = ((time.perf_counter() - t) * 1000, r.stdout.strip().splitlines()[-1])
    row("k", f"cold batch of 1,024 kiln-copy jobs, 256 hosts ({res[256][1][:40]})", f"{res[256][0]:.0f} ms",
        f"{res[2][0]:.0f} ms with 2 hosts", f"{res[256][0] / res[2][0]:.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--rows", default="h,i,j,k")
    a = ap.parse_args()
    rows = set(a.rows.split(","))
    tmp = tempfile.mkdtemp(prefix="kiln-seams.")
    try:
        print(f"seams bench: {os.uname().nodename}, {os.cpu_count()} CPUs, {load()}, "
              f"commit {subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}")
        print("| row | what | kiln | baseline | kiln / baseline | machine |")
        print("| --- | --- | --- | --- | --- | --- |")
        if "h" in rows:
            row_h(a.bin, tmp)
        if "i" in rows:
            row_i(a.bin, tmp)
        if "j" in rows:
            row_j(a.bin, tmp, 10000)
            row_j(a.bin, tmp, 40000)
        if "k" in rows:
            row_k(a.bin, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
