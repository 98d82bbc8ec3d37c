"""Registration (O3DE's PythonAssetBuilderRequestBus and
PythonBuilderNotificationBusHandler), log helpers, and run(): the protocol
loop that serves describe, create_jobs and process_job on stdin/stdout.
"""
import os
import sys
import threading
import traceback

from ._codec import (crashed_reply, decode_create_jobs, decode_process_job, encode_create_jobs, encode_describe,
                     encode_process_job, failed_reply)
from ._types import AssetBuilderDesc, uuid_text
from ._wire import ProtocolError, read_frame, write_frame

# azlmbr.bus: how a bus call is addressed. Only broadcasts make sense here.
Broadcast = "Broadcast"
Event = "Event"

_registered = []  # AssetBuilderDesc objects, in registration order
_handlers = {}  # canonical busId text -> PythonBuilderNotificationBusHandler
_session = None  # the running protocol session, for the log helpers


class Outcome:
    """What a bus call returns, like AZ::Outcome."""

    def __init__(self, success=True, value=None, error=""):
        self._success = success
        self._value = value
        self._error = error

    def IsSuccess(self):
        return self._success

    def GetValue(self):
        return self._value

    def GetError(self):
        return self._error

    def __bool__(self):
        return self._success


def PythonAssetBuilderRequestBus(bus_type, event, *args):
    """O3DE's request bus: 'RegisterAssetBuilder' with an AssetBuilderDesc,
    or 'GetExecutableFolder'."""
    del bus_type
    if event == "RegisterAssetBuilder":
        if len(args) != 1:
            return Outcome(False, error="RegisterAssetBuilder takes one AssetBuilderDesc")
        desc = args[0]
        if not isinstance(desc, AssetBuilderDesc):
            return Outcome(False, error="RegisterAssetBuilder takes an AssetBuilderDesc, not %s" % type(desc).__name__)
        try:
            desc.check()
        except (TypeError, ValueError) as exc:
            return Outcome(False, error=str(exc))
        _registered.append(desc)
        return Outcome(True, True)
    if event == "GetExecutableFolder":
        return Outcome(True, os.path.dirname(os.path.abspath(sys.argv[0] if sys.argv and sys.argv[0] else ".")))
    return Outcome(False, error="PythonAssetBuilderRequestBus has no event %r" % (event,))


class PythonBuilderNotificationBusHandler:
    """Connects callbacks to a builder's busId, as in O3DE:

        handler = PythonBuilderNotificationBusHandler()
        handler.connect(busId)
        handler.add_callback('OnCreateJobsRequest', on_create_jobs)
        handler.add_callback('OnProcessJobRequest', on_process_job)

    Each callback gets a tuple whose first item is the request. OnShutdown
    runs when kiln shuts the builder down. OnCancel is accepted and never
    called: kiln cancels a job by stopping the builder process."""

    CALLBACKS = ("OnCreateJobsRequest", "OnProcessJobRequest", "OnShutdown", "OnCancel")

    def __init__(self):
        self.busId = None
        self.callbacks = {}

    def connect(self, busId):
        self.busId = uuid_text(busId, "busId")
        _handlers[self.busId] = self
        return True

    def disconnect(self):
        if self.busId is not None and _handlers.get(self.busId) is self:
            del _handlers[self.busId]
        self.busId = None

    def add_callback(self, name, fn):
        if name not in self.CALLBACKS:
            raise ValueError("unknown callback %r (expected one of %s)" % (name, ", ".join(self.CALLBACKS)))
        if not callable(fn):
            raise TypeError("the %s callback is not callable" % name)
        self.callbacks[name] = fn


def register(descriptor, on_create_jobs, on_process_job, on_shutdown=None):
    """Registers descriptor and connects the callbacks in one call; returns
    the handler. Raises ValueError when the descriptor is not usable."""
    outcome = PythonAssetBuilderRequestBus(Broadcast, "RegisterAssetBuilder", descriptor)
    if not outcome.IsSuccess():
        raise ValueError(outcome.GetError())
    handler = PythonBuilderNotificationBusHandler()
    handler.connect(descriptor.busId)
    handler.add_callback("OnCreateJobsRequest", on_create_jobs)
    handler.add_callback("OnProcessJobRequest", on_process_job)
    if on_shutdown is not None:
        handler.add_callback("OnShutdown", on_shutdown)
    return handler


