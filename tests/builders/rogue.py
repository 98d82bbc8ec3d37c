#!/usr/bin/python3
"""A builder written against SPEC section 5 alone (no kiln SDK), for the
integration tests. It copies sources like kiln-copy, and misbehaves on
purpose when a source's file name asks for it:

  *segv*      process_job: the process kills itself with SIGSEGV
  *abort*     process_job: SIGABRT
  *exit3*     process_job: exits with code 3 before replying
  *noreply*   process_job: exits 0 without replying
  *hang*      process_job: sleeps for an hour (the timeout must kill it)
  *slow*      process_job: sleeps 3 s, then works
  *garbage*   process_job: writes bytes that are no frame
  *huge*      process_job: a 4 GiB length prefix
  *wrongtype* process_job: "products" is a string
  *escape*    process_job: a product path that leaves the temp dir
  *absolute*  process_job: an absolute product path
  *missing*   process_job: lists a product that does not exist
  *noproduct* process_job: success with no products
  *fail*      process_job: result "failed"
  *warn*      process_job: logs a warning (frame) and works
  *error*     process_job: logs an error on stderr ("E: ") and works
  *cjcrash*   create_jobs: SIGSEGV

Every request is appended to $KILN_TEST_CALL_LOG (if set) as one line
"<pid> <type> <source_file>", so tests can prove that no builder was asked
anything. argv[1], if given, overrides the builder name and uuid seed.
"""
import os
import signal
import struct
import sys
import time
import uuid

import msgpack

NAME = sys.argv[1] if len(sys.argv) > 1 else "rogue"
UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kiln-test-builder:" + NAME))
VERSION = os.environ.get("KILN_TEST_ROGUE_VERSION", "1")
PATTERNS = ["*.rog", "*.txt"]

inp = sys.stdin.buffer
out = sys.stdout.buffer


def read_frame():
    hdr = inp.read(4)
    if len(hdr) < 4:
        return None
    (n,) = struct.unpack(">I", hdr)
    data = inp.read(n)
    if len(data) < n:
        return None
    return msgpack.unpackb(data, raw=False)


def send(obj):
    data = msgpack.packb(obj, use_bin_type=True)
    out.write(struct.pack(">I", len(data)) + data)
    out.flush()


def note(kind, src):
    path = os.environ.get("KILN_TEST_CALL_LOG")
    if path:
        with open(path, "a") as f:
            f.write("%d %s %s\n" % (os.getpid(), kind, src))


def create_jobs(req):
    src = req["source_file"]
    note("create_jobs", src)
    if "cjcrash" in src:
        os.kill(os.getpid(), signal.SIGSEGV)
    jobs = [{"job_key": "rogue", "platform": p, "critical": False, "priority": 0,
             "params": {"mode": "copy"}} for p in req["platforms"]]
    send({"type": "create_jobs", "result": "success", "jobs": jobs, "source_dependencies": []})


def process_job(req):
    src = req["source_file"]
    note("process_job", src)
    name = os.path.basename(src)
    tmp = req["temp_dir"]
    sys.stderr.write("processing %s\n" % src)
    sys.stderr.flush()
    if "segv" in name:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "abort" in name:
        os.abort()
    if "exit3" in name:
        os._exit(3)
    if "noreply" in name:
        os._exit(0)
    if "hang" in name:
        time.sleep(3600)
    if "slow" in name:
        time.sleep(3)
    if "garbage" in name:
        out.write(b"\x00\x00\x00\x05hello world, this is not msgpack")
        out.flush()
        time.sleep(30)
    if "huge" in name:
        out.write(b"\xff\xff\xff\xff")
        out.flush()
        time.sleep(30)
    if "wrongtype" in name:
        send({"type": "process_job", "result": "success", "products": "oops"})
        return
    if "warn" in name:
        send({"type": "log", "level": "warning", "message": "this is a warning", "context": {"file": src}})
    if "error" in name:
        sys.stderr.write("E: this is an error on stderr\n")
        sys.stderr.flush()
    if "fail" in name:
        send({"type": "process_job", "result": "failed", "products": []})
        return
    if "noproduct" in name:
        send({"type": "process_job", "result": "success", "products": []})
        return
    product = src
    if "escape" in name:
        product = "../../escaped.bin"
    elif "absolute" in name:
        product = "/tmp/absolute.bin"
    elif "missing" in name:
        product = "not-there.bin"
    else:
        dst = os.path.join(tmp, src)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(req["full_path"], "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
    send({"type": "process_job", "result": "success",
          "products": [{"file": product, "asset_type": "rogue", "sub_id": 0, "dependencies": [],
                        "path_dependencies": [], "dependencies_handled": True, "intermediate": False}],
          "sources_to_reprocess": []})


def main():
    while True:
        req = read_frame()
        if req is None:
            return 0
        t = req.get("type")
        if t == "describe":
            note("describe", "-")
            send({"type": "describe", "name": NAME, "uuid": UUID, "version": VERSION,
                  "analysis_fingerprint": "1", "patterns": PATTERNS})
        elif t == "create_jobs":
            create_jobs(req)
        elif t == "process_job":
            process_job(req)
        elif t == "shutdown":
            return 0


if __name__ == "__main__":
    sys.exit(main())
