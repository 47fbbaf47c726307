"""wopi_frontend/content_wire.py encodes and decodes exactly what the generated classes do."""

from __future__ import annotations

import pytest

from wopi_frontend import content_wire
from wopi_proto.storage_v1 import storage_pb2 as pb

SIZES = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 3 * 1024 * 1024]
INFO = pb.FileInfo(file_id="f1", name="report.docx", size=42, version="v7")


@pytest.mark.parametrize("message_type", [pb.WriteFileRequest, pb.CreateFileRequest])
@pytest.mark.parametrize("size", SIZES)
def test_a_data_message_is_the_protobuf_encoding(message_type: type, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    expected = message_type(data=data).SerializeToString()
    assert content_wire.data_message([data]) == expected
    third = size // 3
    pieces = [data[:third], memoryview(data)[third : 2 * third], data[2 * third :]]
    assert content_wire.data_message(pieces) == expected
    assert message_type.FromString(content_wire.data_message(pieces)).data == data


def test_the_serializer_passes_encoded_messages_and_serialises_the_rest() -> None:
    encoded = content_wire.data_message([b"abc"])
    assert content_wire.serialize_request(encoded) is encoded
    end = pb.WriteFileRequest(end=pb.ContentEnd(size=3))
    assert content_wire.serialize_request(end) == end.SerializeToString()


@pytest.mark.parametrize("size", SIZES[1:])
def test_a_data_only_response_is_a_view_of_its_data(size: int) -> None:
    data = b"y" * size
    decoded = content_wire.read_response(pb.ReadFileResponse(data=data).SerializeToString())
    assert isinstance(decoded, memoryview)
    assert decoded == data


@pytest.mark.parametrize(
    "message",
    [pb.ReadFileResponse(file=INFO, data=b"abc"), pb.ReadFileResponse(file=INFO), pb.ReadFileResponse()],
)
def test_other_responses_go_through_the_generated_class(message: pb.ReadFileResponse) -> None:
    decoded = content_wire.read_response(message.SerializeToString())
    assert isinstance(decoded, pb.ReadFileResponse)
    assert decoded == message


def test_data_then_metadata_is_left_to_the_generated_class() -> None:
    raw = pb.ReadFileResponse(data=b"abc").SerializeToString() + pb.ReadFileResponse(file=INFO).SerializeToString()
    decoded = content_wire.read_response(raw)
    assert isinstance(decoded, pb.ReadFileResponse)
    assert decoded == pb.ReadFileResponse.FromString(raw)