def _reset_registry():
    """Forgets every registration (for tests that register several times)."""
    _registered.clear()
    _handlers.clear()


# ---- logging ----

_LEVELS = {"info": "info", "warning": "warning", "error": "error", "warn": "warning"}
_PREFIX = {"info": "", "warning": "W: ", "error": "E: "}


def log(message, level="info", context=None):
    """Sends one log line to the job log: a log frame inside run(), else a
    stderr line with the "W: " or "E: " prefix of its level. context is a
    dict; its keys and values are sent as strings."""
    lvl = _LEVELS.get(str(level).lower())
    if lvl is None:
        raise ValueError("log level must be info, warning or error, not %r" % (level,))
    ctx = {str(k): str(v) for k, v in (context or {}).items()}
    session = _session
    if session is not None:
        session.send({"type": "log", "level": lvl, "message": str(message), "context": ctx})
    else:
        sys.stderr.write("%s%s\n" % (_PREFIX[lvl], message))
        sys.stderr.flush()


def info(message, context=None, **kw):
    log(message, "info", dict(context or {}, **kw))


def warning(message, context=None, **kw):
    """Logs a warning: the job ends completed_warning (if nothing worse)."""
    log(message, "warning", dict(context or {}, **kw))


def error(message, context=None, **kw):
    """Logs an error: the job ends completed_error, or failed if the
    builder also returns a failure."""
    log(message, "error", dict(context or {}, **kw))


# ---- the protocol loop ----


