"""The contents messages, encoded and decoded by hand: the bytes of a file pass through them with one copy.

A ReadFileResponse built as a protobuf message copies its chunk twice (into the message, then into its
serialised form); a received WriteFileRequest or CreateFileRequest copies it twice too (parsing, then reading
`data`). Every such message is almost all data, and its protobuf encoding is simple: `data` is field 2,
length-delimited (tag byte 0x12, the length as a varint, the bytes), and a ReadFileResponse's `file` is field 1
(tag 0x0a, the length, the serialised FileInfo), fields in number order. So ReadFile's chunks are encoded here in
one join, and a request message that holds only `data` is decoded here in one slice; every other message (the
header, the end, anything unusual) goes through the generated classes, so its meaning cannot differ.
tests/storage_adapter/test_content_wire.py parses what is encoded here with the generated classes.

`add_servicer` serves ReadFile, WriteFile and CreateFile with these encoders, in place of the generated ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc
from wopi_wire import DATA_TAG, only_data, varint

FILE_TAG = b"\x0a"  # ReadFileResponse.file: field 1, length-delimited
SERVICE = "wopi.storage.v1.StorageService"


def read_response(data: bytes | bytearray | memoryview, file: bytes | None = None) -> bytes:
    """The encoding of `ReadFileResponse(file=FileInfo.FromString(file), data=data)`, `file` omitted when None,
    `data` omitted when empty (proto3 leaves an empty `bytes` field out), as SerializeToString gives it."""
    parts: list[bytes | bytearray | memoryview] = []
    if file is not None:
        parts += (FILE_TAG, varint(len(file)), file)
    if data:
        parts += (DATA_TAG, varint(len(data)), data)
    return b"".join(parts)


def serialize_read_response(message: bytes | pb.ReadFileResponse) -> bytes:
    """ReadFile's response serializer: messages that `read_response` encoded pass as they are."""
    return message if isinstance(message, bytes) else message.SerializeToString()


@dataclass(frozen=True, slots=True)
class DataMessage:
    """A WriteFileRequest or CreateFileRequest that carries only data, as streams.ContentStream reads one."""

    data: bytes

    def WhichOneof(self, oneof_group: str) -> str | None:  # the protobuf method it stands in for
        return "data" if oneof_group == "message" else None


def request_deserializer(message_type: type[Any]) -> Any:
    """A deserializer of WriteFileRequest or CreateFileRequest: a data message in one copy, the rest by the
    generated class."""
    parse = message_type.FromString

    def deserialize(raw: bytes) -> Any:
        found = only_data(raw)
        if found is None:
            return parse(raw)
        start, end = found
        return DataMessage(raw[start:end])

    return deserialize


def handlers(servicer: Any) -> dict[str, grpc.RpcMethodHandler]:
    """ReadFile, WriteFile and CreateFile of `servicer`, with these encoders."""
    return {
        "ReadFile": grpc.unary_stream_rpc_method_handler(
            servicer.ReadFile,
            request_deserializer=pb.ReadFileRequest.FromString,
            response_serializer=serialize_read_response,
        ),
        "WriteFile": grpc.stream_unary_rpc_method_handler(
            servicer.WriteFile,
            request_deserializer=request_deserializer(pb.WriteFileRequest),
            response_serializer=pb.FileInfo.SerializeToString,
        ),
        "CreateFile": grpc.stream_unary_rpc_method_handler(
            servicer.CreateFile,
            request_deserializer=request_deserializer(pb.CreateFileRequest),
            response_serializer=pb.FileInfo.SerializeToString,
        ),
    }


def add_servicer(servicer: Any, server: grpc.aio.Server) -> None:
    """Add the storage service (what `add_StorageServiceServicer_to_server` adds), with `handlers` in place of the
    generated ones for those three methods: on the generic path (consulted in the order added, so they go first)
    and on the registered path (where a later registration of a method replaces an earlier one)."""
    ours = handlers(servicer)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, ours),))
    pb_grpc.add_StorageServiceServicer_to_server(servicer, server)
    server.add_registered_method_handlers(SERVICE, ours)
