"""Shared helpers for the Python SDK tests: frames, and running a builder
process on a list of requests."""
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import kiln_builder  # noqa: F401
except ImportError:
    # Run outside ctest: use the SDK from the source tree.
    sys.path.insert(0, os.path.join(HERE, "..", "..", "builders", "sdk", "python"))
    import kiln_builder  # noqa: F401

import msgpack

SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(kiln_builder.__file__)))
FIXTURE = os.path.join(HERE, "fixture_builder.py")
PY = "/usr/bin/python3"


def frame(obj):
    data = msgpack.packb(obj, use_bin_type=True)
    return struct.pack(">I", len(data)) + data


def split_frames(data):
    """Decodes a byte string of frames; fails the test on a cut frame."""
    out = []
    while data:
        assert len(data) >= 4, "cut frame header: %r" % data
        (n,) = struct.unpack(">I", data[:4])
        assert len(data) >= 4 + n, "cut frame"
        out.append(msgpack.unpackb(data[4:4 + n], raw=False))
        data = data[4 + n:]
    return out


def run_builder(script, requests, args=(), env=None, raw=None, timeout=30):
    """Runs script with the requests as frames on stdin (or raw bytes).
    Returns (exit code, decoded frames from stdout, stderr text)."""
    e = dict(os.environ)
    e["PYTHONPATH"] = SDK_DIR
    e["PYTHONDONTWRITEBYTECODE"] = "1"
    e.pop("KILN_TEST_CALL_LOG", None)
    # Builders under kiln run with buffered stdout (the sandbox does not
    # pass this on); test them the same way.
    e.pop("PYTHONUNBUFFERED", None)
    if env:
        e.update(env)
    data = raw if raw is not None else b"".join(frame(r) for r in requests)
    p = subprocess.run([PY, script] + list(args), input=data, capture_output=True, env=e, timeout=timeout)
    return p.returncode, split_frames(p.stdout), p.stderr.decode("utf-8", "replace")


def create_jobs_req(source, watch, platforms=("pc",), builder_uuid=""):
    from kiln_builder import Uuid_CreateName
    return {
        "type": "create_jobs", "source_file": source, "watch_folder": watch,
        "full_path": os.path.join(watch, source), "source_uuid": str(Uuid_CreateName(source.lower())),
        "builder_uuid": builder_uuid, "platforms": list(platforms),
    }


def process_job_req(source, watch, temp_dir, platform="pc", params=None, job_id=1):
    """A process_job request; params default to what the fixture builder's
    create_jobs makes."""
    from kiln_builder import Uuid_CreateName
    if params is None:
        params = {"1": Uuid_CreateName(source.lower()).ToString(), "mode": "copy"}
    return {
        "type": "process_job", "source_file": source, "watch_folder": watch,
        "full_path": os.path.join(watch, source), "builder_uuid": "",
        "job_description": {"job_key": "pycopy", "platform": platform, "critical": False, "priority": 0,
                            "params": dict(params or {})},
        "temp_dir": temp_dir, "platform_info": {"identifier": platform, "tags": ["tools"]},
        "source_file_dependencies": [], "source_uuid": str(Uuid_CreateName(source.lower())), "job_id": job_id,
    }


def logs(frames, level=None):
    return [f for f in frames if f.get("type") == "log" and (level is None or f["level"] == level)]


def replies(frames):
    return [f for f in frames if f.get("type") != "log"]
