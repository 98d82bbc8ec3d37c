"""kiln_client: a client of kiln's control API (supervisor/control/control-api.md) in pure
Python, with msgpack as its only dependency (Debian: python3-msgpack).

kiln serves the API with NNG. Python bindings for NNG are not packaged
everywhere, so this module speaks NNG's wire protocol (the scalability
protocols, "SP") itself, which is small:

- A connection starts with an 8-byte header each way: 0x00 'S' 'P' 0x00, the
  sender's 16-bit protocol number (big-endian), and two zero bytes. REQ is
  0x30, REP 0x31, PUB 0x20, SUB 0x21.
- Each message is then framed: over ipc (a unix socket) one byte 0x01 and
  a 64-bit big-endian length; over TCP just the 64-bit length.
- A REQ message starts with a 4-byte big-endian request id with its top bit
  set; the REP side sends it back in front of the reply. A reply whose id is
  not the one waited for is a late answer to an abandoned request and is
  skipped.
- PUB sends every event to every subscriber; SUB filters by prefix on its
  own side, so nothing about subscriptions goes over the wire. kiln's events
  are b"TOPIC " followed by a MessagePack map.

Usage:

    import kiln_client
    with kiln_client.Client("/path/to/project/Cache") as c:
        c.hello("my-editor")
        print(c.call("status")["status"]["ready"])
        reply = c.call("compile", path="textures/a.png", timeout=120)
        with c.subscribe("product") as events:
            for topic, body in events:
                print(topic, body)

Run `python3 kiln_client.py --selftest CACHE_OR_SOCKET` to check a running
supervisor (exit status 0 when every check passed).
"""

import os
import random
import socket
import struct
import sys
import time

import msgpack

__all__ = ["Client", "Subscription", "KilnError", "RequestError", "Timeout", "ConnectionLost",
           "resolve", "DEFAULT"]

PROTO_REQ = 0x30
PROTO_REP = 0x31
PROTO_PUB = 0x20
PROTO_SUB = 0x21

# Replies may be large (every job of a project); this only stops a runaway.
MAX_MESSAGE = 512 << 20
# The supervisor refuses requests over 1 MiB; catch it here with a clear
# message instead.
MAX_REQUEST = 1 << 20


class KilnError(Exception):
    """Base of this module's errors."""


class Timeout(KilnError):
    """Nothing came before the deadline."""


class ConnectionLost(KilnError):
    """The peer closed the connection or broke the protocol."""


class RequestError(KilnError):
    """The supervisor answered {"ok": false, "error": ...}."""

    def __init__(self, reply):
        super().__init__(reply.get("error", "error"))
        self.reply = reply


def resolve(where):
    """(request address, events address) for a cache folder, a socket path,
    or an "ipc://..." or "tcp://HOST:PORT" URL. Addresses are ("ipc", path) or
    ("tcp", (host, port)); the events address is None over TCP."""
    if where.startswith("tcp://"):
        hostport = where[6:]
        host, _, port = hostport.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("not tcp://HOST:PORT: %r" % where)
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return ("tcp", (host, int(port))), None
    if where.startswith("ipc://"):
        where = where[6:]
    elif "://" in where:
        raise ValueError("unsupported address %r (ipc:// or tcp://)" % where)
    if os.path.isdir(where):
        return ("ipc", os.path.join(where, "kiln.sock")), ("ipc", os.path.join(where, "kiln.events"))
    return ("ipc", where), ("ipc", os.path.join(os.path.dirname(where), "kiln.events"))


