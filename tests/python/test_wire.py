"""Frames: length prefix, MessagePack map, limits."""
import io
import struct

import pytest

import helpers  # noqa: F401 (puts kiln_builder on sys.path)
from kiln_builder import _wire
from kiln_builder._wire import MAX_FRAME, ProtocolError, read_frame, write_frame


def test_round_trip_keeps_types():
    buf = io.BytesIO()
    msg = {"type": "log", "level": "info", "message": "h\u00e9llo", "context": {"k": "v"}, "n": 2 ** 40,
           "flag": True, "list": [1, "a"]}
    write_frame(buf, msg)
    raw = buf.getvalue()
    assert struct.unpack(">I", raw[:4])[0] == len(raw) - 4
    buf.seek(0)
    assert read_frame(buf) == msg
    assert read_frame(buf) is None  # clean end of input


def test_big_endian_length_prefix():
    raw = _wire.pack({"type": "x"})
    assert raw[:4] == struct.pack(">I", len(raw) - 4)
    assert raw[:2] == b"\x00\x00"


def test_several_frames_in_one_stream():
    buf = io.BytesIO(_wire.pack({"type": "a"}) + _wire.pack({"type": "b"}))
    assert read_frame(buf)["type"] == "a"
    assert read_frame(buf)["type"] == "b"
    assert read_frame(buf) is None


@pytest.mark.parametrize("raw, why", [
    (b"\x00\x00", "header"),
    (b"\x00\x00\x00\x10abc", "inside a frame"),
    (struct.pack(">I", MAX_FRAME + 1), "64 MiB"),
    (b"\xff\xff\xff\xff", "64 MiB"),
])
def test_broken_streams_are_protocol_errors(raw, why):
    with pytest.raises(ProtocolError, match=why):
        read_frame(io.BytesIO(raw))


@pytest.mark.parametrize("payload, why", [
    (b"\xc1", "not MessagePack"),  # 0xc1 is never used
    (b"\x93\x01\x02\x03", "not a map"),  # [1, 2, 3]
    (b"\x81\xa1a\x01", 'no string "type"'),  # {"a": 1}
    (b"\x81\xa4type\x05", 'no string "type"'),  # {"type": 5}
    (b"\x81\x01\xa1x", "not MessagePack"),  # an integer key
])
def test_bad_payloads_are_protocol_errors(payload, why):
    with pytest.raises(ProtocolError, match=why):
        read_frame(io.BytesIO(struct.pack(">I", len(payload)) + payload))


def test_a_frame_of_exactly_the_limit_is_read():
    # A map whose one string fills the frame to exactly 64 MiB.
    head = b"\x82\xa4type\xa1x\xa1s\xdb"
    body_len = MAX_FRAME - len(head) - 4
    payload = head + struct.pack(">I", body_len) + b"a" * body_len
    assert len(payload) == MAX_FRAME
    m = read_frame(io.BytesIO(struct.pack(">I", len(payload)) + payload))
    assert m["type"] == "x" and len(m["s"]) == body_len


def test_an_oversized_reply_is_refused():
    with pytest.raises(ProtocolError, match="64 MiB"):
        _wire.pack({"type": "x", "s": "a" * MAX_FRAME})
