"""run(): the protocol loop, in a real builder process (the fixture
builder) and in-process on byte streams."""
import io
import os
import textwrap

import pytest

import helpers
import kiln_builder as kb
from helpers import FIXTURE, frame, logs, process_job_req, replies, run_builder, split_frames
from kiln_builder import _runner


@pytest.fixture
def project(tmp_path):
    watch = tmp_path / "Assets"
    temp = tmp_path / "tmp"
    watch.mkdir()
    temp.mkdir()
    return watch, temp


def put(watch, name, text="data\n"):
    p = watch / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return name


def test_describe_from_the_registered_descriptor():
    rc, frames, err = run_builder(FIXTURE, [{"type": "describe"}], args=["fx"],
                                  env={"KILN_FIXTURE_VERSION": "7", "KILN_FIXTURE_AFP": "z"})
    assert rc == 0, err
    assert frames == [{"type": "describe", "name": "fx", "uuid": str(kb.Uuid_CreateName("kiln-test-builder:fx")),
                       "version": "7", "analysis_fingerprint": "z",
                       "patterns": ["*.pyf", r"re:^special/.*\.dat$"]}]


def test_create_jobs_and_process_job(project):
    watch, temp = project
    src = put(watch, "Sub/A.pyf", "hello\n")
    rc, frames, err = run_builder(FIXTURE, [
        helpers.create_jobs_req(src, str(watch), ("pc", "linux")),
        process_job_req(src, str(watch), str(temp), "pc",
                        {"1": kb.Uuid_CreateName(src.lower()).ToString(), "mode": "copy"}),
        {"type": "shutdown"},
    ])
    assert rc == 0, err
    assert logs(frames) == []
    cj, pj = replies(frames)
    assert cj["result"] == "success"
    assert [(j["job_key"], j["platform"]) for j in cj["jobs"]] == [("pycopy", "pc"), ("pycopy", "linux")]
    assert cj["jobs"][0]["params"] == {"1": kb.Uuid_CreateName("sub/a.pyf").ToString(), "mode": "copy"}
    assert pj["result"] == "success"
    assert pj["products"][0]["file"] == "Sub/A.pyf" and pj["products"][0]["dependencies_handled"] is True
    assert (temp / "Sub" / "A.pyf").read_text() == "hello\n"


def test_an_exception_in_process_job_is_a_crash_with_its_traceback(project):
    watch, temp = project
    src = put(watch, "raise_me.pyf")
    ok = put(watch, "ok.pyf")
    rc, frames, err = run_builder(FIXTURE, [process_job_req(src, str(watch), str(temp)),
                                            process_job_req(ok, str(watch), str(temp))])
    assert rc == 0, err
    errors = logs(frames, "error")
    assert errors[0]["message"] == "OnProcessJobRequest raised ValueError: boom from raise_me.pyf"
    assert errors[0]["context"] == {"callback": "OnProcessJobRequest", "source": "raise_me.pyf"}
    text = [e["message"] for e in errors]
    assert "Traceback (most recent call last):" in text
    assert any("fixture_builder.py" in t and "on_process_job" in t for t in text)
    assert text[-1] == "ValueError: boom from raise_me.pyf"
    assert all("\n" not in t for t in text)  # one traceback line a frame
    first, second = replies(frames)
    assert first == {"type": "process_job", "result": "crashed", "products": [], "sources_to_reprocess": []}
    # The builder keeps serving after a crash in a callback.
    assert second["result"] == "success"


def test_an_exception_in_create_jobs_fails_it_with_its_traceback(project):
    watch, _ = project
    src = put(watch, "cjraise.pyf")
    rc, frames, err = run_builder(FIXTURE, [helpers.create_jobs_req(src, str(watch))])
    assert rc == 0, err
    assert replies(frames) == [{"type": "create_jobs", "result": "failed", "jobs": [], "source_dependencies": []}]
    msgs = [f["message"] for f in logs(frames, "error")]
    assert msgs[0] == "OnCreateJobsRequest raised KeyError: 'no such key in cjraise.pyf'"
    assert "Traceback (most recent call last):" in msgs


def test_a_reply_that_cannot_be_sent_is_a_crash(project):
    watch, temp = project
    src = put(watch, "badsub.pyf")
    rc, frames, err = run_builder(FIXTURE, [process_job_req(src, str(watch), str(temp))])
    assert rc == 0, err
    assert replies(frames)[0]["result"] == "crashed"
    assert any("productSubID = -1" in f["message"] for f in logs(frames, "error"))


def test_none_from_a_callback_fails_the_job(project):
    watch, temp = project
    src = put(watch, "none.pyf")
    rc, frames, err = run_builder(FIXTURE, [process_job_req(src, str(watch), str(temp))])
    assert rc == 0, err
    assert replies(frames)[0]["result"] == "failed"
    assert logs(frames, "error")[0]["message"] == "OnProcessJobRequest returned None instead of a response"