class _Pipe:
    """One SP connection: the header exchange and message framing."""

    def __init__(self, addr, proto, peer, timeout):
        kind, target = addr
        self.ipc = kind == "ipc"
        self._buf = bytearray()
        if self.ipc:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            infos = socket.getaddrinfo(target[0], target[1], type=socket.SOCK_STREAM)
            self.sock = socket.socket(infos[0][0], socket.SOCK_STREAM)
            target = infos[0][4]
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(target)
            if not self.ipc:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(b"\x00SP\x00" + struct.pack(">HH", proto, 0))
            head = self._read(8, _deadline(timeout))
            if head[:4] != b"\x00SP\x00" or head[6:8] != b"\x00\x00":
                raise ConnectionLost("the peer does not speak NNG's SP protocol")
            got = struct.unpack(">H", head[4:6])[0]
            if got != peer:
                raise ConnectionLost("the peer speaks protocol 0x%x, not 0x%x" % (got, peer))
        except BaseException:
            self.sock.close()
            raise

    def close(self):
        self.sock.close()

    def fileno(self):
        return self.sock.fileno()

    def _fill(self, n, deadline):
        """Reads until n bytes are buffered. On a timeout the bytes read so
        far stay buffered, so that the next call goes on from the same place
        in the stream."""
        while len(self._buf) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout("no answer in time")
                self.sock.settimeout(left)
            else:
                self.sock.settimeout(None)
            try:
                chunk = self.sock.recv(max(65536, min(n - len(self._buf), 1 << 24)))
            except socket.timeout:
                raise Timeout("no answer in time") from None
            except OSError as e:
                raise ConnectionLost(str(e)) from None
            if not chunk:
                raise ConnectionLost("the connection was closed")
            self._buf += chunk

    def _read(self, n, deadline):
        self._fill(n, deadline)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def send(self, payload):
        if self.ipc:
            head = b"\x01" + struct.pack(">Q", len(payload))
        else:
            head = struct.pack(">Q", len(payload))
        self.sock.settimeout(None)
        try:
            self.sock.sendall(head + payload)
        except OSError as e:
            raise ConnectionLost(str(e)) from None

    def recv(self, deadline):
        hlen = 9 if self.ipc else 8
        # Peek the header without consuming it, so that a timeout in the
        # middle of a message leaves the stream in step.
        self._fill(hlen, deadline)
        head = bytes(self._buf[:hlen])
        if self.ipc and head[0] != 1:
            raise ConnectionLost("unknown message type %d" % head[0])
        n = struct.unpack(">Q", head[-8:])[0]
        if n > MAX_MESSAGE:
            raise ConnectionLost("a message of %d bytes is over the limit" % n)
        self._fill(hlen + n, deadline)
        body = bytes(self._buf[hlen:hlen + n])
        del self._buf[:hlen + n]
        return body


# "Use the client's default timeout"; None means "wait for ever".
DEFAULT = object()


def _deadline(timeout):
    return None if timeout is None else time.monotonic() + timeout


def _decode_map(data):
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as e:  # msgpack raises several types
        raise ConnectionLost("not MessagePack: %s" % e) from None
    if not isinstance(obj, dict):
        raise ConnectionLost("a message that is not a map")
    return obj