class _Session:
    """One run(): the private protocol streams and the builder served."""

    def __init__(self, inp, out, desc, handler):
        self.inp = inp
        self.out = out
        self.desc = desc
        self.handler = handler
        # Builders may log from their own threads; frames must not interleave.
        self.lock = threading.Lock()

    def send(self, obj):
        with self.lock:
            write_frame(self.out, obj)

    def error(self, message, context=None):
        self.send({"type": "log", "level": "error", "message": message, "context": context or {}})

    def log_exception(self, callback, source):
        """Sends the exception being handled as error frames: a summary,
        then the traceback one line a frame, so it reads in the job log
        as it would on a terminal."""
        exc_type, exc, tb = sys.exc_info()
        ctx = {"callback": callback, "source": source}
        self.error("%s raised %s: %s" % (callback, exc_type.__name__, exc), ctx)
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        for line in text.rstrip("\n").split("\n"):
            self.error(line, ctx)

    def reply(self, obj):
        # stderr lines of this request should reach the host before its
        # reply does, so that they land in the same job log. sys.__stdout__
        # writes to fd 1, which is stderr now, through its own buffer.
        for stream in (sys.__stdout__, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        self.send(obj)

    def serve(self, kind, m):
        if kind == "create_jobs":
            decode, encode, cb_name, broken = decode_create_jobs, encode_create_jobs, "OnCreateJobsRequest", None
        else:
            decode, encode, cb_name, broken = decode_process_job, encode_process_job, "OnProcessJobRequest", True
        try:
            req = decode(m)
        except ProtocolError as exc:
            self.error("%s request cannot be decoded: %s" % (kind, exc))
            self.reply(failed_reply(kind))
            return
        cb = self.handler.callbacks.get(cb_name)
        if cb is None:
            self.error("builder %s has no %s callback" % (self.desc.name, cb_name))
            self.reply(failed_reply(kind))
            return
        try:
            resp = cb((req,))
            if resp is None:
                self.error("%s returned None instead of a response" % cb_name, {"source": req.sourceFile})
                reply = failed_reply(kind)
            elif kind == "process_job":
                reply = encode(resp, req.tempDirPath)
            else:
                reply = encode(resp)
        except Exception:  # a bug in the builder: report it, keep serving
            self.log_exception(cb_name, req.sourceFile)
            # process_job has a result for this; create_jobs only "failed".
            reply = crashed_reply() if broken else failed_reply(kind)
        self.reply(reply)

    def shutdown(self):
        cb = self.handler.callbacks.get("OnShutdown")
        if cb is None:
            return
        try:
            cb(())
        except Exception:
            sys.stderr.write("E: OnShutdown raised:\n" + traceback.format_exc())

    def loop(self):
        """Serves requests until shutdown or end of input. Returns the exit
        code: 0, or 1 after a protocol error or a lost stdout."""
        while True:
            try:
                m = read_frame(self.inp)
            except ProtocolError as exc:
                sys.stderr.write("E: %s: broken request: %s\n" % (self.desc.name, exc))
                return 1
            if m is None or m["type"] == "shutdown":
                self.shutdown()
                return 0
            kind = m["type"]
            if kind == "describe":
                try:
                    reply = encode_describe(self.desc)
                except (TypeError, ValueError) as exc:
                    self.error("the builder descriptor cannot be sent: %s" % exc)
                    reply = failed_reply(kind)
                self.reply(reply)
            elif kind in ("create_jobs", "process_job"):
                self.serve(kind, m)
            else:
                self.error("unknown request type %r" % kind)
                self.reply(failed_reply(kind))


def _pick(descriptor, handler):
    if descriptor is None:
        if not _registered:
            raise ValueError("no builder is registered (PythonAssetBuilderRequestBus 'RegisterAssetBuilder')")
        if len(_registered) > 1:
            raise ValueError("%d builders are registered and a builder process serves one: pass run() the "
                             "AssetBuilderDesc to serve" % len(_registered))
        descriptor = _registered[0]
    if not isinstance(descriptor, AssetBuilderDesc):
        raise TypeError("run() takes an AssetBuilderDesc, not %s" % type(descriptor).__name__)
    descriptor.check()
    if handler is None:
        handler = _handlers.get(uuid_text(descriptor.busId, "busId"))
        if handler is None:
            raise ValueError("no PythonBuilderNotificationBusHandler is connected to busId %s"
                             % uuid_text(descriptor.busId, "busId"))
    return descriptor, handler


def run(descriptor=None, handler=None, stdin=None, stdout=None):
    """Serves the builder protocol until kiln says shutdown or closes stdin,
    and returns the exit code for sys.exit().

    descriptor and handler default to the one builder registered through
    PythonAssetBuilderRequestBus and connected with a
    PythonBuilderNotificationBusHandler.

    stdout belongs to the protocol: run() keeps a private copy of the
    process's stdout for frames, points file descriptor 1 and sys.stdout at
    stderr (so print(), and tools the builder starts, write log lines
    instead of breaking a frame), and gives fd 0 /dev/null so a child
    process cannot eat requests. stdin and stdout (binary file objects)
    replace the process's streams, for tests; the descriptors are then left
    alone."""
    global _session
    try:
        desc, handler = _pick(descriptor, handler)
    except (TypeError, ValueError) as exc:
        sys.stderr.write("E: kiln_builder.run(): %s\n" % exc)
        sys.stderr.flush()
        return 2

    saved_stdout, saved_stdin = sys.stdout, sys.stdin
    own = stdin is None and stdout is None
    if own:
        try:
            sys.stdout.flush()
        except (OSError, ValueError, AttributeError):
            pass
        in_fd = os.dup(0)
        out_fd = os.dup(1)
        os.dup2(2, 1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        stdin = os.fdopen(in_fd, "rb")
        stdout = os.fdopen(out_fd, "wb")
        sys.stdin = open(os.devnull, "r")
    sys.stdout = sys.stderr
    session = _Session(stdin, stdout, desc, handler)
    _session = session
    try:
        return session.loop()
    except OSError as exc:
        # Nobody reads our replies any more (the host went away).
        sys.stderr.write("E: %s: protocol stream lost: %s\n" % (desc.name, exc))
        return 1
    finally:
        _session = None
        sys.stdout = saved_stdout
        if own:
            sys.stdin.close()
            sys.stdin = saved_stdin
            for f in (stdin, stdout):
                try:
                    f.close()
                except OSError:
                    pass