def test_print_goes_to_stderr_not_the_protocol(project):
    watch, temp = project
    src = put(watch, "print.pyf")
    rc, frames, err = run_builder(FIXTURE, [process_job_req(src, str(watch), str(temp))])
    assert rc == 0, err
    # split_frames in run_builder already proved stdout holds only frames.
    assert [f["type"] for f in frames] == ["process_job"]
    assert "printed by the builder\n" in err and "written to sys.stdout\n" in err
    assert "written to sys.__stdout__\n" in err


def test_child_processes_cannot_touch_the_protocol(project):
    watch, temp = project
    src = put(watch, "child.pyf")
    ok = put(watch, "after.pyf")
    # The child's `cat` would eat the second request if it could read
    # the protocol's stdin.
    rc, frames, err = run_builder(FIXTURE, [process_job_req(src, str(watch), str(temp)),
                                            process_job_req(ok, str(watch), str(temp))])
    assert rc == 0, err
    assert [f["result"] for f in replies(frames)] == ["success", "success"]
    assert "child says hi\nchild read eof\n" in err


def test_warning_sends_a_log_frame_with_context(project):
    watch, temp = project
    src = put(watch, "warn.pyf")
    rc, frames, err = run_builder(FIXTURE, [process_job_req(src, str(watch), str(temp))])
    assert rc == 0, err
    assert frames[0] == {"type": "log", "level": "warning", "message": "this is a warning from warn.pyf",
                         "context": {"file": "warn.pyf"}}
    assert frames[1]["result"] == "success"


def test_absolute_product_paths_inside_the_temp_dir_become_relative(project):
    watch, temp = project
    src = put(watch, "d/abs.pyf")
    rc, frames, err = run_builder(FIXTURE, [process_job_req(src, str(watch), str(temp))])
    assert rc == 0, err
    assert replies(frames)[0]["products"][0]["file"] == "d/abs.pyf"


def test_unknown_requests_get_a_failed_reply_and_an_error():
    rc, frames, err = run_builder(FIXTURE, [{"type": "frobnicate"}, {"type": "describe"}])
    assert rc == 0, err
    assert frames[0] == {"type": "log", "level": "error", "message": "unknown request type 'frobnicate'",
                         "context": {}}
    assert frames[1] == {"type": "frobnicate", "result": "failed"}
    assert frames[2]["type"] == "describe"


def test_undecodable_requests_get_a_failed_reply():
    rc, frames, err = run_builder(FIXTURE, [{"type": "process_job", "source_file": 5}])
    assert rc == 0, err
    assert frames[0]["level"] == "error"
    assert frames[0]["message"] == "process_job request cannot be decoded: source_file: expected str, got int"
    assert frames[1]["result"] == "failed"


def test_shutdown_and_end_of_input_exit_0_and_call_on_shutdown(tmp_path):
    calls = tmp_path / "calls"
    rc, frames, err = run_builder(FIXTURE, [{"type": "shutdown"}, {"type": "describe"}],
                                  env={"KILN_TEST_CALL_LOG": str(calls)})
    assert rc == 0 and frames == [], err  # nothing is read after shutdown
    assert calls.read_text().split()[1:] == ["shutdown", "-"]
    rc, frames, err = run_builder(FIXTURE, [], raw=b"")
    assert rc == 0 and frames == [], err


@pytest.mark.parametrize("raw", [b"\x00\x00\x00\x05hello world", b"\xff\xff\xff\xff", b"\x00\x00"])
def test_garbage_on_stdin_exits_1(raw):
    rc, frames, err = run_builder(FIXTURE, [], raw=raw)
    assert rc == 1
    assert frames == []
    assert "E: pyfixture: broken request:" in err


def test_a_script_that_registers_nothing_exits_2(tmp_path):
    script = tmp_path / "empty.py"
    script.write_text("import sys, kiln_builder\nsys.exit(kiln_builder.run())\n")
    rc, frames, err = run_builder(str(script), [{"type": "describe"}])
    assert rc == 2 and frames == []
    assert "E: kiln_builder.run(): no builder is registered" in err


def test_register_helper_and_plain_string_patterns(tmp_path):
    script = tmp_path / "simple.py"
    script.write_text(textwrap.dedent("""\
        import sys
        import kiln_builder as kb

        desc = kb.BuilderDescriptor(name="simple", busId="{0A3D2183-5C1D-501E-AD66-ABFE245C8FC7}",
                                    version=2, patterns=["*.s", "re:^a/"])

        def cj(args):
            r = kb.CreateJobsResponse()
            r.result = kb.CreateJobsResponse.ResultSuccess
            return r

        def pj(args):
            return kb.ProcessJobResponse()

        kb.register(desc, cj, pj)
        sys.exit(kb.run())
        """))
    rc, frames, err = run_builder(str(script), [{"type": "describe"}])
    assert rc == 0, err
    assert frames[0]["uuid"] == "0a3d2183-5c1d-501e-ad66-abfe245c8fc7"
    assert frames[0]["version"] == "2" and frames[0]["patterns"] == ["*.s", "re:^a/"]