class Client:
    """A connection to a running supervisor's control API.

    where: a cache folder, the path of kiln.sock, or "tcp://HOST:PORT" (then
    token is the project's control.token). timeout: seconds for connecting
    and the default for requests (None waits for ever)."""

    def __init__(self, where, token=None, timeout=10.0):
        self.where = where
        self.token = token
        self.timeout = timeout
        self._req_addr, self._events_addr = resolve(where)
        self._pipe = _Pipe(self._req_addr, PROTO_REQ, PROTO_REP, timeout)
        self._next_id = random.randrange(1, 1 << 31)

    def close(self):
        if self._pipe:
            self._pipe.close()
            self._pipe = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _new_id(self):
        self._next_id = (self._next_id + 1) & 0x7FFFFFFF
        return self._next_id | 0x80000000

    def send_raw(self, payload, timeout=DEFAULT):
        """Sends payload bytes as one request and returns the reply map. For
        tests of the server's error handling: payload need not be a map.
        timeout: seconds, None for ever, DEFAULT for the client's."""
        if self._pipe is None:
            raise KilnError("the client is closed")
        rid = self._new_id()
        self._pipe.send(struct.pack(">I", rid) + payload)
        deadline = _deadline(self.timeout if timeout is DEFAULT else timeout)
        while True:
            body = self._pipe.recv(deadline)
            if len(body) < 4:
                raise ConnectionLost("a reply without a request id")
            if struct.unpack(">I", body[:4])[0] != rid:
                continue  # the late reply of an abandoned request
            return _decode_map(body[4:])

    def request(self, type_, timeout=DEFAULT, **fields):
        """Sends {"type": type_, **fields} and returns the reply map, whether
        ok is true or false. Fields whose value is None are left out.
        timeout: seconds, None for ever, DEFAULT for the client's."""
        req = {"type": type_}
        req.update({k: v for k, v in fields.items() if v is not None})
        if self.token is not None and "token" not in req:
            req["token"] = self.token
        payload = msgpack.packb(req, use_bin_type=True)
        if len(payload) > MAX_REQUEST:
            raise ValueError("the request is %d bytes; the limit is %d" % (len(payload), MAX_REQUEST))
        return self.send_raw(payload, timeout)

    def call(self, type_, timeout=DEFAULT, **fields):
        """Like request(), but raises RequestError when ok is false."""
        reply = self.request(type_, timeout=timeout, **fields)
        if not reply.get("ok"):
            raise RequestError(reply)
        return reply

    def hello(self, name, pid=None):
        """Registers this client by name; returns its client id."""
        return self.call("hello", name=name, pid=os.getpid() if pid is None else pid)["client_id"]

    def wait_ready(self, timeout=None, poll=0.25):
        """Polls status until ready (no critical job left); returns the
        status document. Raises Timeout."""
        deadline = _deadline(timeout)
        while True:
            st = self.call("status")["status"]
            if st.get("ready"):
                return st
            if deadline is not None and time.monotonic() >= deadline:
                raise Timeout("not ready in time")
            time.sleep(poll)

    def compile(self, path=None, uuid=None, platform=None, timeout_ms=None, timeout=DEFAULT):
        """Escalates an asset and waits until its jobs are done; returns the
        reply ({"result": "completed"|"failed"|"missing"|"timeout", "jobs"}).
        Without timeout_ms the supervisor waits as long as the jobs take, and
        so does this call (unless timeout says otherwise)."""
        if timeout is DEFAULT:
            timeout = timeout_ms / 1000.0 + 10.0 if timeout_ms else None
        return self.call("compile", timeout=timeout, path=path, uuid=uuid, platform=platform,
                         timeout_ms=timeout_ms)

    def subscribe(self, *topics):
        """A Subscription to the given topics ("job", "product", "ready",
        "scan"); none means every topic."""
        if self._events_addr is None:
            raise KilnError("events are served over ipc only")
        return Subscription(self._events_addr, topics, self.timeout)


class Subscription:
    """Events from the supervisor's PUB socket. Iterating yields (topic,
    body) pairs for ever; next(timeout) waits for one."""

    def __init__(self, addr, topics, timeout=10.0):
        if isinstance(addr, str):
            addr = resolve(addr)[1]
        self._pipe = _Pipe(addr, PROTO_SUB, PROTO_PUB, timeout)
        self.topics = set(topics)

    def close(self):
        if self._pipe:
            self._pipe.close()
            self._pipe = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self._pipe.fileno()

    def next(self, timeout=None):
        """The next (topic, body) of a subscribed topic; raises Timeout."""
        deadline = _deadline(timeout)
        while True:
            msg = self._pipe.recv(deadline)
            sp = msg.find(b" ", 0, 33)
            if sp <= 0:
                continue  # not an event of ours
            topic = msg[:sp].decode("utf-8", "replace")
            if self.topics and topic not in self.topics:
                continue
            try:
                body = _decode_map(msg[sp + 1:])
            except ConnectionLost:
                continue
            return topic, body

    def __iter__(self):
        while True:
            yield self.next()


