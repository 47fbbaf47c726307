"""storage_adapter/content_wire.py encodes and decodes exactly what the generated classes do."""

from __future__ import annotations

import pytest

from storage_adapter import content_wire
from storage_adapter.content_wire import DataMessage
from wopi_proto.storage_v1 import storage_pb2 as pb

# Lengths around each varint boundary (1, 2 and 3 bytes), and a chunk of the largest size storage sends.
SIZES = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 3 * 1024 * 1024]
INFO = pb.FileInfo(file_id="f1", name="report.docx", size=42, version="v7")


@pytest.mark.parametrize("size", SIZES)
def test_read_response_is_the_protobuf_encoding(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    info = INFO.SerializeToString()
    assert content_wire.read_response(data) == pb.ReadFileResponse(data=data).SerializeToString()
    assert content_wire.read_response(data, info) == pb.ReadFileResponse(file=INFO, data=data).SerializeToString()
    assert content_wire.read_response(bytearray(data)) == pb.ReadFileResponse(data=data).SerializeToString()
    parsed = pb.ReadFileResponse.FromString(content_wire.read_response(data, info))
    assert parsed.file == INFO and parsed.data == data


def test_an_empty_file_gives_the_metadata_alone() -> None:
    assert (
        content_wire.read_response(b"", INFO.SerializeToString()) == pb.ReadFileResponse(file=INFO).SerializeToString()
    )


def test_the_serializer_passes_encoded_messages_and_serialises_the_rest() -> None:
    encoded = content_wire.read_response(b"abc")
    assert content_wire.serialize_read_response(encoded) is encoded
    message = pb.ReadFileResponse(file=INFO)
    assert content_wire.serialize_read_response(message) == message.SerializeToString()


@pytest.mark.parametrize("message_type", [pb.WriteFileRequest, pb.CreateFileRequest])
@pytest.mark.parametrize("size", SIZES)
def test_a_data_message_decodes_as_the_generated_class_reads_it(message_type: type, size: int) -> None:
    data = b"x" * size
    raw = message_type(data=data).SerializeToString()
    decoded = content_wire.request_deserializer(message_type)(raw)
    assert isinstance(decoded, DataMessage)
    assert decoded.WhichOneof("message") == "data" == message_type.FromString(raw).WhichOneof("message")
    assert decoded.data == data


@pytest.mark.parametrize(
    "message",
    [
        pb.WriteFileRequest(header=pb.WriteFileHeader(file_id="f1")),
        pb.WriteFileRequest(end=pb.ContentEnd(size=10)),
        pb.WriteFileRequest(),
    ],
)
def test_other_messages_go_through_the_generated_class(message: pb.WriteFileRequest) -> None:
    decoded = content_wire.request_deserializer(pb.WriteFileRequest)(message.SerializeToString())
    assert isinstance(decoded, pb.WriteFileRequest)
    assert decoded == message


def test_data_followed_by_another_field_is_left_to_the_generated_class() -> None:
    """A oneof sent twice: protobuf keeps the last one (here the end), so must the decoder."""
    raw = (
        pb.WriteFileRequest(data=b"abc").SerializeToString()
        + pb.WriteFileRequest(end=pb.ContentEnd(size=3)).SerializeToString()
    )
    decoded = content_wire.request_deserializer(pb.WriteFileRequest)(raw)
    assert decoded == pb.WriteFileRequest.FromString(raw)
    assert decoded.WhichOneof("message") == "end"


@pytest.mark.parametrize("raw", [b"\x12", b"\x12\x05abc", b"\x12\x80", b"\x12\x02abc", b"\x12" + b"\xff" * 11])
def test_truncated_or_overlong_data_is_left_to_the_generated_class(raw: bytes) -> None:
    assert content_wire.only_data(raw) is None
