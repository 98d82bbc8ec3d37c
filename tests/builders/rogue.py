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
  *nilbomb*   process_job: "products" is an array of 16 million nils (16 MiB)
  *escape*    process_job: a product path that leaves the temp dir
  *absolute*  process_job: a product named by its absolute path
  *missing*   process_job: lists a product that does not exist
  *noproduct* process_job: success with no products
  *fail*      process_job: result "failed"
  *warn*      process_job: logs a warning (frame) and works
  *error*     process_job: logs an error on stderr ("E: ") and works
  *cjcrash*   create_jobs: SIGSEGV
  *endless*   process_job: long stderr lines forever (the timeout must end it)
  *symlink*   process_job: the product is a symbolic link in the temp dir
              that points out of it (at the source file)
  *dupsub*    process_job: two products with the same sub_id
  *fork*      process_job: forks a child that sleeps ("grandchild <pid>" on
              stderr), then exits 0 without replying
  *eatmem*    process_job: allocates and touches twice its address-space
              limit (or $KILN_TEST_EAT_MB MiB when unlimited) in 16 MiB steps
  *net*       process_job: connects to 127.0.0.1:$KILN_TEST_PORT, says how
              it went on stderr ("W: connect: ..."), then works
  *writeout*  process_job: writes <watch_folder>/hacked-<name>.txt and
              $KILN_TEST_OUTSIDE, says how each went ("W: write ..."), then
              works

Every request is appended to $KILN_TEST_CALL_LOG (if set) as one line
"<pid> <type> <source_file>", so tests can prove that no builder was asked
anything; with --note-starts every start too, as "<pid> start -", so tests
can count restarts.

Arguments: the first one that does not start with "--" overrides the
builder name and uuid seed. Flags for whole-builder faults:
  --crash-at=start     SIGSEGV at start, before reading anything
  --crash-at=describe  SIGSEGV when asked to describe itself
  --crash-if=PATH      SIGSEGV at start when PATH exists (so a builder whose
                       describe is cached can be made to crash on every start)
  --note-starts        log every start to $KILN_TEST_CALL_LOG
"""
import os
import resource
import signal
import socket
import struct
import sys
import time
import uuid

import msgpack

POSITIONAL = [a for a in sys.argv[1:] if not a.startswith("--")]
FLAGS = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "") for a in sys.argv[1:] if a.startswith("--"))
NAME = POSITIONAL[0] if POSITIONAL else "rogue"
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


def crash():
    os.kill(os.getpid(), signal.SIGSEGV)


def stderr(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def eat_memory():
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        want = int(os.environ.get("KILN_TEST_EAT_MB", "256"))
    else:
        want = 2 * (soft >> 20)
    hoard = []
    while len(hoard) * 16 < want:
        # bytes(n) touches every page (it is zero-filled by the allocator
        # only when asked; bytearray writes the zeros itself).
        hoard.append(bytearray(b"\x5a" * (16 << 20)))
    stderr("ate %d MiB" % (len(hoard) * 16))


def try_connect():
    port = int(os.environ.get("KILN_TEST_PORT", "9"))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            stderr("W: connect: connected")
    except OSError as e:
        stderr("W: connect: %s" % e)


def try_write(path):
    try:
        with open(path, "w") as f:
            f.write("escaped\n")
        stderr("W: write %s: written" % path)
    except OSError as e:
        stderr("W: write %s: %s" % (path, e))


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
    if "nilbomb" in name:
        # 16 MiB of one-byte nils as "products": a frame under the 64 MiB
        # limit that a decoder allocating per object would blow up.
        n = 16 << 20
        body = (b"\x83" + msgpack.packb("type") + msgpack.packb("process_job") + msgpack.packb("result")
                + msgpack.packb("success") + msgpack.packb("products") + b"\xdd" + struct.pack(">I", n)
                + b"\xc0" * n)
        out.write(struct.pack(">I", len(body)) + body)
        out.flush()
        return
    if "endless" in name:
        pad = "." * 1000
        i = 0
        while True:
            sys.stderr.write("endless line %d %s\n" % (i, pad))
            i += 1
    if "fork" in name:
        pid = os.fork()
        if pid == 0:
            time.sleep(3600)
            os._exit(0)
        stderr("grandchild %d" % pid)
        os._exit(0)
    if "eatmem" in name:
        eat_memory()
    if "net" in name:
        try_connect()
    if "writeout" in name:
        try_write(os.path.join(req["watch_folder"], "hacked-%s.txt" % os.path.splitext(name)[0]))
        outside = os.environ.get("KILN_TEST_OUTSIDE")
        if outside:
            try_write(outside)
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
    extra = []
    if "symlink" in name:
        product = "link.bin"
        os.symlink(req["full_path"], os.path.join(tmp, product))
    elif "dupsub" in name:
        for f in ("one.bin", "two.bin"):
            with open(os.path.join(tmp, f), "wb") as g:
                g.write(f.encode())
        product = "one.bin"
        extra = [{"file": "two.bin", "asset_type": "rogue", "sub_id": 0, "dependencies": [],
                  "path_dependencies": [], "dependencies_handled": True, "intermediate": False}]
    elif "escape" in name:
        product = "../../escaped.bin"
    elif "absolute" in name:
        # A product that exists, named by its absolute path (inside the
        # temp dir even): SPEC 5 rejects an absolute path all the same.
        product = os.path.join(tmp, "absolute.bin")
        with open(product, "wb") as g:
            g.write(b"absolute")
    elif "missing" in name:
        product = "not-there.bin"
    else:
        dst = os.path.join(tmp, src)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(req["full_path"], "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
    send({"type": "process_job", "result": "success",
          "products": [{"file": product, "asset_type": "rogue", "sub_id": 0, "dependencies": [],
                        "path_dependencies": [], "dependencies_handled": True, "intermediate": False}] + extra,
          "sources_to_reprocess": []})


def main():
    if "note-starts" in FLAGS:
        note("start", "-")
    if FLAGS.get("crash-at") == "start":
        crash()
    if FLAGS.get("crash-if") and os.path.exists(FLAGS["crash-if"]):
        crash()
    while True:
        req = read_frame()
        if req is None:
            return 0
        t = req.get("type")
        if t == "describe":
            note("describe", "-")
            if FLAGS.get("crash-at") == "describe":
                crash()
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
