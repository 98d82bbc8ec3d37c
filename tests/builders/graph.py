#!/usr/bin/python3
"""A builder for the dependency-graph scenarios, written against SPEC
section 5 alone. What it does is read from each source's own lines:

  dep PATH             source dependency by path
  depuuid UUID         source dependency by UUID
  depglob PATTERN      source dependency by wildcard
  jobdep PATH [fingerprint]   job dependency on PATH's jobs (same platform)
  inter BUILDER NAME   when run as BUILDER, also emit NAME as an intermediate product
  pathdep PATH         product path dependency (type product)
  srcdep PATH          product path dependency (type source)
  assetdep ID          product dependency by asset id
  reprocess PATH       sources_to_reprocess
  out NAME             the main product's file name (default: source + ".out")
  outfor BUILDER NAME  the same, only when run as BUILDER
  extra NAME           one more product, NAME, holding the main product's bytes
  extras N             N more products p/000000.bin ..., a few bytes each
  sleep SECONDS        sleep in process_job
  critical / priority N    job description fields

The main product (sub_id 0) holds the source's bytes followed by the bytes
of every dependency it can read (from source_file_dependencies), so tests
can see what a job saw. Every request is appended to $KILN_TEST_CALL_LOG as
"<builder> <type> <source_file> <platform>". argv[1] names the builder (the
uuid derives from it); argv[2], if given, is a comma-separated pattern list.
"""
import os
import struct
import sys
import time
import uuid

import msgpack

NAME = sys.argv[1] if len(sys.argv) > 1 else "graph"
PATTERNS = sys.argv[2].split(",") if len(sys.argv) > 2 else ["*.dep"]
UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kiln-test-graph:" + NAME))
inp, out = sys.stdin.buffer, sys.stdout.buffer


def read_frame():
    hdr = inp.read(4)
    if len(hdr) < 4:
        return None
    (n,) = struct.unpack(">I", hdr)
    return msgpack.unpackb(inp.read(n), raw=False)


def send(obj):
    data = msgpack.packb(obj, use_bin_type=True)
    out.write(struct.pack(">I", len(data)) + data)
    out.flush()


def note(*words):
    path = os.environ.get("KILN_TEST_CALL_LOG")
    if path:
        with open(path, "a") as f:
            f.write(" ".join([NAME] + [str(w) for w in words]) + "\n")


def directives(full_path):
    try:
        with open(full_path, "r", errors="replace") as f:
            return [line.split() for line in f if line.strip()]
    except OSError:
        return []


def create_jobs(req):
    note("create_jobs", req["source_file"], "-")
    lines = directives(req["full_path"])
    deps, jobdeps = [], []
    critical, priority = False, 0
    for w in lines:
        if w[0] == "dep":
            deps.append({"path": w[1]})
        elif w[0] == "depuuid":
            deps.append({"uuid": w[1]})
        elif w[0] == "depglob":
            deps.append({"path": w[1]})
        elif w[0] == "jobdep":
            jobdeps.append({"path": w[1], "type": "fingerprint" if len(w) > 2 and w[2] == "fingerprint" else "order"})
        elif w[0] == "critical":
            critical = True
        elif w[0] == "priority":
            priority = int(w[1])
    jobs = []
    for p in req["platforms"]:
        j = {"job_key": "graph", "platform": p, "critical": critical, "priority": priority, "params": {}}
        if jobdeps:
            j["job_dependencies"] = jobdeps
        jobs.append(j)
    send({"type": "create_jobs", "result": "success", "jobs": jobs, "source_dependencies": deps})


def process_job(req):
    src = req["source_file"]
    plat = req["job_description"]["platform"]
    note("process_job", src, plat)
    lines = directives(req["full_path"])
    tmp = req["temp_dir"]
    name = src + ".out"
    products = []
    path_deps, asset_deps, reprocess = [], [], []
    for w in lines:
        if w[0] == "sleep":
            time.sleep(float(w[1]))
        elif w[0] == "out":
            name = w[1]
        elif w[0] == "outfor" and len(w) > 2 and w[1] == NAME:
            name = w[2]
        elif w[0] == "pathdep":
            path_deps.append({"path": w[1], "type": "product"})
        elif w[0] == "srcdep":
            path_deps.append({"path": w[1], "type": "source"})
        elif w[0] == "assetdep":
            asset_deps.append({"asset_id": w[1]})
        elif w[0] == "reprocess":
            reprocess.append(w[1])
    body = open(req["full_path"], "rb").read()
    for dep in req.get("source_file_dependencies", []):
        try:
            body += b"\n--- " + os.path.basename(dep).encode() + b"\n" + open(dep, "rb").read()
        except OSError:
            pass
    dst = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(dst) or tmp, exist_ok=True)
    with open(dst, "wb") as f:
        f.write(body)
    products.append({"file": name, "asset_type": "graph", "sub_id": 0, "dependencies": asset_deps,
                     "path_dependencies": path_deps, "dependencies_handled": True, "intermediate": False})
    sub = 1
    for w in lines:
        if w[0] == "extras" and len(w) > 1:
            os.makedirs(os.path.join(tmp, "p"), exist_ok=True)
            for k in range(int(w[1])):
                name = "p/%06d.bin" % k
                with open(os.path.join(tmp, name), "wb") as f:
                    f.write(b"%d\n" % k)
                products.append({"file": name, "asset_type": "graph", "sub_id": sub, "dependencies": [],
                                 "path_dependencies": [], "dependencies_handled": True, "intermediate": False})
                sub += 1
        if w[0] == "extra" and len(w) > 1:
            os.makedirs(os.path.dirname(os.path.join(tmp, w[1])), exist_ok=True)
            with open(os.path.join(tmp, w[1]), "wb") as f:
                f.write(body)
            products.append({"file": w[1], "asset_type": "graph", "sub_id": sub, "dependencies": [],
                             "path_dependencies": [], "dependencies_handled": True, "intermediate": False})
            sub += 1
        if w[0] == "inter" and len(w) > 2 and w[1] == NAME:
            with open(os.path.join(tmp, w[2]), "wb") as f:
                f.write(b"made from " + src.encode() + b"\n" + body)
            products.append({"file": w[2], "asset_type": "intermediate", "sub_id": sub, "dependencies": [],
                             "path_dependencies": [], "dependencies_handled": True, "intermediate": True})
            sub += 1
    send({"type": "process_job", "result": "success", "products": products, "sources_to_reprocess": reprocess})


def main():
    while True:
        req = read_frame()
        if req is None:
            return 0
        t = req.get("type")
        if t == "describe":
            send({"type": "describe", "name": NAME, "uuid": UUID, "version": os.environ.get("KILN_TEST_GRAPH_VERSION", "1"),
                  "analysis_fingerprint": "1", "patterns": PATTERNS})
        elif t == "create_jobs":
            create_jobs(req)
        elif t == "process_job":
            process_job(req)
        elif t == "shutdown":
            return 0


if __name__ == "__main__":
    sys.exit(main())
