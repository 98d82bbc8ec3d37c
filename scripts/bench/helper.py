#!/usr/bin/python3
"""Helpers for scripts/bench.sh, one subcommand each:

  gen DIR N              write N deterministic small files (100..2000 bytes of
                         varied content) in 100 folders under DIR
  ninja TREE OUT FILE    write FILE, a build.ninja with one `cp` edge per
                         regular file of TREE, each copied to OUT/<same path>
  startup BUILDER [N]    the median time in ms, over N tries, from spawning
                         BUILDER to its reply to a `describe` request (the
                         cost of starting that builder, without kiln)
  inotify-copy N         the floor for live mode: save a small file N times,
                         each time wait for its inotify IN_CLOSE_WRITE and
                         copy it, as the most minimal watch-and-copy tool
                         would; print "p50 p99" in ms
  crash PROJECT          for a rogue.py project whose job 1 crashed and job 2
                         ran next on the same host: print "restart first_out
                         assigned done" in ms, each measured from the crash
                         (the earlier of the host's and the job log's stamp)

Everything is deterministic so two runs of the bench see the same trees.
"""
import datetime
import glob
import json
import os
import random
import re
import statistics
import struct
import subprocess
import sys
import time

EXTS = [".png", ".txt", ".json", ".wav", ".bin", ".fbx", ".mat", ".lua"]


