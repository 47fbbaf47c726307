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
from wopi_wire import DATA_TAG, only_data, varint


def data_message(pieces: Sequence[bytes | memoryview]) -> bytes:
    """The encoding of a WriteFileRequest (or CreateFileRequest) whose `data` is `pieces` joined: one copy."""
    size = sum(len(piece) for piece in pieces)
    return b"".join((DATA_TAG, varint(size), *pieces))


def serialize_request(message: bytes | Any) -> bytes:
    """WriteFile's and CreateFile's request serializer: messages that `data_message` encoded pass as they are."""
    return message if isinstance(message, bytes) else message.SerializeToString()  # type: ignore[no-any-return]


def read_response(raw: bytes) -> pb.ReadFileResponse | memoryview:
    """ReadFile's response deserializer: a message of data only is its data, a view of `raw`; any other message
    (the first, with the metadata) is a ReadFileResponse."""
    found = only_data(raw)
    if found is None:
        return pb.ReadFileResponse.FromString(raw)
    start, end = found
    return memoryview(raw)[start:end]