# ---- selftest ----

def _selftest(where, expect_event, token):
    checks = []

    def check(name, cond, detail=""):
        checks.append(name)
        if not cond:
            raise AssertionError("%s failed %s" % (name, detail))

    with Client(where, token=token, timeout=10.0) as c:
        cid = c.hello("kiln_client-selftest")
        check("hello gives a client id", isinstance(cid, int) and cid > 0, repr(cid))
        st = c.call("status")["status"]
        check("status has a state", isinstance(st.get("state"), str), repr(st))
        r = c.request("no-such-type")
        check("an unknown type is an error", r.get("ok") is False and "unknown" in r.get("error", ""), repr(r))
        r = c.send_raw(b"\xc1\xc1 not msgpack")
        check("garbage gets an error reply", r.get("ok") is False, repr(r))
        r = c.send_raw(msgpack.packb([1, 2, 3]))
        check("an array gets an error reply", r.get("ok") is False and "map" in r.get("error", ""), repr(r))
        r = c.request("jobs", filter="x" * 5000)
        check("a filter over 4096 bytes is refused", r.get("ok") is False, repr(r))
        r = c.call("jobs")
        check("jobs is a list", isinstance(r.get("jobs"), list), repr(r)[:200])
        r = c.call("connections")
        names = [cl.get("name") for cl in r.get("clients", [])]
        check("connections lists this client", "kiln_client-selftest" in names, repr(names))
        mine = [cl for cl in r["clients"] if cl.get("name") == "kiln_client-selftest"][0]
        check("connections counts its errors", mine.get("errors", 0) >= 4, repr(mine))
        check("the peer pid is seen", mine.get("peer_pid") in (None, os.getpid()), repr(mine))
        # A request abandoned on a timeout does not confuse the next one.
        c.timeout = 10.0
        st2 = c.call("status")
        check("status again", st2.get("ok") is True)
        if expect_event:
            with c.subscribe() as sub:
                topic, body = sub.next(timeout=10.0)
                check("an event arrives", topic in ("job", "product", "ready", "scan") and isinstance(body, dict),
                      repr((topic, body)))
            with c.subscribe("product") as sub:
                topic, body = sub.next(timeout=10.0)
                check("topic filtering", topic == "product" and "event" in body, repr((topic, body)))
    print("selftest: %d checks passed" % len(checks))
    return 0


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="kiln control API client")
    ap.add_argument("--selftest", metavar="WHERE", help="check a running supervisor (cache folder or socket)")
    ap.add_argument("--expect-event", action="store_true", help="with --selftest: wait for events too")
    ap.add_argument("--token", help="the project's control.token (TCP)")
    ap.add_argument("where", nargs="?", help="cache folder, socket path or tcp://HOST:PORT")
    ap.add_argument("type", nargs="?", help="request type, e.g. status")
    ap.add_argument("fields", nargs="*", help="KEY=VALUE fields (values parsed as JSON when they can be)")
    args = ap.parse_args(argv)
    if args.selftest:
        try:
            return _selftest(args.selftest, args.expect_event, args.token)
        except (AssertionError, KilnError, OSError) as e:
            print("selftest: %s" % e, file=sys.stderr)
            return 1
    if not args.where or not args.type:
        ap.error("give WHERE and TYPE, or --selftest WHERE")
    import json
    fields = {}
    for f in args.fields:
        k, _, v = f.partition("=")
        try:
            fields[k] = json.loads(v)
        except ValueError:
            fields[k] = v
    try:
        with Client(args.where, token=args.token) as c:
            reply = c.request(args.type, timeout=None, **fields)  # a compile may take long
    except (KilnError, OSError) as e:
        print("kiln_client: %s" % e, file=sys.stderr)
        return 3
    print(json.dumps(reply, indent=2))
    return 0 if reply.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