# ---- in-process, on byte streams ----

@pytest.fixture
def registry():
    _runner._reset_registry()
    yield
    _runner._reset_registry()


def serve(requests):
    inp = io.BytesIO(b"".join(frame(r) for r in requests))
    out = io.BytesIO()
    rc = kb.run(stdin=inp, stdout=out)
    return rc, split_frames(out.getvalue())


def test_log_helpers_outside_and_inside_run(registry, capsys):
    kb.warning("outside", file="x")
    kb.error("also outside")
    kb.info("plain")
    err = capsys.readouterr().err
    assert err == "W: outside\nE: also outside\nplain\n"

    def pj(args):
        kb.log("inside", "warning", {"n": 1})
        kb.error("bad thing", where="here")
        print("to stderr")
        return None

    d = kb.AssetBuilderDesc("inproc", kb.Uuid_CreateName("inproc"), 1, ["*.x"])
    kb.register(d, lambda args: None, pj)
    rc, frames = serve([process_job_req("a.x", "/w", "/t")])
    assert rc == 0
    assert frames[0] == {"type": "log", "level": "warning", "message": "inside", "context": {"n": "1"}}
    assert frames[1] == {"type": "log", "level": "error", "message": "bad thing", "context": {"where": "here"}}
    assert "to stderr" in capsys.readouterr().err
    with pytest.raises(ValueError, match="log level"):
        kb.log("x", "loud")


def test_run_restores_sys_stdout(registry):
    import sys
    before = sys.stdout
    d = kb.AssetBuilderDesc("inproc", kb.Uuid_CreateName("inproc"), 1, ["*.x"])
    kb.register(d, lambda args: None, lambda args: None)
    assert serve([{"type": "describe"}])[0] == 0
    assert sys.stdout is before


def test_two_registered_builders_need_an_explicit_choice(registry):
    a = kb.AssetBuilderDesc("a", kb.Uuid_CreateName("a"), 1, ["*.a"])
    b = kb.AssetBuilderDesc("b", kb.Uuid_CreateName("b"), 1, ["*.b"])
    kb.register(a, lambda args: None, lambda args: None)
    kb.register(b, lambda args: None, lambda args: None)
    assert kb.run(stdin=io.BytesIO(), stdout=io.BytesIO()) == 2
    out = io.BytesIO()
    assert kb.run(b, stdin=io.BytesIO(frame({"type": "describe"})), stdout=out) == 0
    assert split_frames(out.getvalue())[0]["name"] == "b"


def test_registration_checks_the_descriptor(registry):
    bad = kb.AssetBuilderDesc("", kb.Uuid_CreateName("x"))
    outcome = kb.PythonAssetBuilderRequestBus(kb.Broadcast, "RegisterAssetBuilder", bad)
    assert not outcome.IsSuccess() and "name" in outcome.GetError()
    bad = kb.AssetBuilderDesc("x", "not-a-uuid")
    assert "busId" in kb.PythonAssetBuilderRequestBus(kb.Broadcast, "RegisterAssetBuilder", bad).GetError()
    assert not kb.PythonAssetBuilderRequestBus(kb.Broadcast, "NoSuchEvent").IsSuccess()
    assert os.path.isdir(kb.PythonAssetBuilderRequestBus(kb.Broadcast, "GetExecutableFolder").GetValue())
    h = kb.PythonBuilderNotificationBusHandler()
    with pytest.raises(ValueError, match="unknown callback"):
        h.add_callback("OnProcessJob", lambda args: None)


def test_printed_lines_reach_stderr_before_the_reply(project):
    # kiln files stderr lines under the job running when they arrive, so a
    # line still in a buffer when the reply goes out would land in the
    # next job's log.
    import struct
    import subprocess
    import time
    watch, temp = project
    src = put(watch, "print.pyf")
    env = dict(os.environ, PYTHONPATH=helpers.SDK_DIR, PYTHONDONTWRITEBYTECODE="1")
    env.pop("KILN_TEST_CALL_LOG", None)
    env.pop("PYTHONUNBUFFERED", None)  # kiln does not pass it to builders either
    p = subprocess.Popen([helpers.PY, FIXTURE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    try:
        p.stdin.write(frame(process_job_req(src, str(watch), str(temp))))
        p.stdin.flush()
        n = struct.unpack(">I", p.stdout.read(4))[0]
        assert split_frames(struct.pack(">I", n) + p.stdout.read(n))[0]["result"] == "success"
        os.set_blocking(p.stderr.fileno(), False)
        time.sleep(0.05)  # the bytes are in the pipe already; this only covers scheduling
        err = (p.stderr.read() or b"").decode()
        assert "printed by the builder\n" in err
        assert "written to sys.stdout\n" in err
        assert "written to sys.__stdout__\n" in err
    finally:
        p.stdin.close()
        p.wait(timeout=10)
        p.stdout.close()
        p.stderr.close()
    assert p.returncode == 0
