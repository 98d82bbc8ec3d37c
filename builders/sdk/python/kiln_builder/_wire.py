"""Frames of the builder protocol (SPEC section 5): a 4-byte big-endian
length, then one MessagePack map with string keys.

Everything here works on binary file objects, so the runner can hand it the
process's private copies of stdin and stdout and the tests can hand it
BytesIO objects.
"""
import struct

import msgpack

# A frame over 64 MiB is a protocol error (SPEC section 5).
MAX_FRAME = 64 * 1024 * 1024


class ProtocolError(Exception):
    """The peer sent something that is not a valid frame or request."""


def pack(obj):
    """Returns one frame (length prefix and payload) for the map obj."""
    data = msgpack.packb(obj, use_bin_type=True)
    if len(data) > MAX_FRAME:
        raise ProtocolError("a reply of %d bytes is over the 64 MiB frame limit" % len(data))
    return struct.pack(">I", len(data)) + data


def unpack(data):
    """Decodes one frame payload into a dict with a string "type".

    Raises ProtocolError for anything else: the stream cannot be trusted
    after a payload that is not a map."""
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types
        raise ProtocolError("the frame is not MessagePack: %s" % exc) from None
    if not isinstance(obj, dict):
        raise ProtocolError("the frame holds %s, not a map" % type(obj).__name__)
    if not isinstance(obj.get("type"), str):
        raise ProtocolError('the frame has no string "type"')
    return obj


def _read_exact(stream, n):
    """Reads n bytes, or fewer only at end of input."""
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(stream):
    """Reads one request from stream.

    Returns the decoded map, or None at a clean end of input (between
    frames). Raises ProtocolError for a cut frame, an oversized length or a
    payload that is not a map with a "type"."""
    hdr = _read_exact(stream, 4)
    if not hdr:
        return None
    if len(hdr) < 4:
        raise ProtocolError("end of input inside a frame header")
    (n,) = struct.unpack(">I", hdr)
    if n > MAX_FRAME:
        raise ProtocolError("a frame of %d bytes is over the 64 MiB limit" % n)
    data = _read_exact(stream, n)
    if len(data) < n:
        raise ProtocolError("end of input inside a frame (%d of %d bytes)" % (len(data), n))
    return unpack(data)


def write_frame(stream, obj):
    """Writes the map obj as one frame and flushes, so the peer sees it at
    once (a log frame must reach the job log even if the builder dies right
    after)."""
    stream.write(pack(obj))
    stream.flush()
