"""The contents messages, encoded and decoded by hand: the bytes of a file pass through them with one copy or none.

Built as protobuf messages, a chunk is copied twice on the way to storage (into the message, into its serialised
form) and twice on the way back (parsing, then reading `data`). Their encoding is simple: `data` is field 2 of
ReadFileResponse, WriteFileRequest and CreateFileRequest, length-delimited (tag byte 0x12, the length as a
varint, the bytes). So a data message to storage is encoded here in one join, and a ReadFileResponse that holds
only data is decoded to a memoryview of the received bytes (no copy); every other message (the first one with
the metadata, the header, the end) goes through the generated classes. tests/frontend/test_content_wire.py
checks these against the generated classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wopi_proto.storage_v1 import storage_pb2 as pb

DATA_TAG = b"\x12"  # field 2, length-delimited
_DATA_TAG_BYTE = DATA_TAG[0]


def varint(value: int) -> bytes:
    """`value` (not negative) as a protobuf base-128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def data_message(pieces: Sequence[bytes | memoryview]) -> bytes:
    """The encoding of a WriteFileRequest (or CreateFileRequest) whose `data` is `pieces` joined: one copy."""
    size = sum(len(piece) for piece in pieces)
    return b"".join((DATA_TAG, varint(size), *pieces))


def serialize_request(message: bytes | Any) -> bytes:
    """WriteFile's and CreateFile's request serializer: messages that `data_message` encoded pass as they are."""
    return message if isinstance(message, bytes) else message.SerializeToString()  # type: ignore[no-any-return]


def only_data(raw: bytes) -> tuple[int, int] | None:
    """Where the data is, (start, end), when `raw` is exactly one `data` field (field 2) and nothing else."""
    if not raw or raw[0] != _DATA_TAG_BYTE:
        return None
    length, shift, position = 0, 0, 1
    while position < len(raw) and shift < 64:
        byte = raw[position]
        position += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (position, position + length) if position + length == len(raw) else None
        shift += 7
    return None


def read_response(raw: bytes) -> pb.ReadFileResponse | memoryview:
    """ReadFile's response deserializer: a message of data only is its data, a view of `raw`; any other message
    (the first, with the metadata) is a ReadFileResponse."""
    found = only_data(raw)
    if found is None:
        return pb.ReadFileResponse.FromString(raw)
    start, end = found
    return memoryview(raw)[start:end]