def gen(root, n):
    folders = 100 if n >= 100 else max(1, n)
    per, extra = divmod(n, folders)
    i = 0
    for d in range(folders):
        sub = os.path.join(root, "d%03d" % d)
        os.makedirs(sub, exist_ok=True)
        for _ in range(per + (1 if d < extra else 0)):
            rng = random.Random(i)
            size = rng.randrange(100, 2001)
            # Half text-like, half binary, so the tree looks like assets and
            # no two files hash alike.
            if i % 2:
                words = [b"mesh", b"texture", b"vertex", b"uv", b"normal", b"%d" % i]
                data = b" ".join(rng.choice(words) for _ in range(size // 4 + 1))[:size]
            else:
                data = rng.randbytes(size)
            with open(os.path.join(sub, "f%06d%s" % (i, EXTS[i % len(EXTS)])), "wb") as f:
                f.write(data)
            i += 1
    return 0


def ninja_escape(p):
    return p.replace("$", "$$").replace(" ", "$ ").replace(":", "$:")


def ninja(tree, out, path):
    tree = os.path.abspath(tree)
    out = os.path.abspath(out)
    n = skipped = 0
    with open(path, "w") as f:
        f.write("rule cp\n  command = cp -- $in $out\n\n")
        for dirpath, dirnames, filenames in os.walk(tree):
            dirnames.sort()
            for name in sorted(filenames):
                src = os.path.join(dirpath, name)
                if not os.path.isfile(src) or os.path.islink(src):
                    continue
                if "\n" in src:
                    skipped += 1
                    continue
                rel = os.path.relpath(src, tree)
                f.write("build %s: cp %s\n" % (ninja_escape(os.path.join(out, rel)), ninja_escape(src)))
                n += 1
    print(n, skipped)
    return 0


def frame(obj_bytes):
    return struct.pack(">I", len(obj_bytes)) + obj_bytes


def startup(builder, tries):
    # {"type": "describe"} in MessagePack, written by hand so this needs no
    # msgpack module of its own.
    req = frame(b"\x81\xa4type\xa8describe")
    times = []
    for _ in range(tries):
        t0 = time.perf_counter()
        p = subprocess.Popen([builder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        p.stdin.write(req)
        p.stdin.flush()
        hdr = p.stdout.read(4)
        if len(hdr) < 4:
            print("startup: %s gave no reply" % builder, file=sys.stderr)
            return 1
        body = p.stdout.read(struct.unpack(">I", hdr)[0])
        t1 = time.perf_counter()
        if b"describe" not in body:
            print("startup: %s gave an unexpected reply" % builder, file=sys.stderr)
            return 1
        p.stdin.close()
        p.wait()
        times.append((t1 - t0) * 1000.0)
    print("%.1f" % statistics.median(times))
    return 0


TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z ")


def ms(stamp):
    t = datetime.datetime.strptime(stamp.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000.0


def job_lines(project, job_id):
    logs = sorted(glob.glob(os.path.join(project, "Cache/logs/jobs/%d-*.log" % job_id)))
    if not logs:
        raise SystemExit("crash: no log for job %d" % job_id)
    with open(logs[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def crash(project):
    crash_t = restart_t = None
    with open(os.path.join(project, "Cache/logs/kiln.log")) as f:
        for line in f:
            m = TS.match(line)
            if not m:
                continue
            if crash_t is None and "killed by signal 11" in line and "[host-" in line:
                crash_t = ms(m.group(1))
            elif crash_t is not None and restart_t is None and "started builder" in line:
                restart_t = ms(m.group(1))
    if crash_t is None or restart_t is None:
        raise SystemExit("crash: kiln.log shows no crash followed by a builder start")
    j1 = job_lines(project, 1)
    if "segv" not in j1[0]["message"] or not any("crashed" in l["message"] for l in j1):
        raise SystemExit("crash: job 1 is not the crashed segv job")
    # The host and the supervisor each stamp the crash in their own time;
    # whichever saw it first is when it happened.
    crash_t = min([crash_t] + [ms(l["time"]) for l in j1 if "builder crashed" in l["message"]])
    j2 = job_lines(project, 2)
    assigned = ms(j2[0]["time"])
    first = next((ms(l["time"]) for l in j2 if l["source"] in ("builder", "stderr")), None)
    done = next((ms(l["time"]) for l in j2 if l["message"].startswith("job completed")), None)
    if first is None or done is None:
        raise SystemExit("crash: job 2 did not complete on the replacement builder")
    print("%d %d %d %d" % (restart_t - crash_t, first - crash_t, assigned - crash_t, done - crash_t))
    return 0


def pct(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100.0 * (len(sorted_ms) - 1))))]


def inotify_copy(n):
    import ctypes
    import select
    import shutil
    import tempfile

    IN_CLOSE_WRITE = 0x8
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    tmp = tempfile.mkdtemp(prefix="kiln-bench-inotify.")
    src = os.path.join(tmp, "src")
    out = os.path.join(tmp, "out")
    os.makedirs(src)
    os.makedirs(out)
    fd = libc.inotify_init1(os.O_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, src.encode(), IN_CLOSE_WRITE) < 0:
        print("inotify-copy: inotify: %s" % os.strerror(ctypes.get_errno()), file=sys.stderr)
        return 1
    target = os.path.join(src, "edit.txt")
    lat = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            with open(target, "w") as f:
                f.write("edit %d\n" % i)
            done = False
            while not done:
                if not select.select([fd], [], [], 10)[0]:
                    print("inotify-copy: no event within 10 s", file=sys.stderr)
                    return 1
                buf = os.read(fd, 65536)
                off = 0
                while off < len(buf):
                    _wd, _mask, _cookie, ln = struct.unpack_from("iIII", buf, off)
                    name = buf[off + 16:off + 16 + ln].rstrip(b"\0").decode()
                    off += 16 + ln
                    if name == "edit.txt":
                        done = True
            shutil.copyfile(target, os.path.join(out, "edit.txt"))
            lat.append((time.perf_counter() - t0) * 1000.0)
            time.sleep(0.02)
    finally:
        os.close(fd)
        shutil.rmtree(tmp, ignore_errors=True)
    lat.sort()
    print("%.2f %.2f" % (pct(lat, 50), pct(lat, 99)))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "gen":
        return gen(argv[2], int(argv[3]))
    if len(argv) == 5 and argv[1] == "ninja":
        return ninja(argv[2], argv[3], argv[4])
    if len(argv) >= 3 and argv[1] == "startup":
        return startup(argv[2], int(argv[3]) if len(argv) > 3 else 5)
    if len(argv) == 3 and argv[1] == "inotify-copy":
        return inotify_copy(int(argv[2]))
    if len(argv) == 3 and argv[1] == "crash":
        return crash(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
