"""A small synchronous client for the contract suite: the stub plus helpers to stream contents and unpack
`google.rpc` error details. It uses only the proto, so it works against an adapter written in any language."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import Message
from grpc_status import rpc_status

from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

CHUNK = 256 * 1024
DEFAULT_TTL = {"seconds": 1800}


def chunked(data: bytes, size: int = CHUNK) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def lock_precondition(lock_id: str = "", when_unlocked: int = pb.WHEN_UNLOCKED_ALLOW) -> pb.Preconditions:
    return pb.Preconditions(lock=pb.LockPrecondition(lock_id=lock_id, when_unlocked=when_unlocked))


@dataclass
class ErrorInfo:
    """What a failed call returned: the code, the message and its unpacked details."""

    code: grpc.StatusCode | None = None
    message: str = ""
    details: list[Message] = field(default_factory=list)

    def detail(self, kind: type[Message]) -> Message:
        found = [detail for detail in self.details if isinstance(detail, kind)]
        assert len(found) == 1, f"expected exactly one {kind.__name__} detail, got {self.details}"
        return found[0]


_DETAIL_TYPES: dict[str, type[Message]] = {
    cls.DESCRIPTOR.full_name: cls
    for cls in (pb.LockConflict, pb.ContainerNotEmpty, pb.VersionConflict, pb.NameConflict)
}


def _unpack(error: grpc.RpcError) -> ErrorInfo:
    info = ErrorInfo(code=error.code(), message=error.details() or "")  # type: ignore[attr-defined]
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is not None:
        from google.rpc import error_details_pb2

        types = {**_DETAIL_TYPES, error_details_pb2.BadRequest.DESCRIPTOR.full_name: error_details_pb2.BadRequest}
        for packed in status.details:
            name = packed.TypeName()
            if name in types:
                message = types[name]()
                packed.Unpack(message)
                info.details.append(message)
    return info


@contextlib.contextmanager
def expect_error(code: grpc.StatusCode) -> Iterator[ErrorInfo]:
    """`with expect_error(StatusCode.NOT_FOUND) as error: ...` fails unless the block raises that status."""
    info = ErrorInfo()
    try:
        yield info
    except grpc.RpcError as error:
        unpacked = _unpack(error)
        assert unpacked.code == code, f"expected {code}, got {unpacked.code}: {unpacked.message}"
        info.code, info.message, info.details = unpacked.code, unpacked.message, unpacked.details
    else:
        raise AssertionError(f"expected {code}, but the call succeeded")


class StorageClient:
    def __init__(self, channel: grpc.Channel, secret: str | None, user_id: str = "contract-user") -> None:
        self.channel = channel
        self.stub = pb_grpc.StorageServiceStub(channel)
        self.secret = secret
        self.user_id = user_id

    def metadata(self, user_id: str | None = None, display_name: str = "") -> list[tuple[str, str | bytes]]:
        entries: list[tuple[str, str | bytes]] = []
        if self.secret is not None:
            entries.append(("authorization", f"Bearer {self.secret}"))
        user = self.user_id if user_id is None else user_id
        if user:
            entries.append(("x-wopi-principal-id", user))
        if display_name:
            entries.append(("x-wopi-principal-name-bin", display_name.encode()))
        return entries

    def call(self, rpc: str, request: Message, **kwargs: object) -> Message:
        kwargs.setdefault("metadata", self.metadata())
        kwargs.setdefault("timeout", 30)
        return getattr(self.stub, rpc)(request, **kwargs)

    # ---- contents ----

    def create_file(
        self, container_id: str, name: str, data: bytes | Iterable[bytes] = b"", **kwargs: object
    ) -> pb.FileInfo:
        chunks = chunked(data) if isinstance(data, bytes) else data

        def messages() -> Iterator[pb.CreateFileRequest]:
            yield pb.CreateFileRequest(header=pb.CreateFileHeader(container_id=container_id, name=name))
            for chunk in chunks:
                yield pb.CreateFileRequest(data=chunk)

        return self.call("CreateFile", messages(), **kwargs)  # type: ignore[arg-type,return-value]

    def write_file(
        self,
        file_id: str,
        data: bytes | Iterable[bytes],
        preconditions: pb.Preconditions | None = None,
        **kwargs: object,
    ) -> pb.FileInfo:
        chunks = chunked(data) if isinstance(data, bytes) else data
        header = pb.WriteFileHeader(file_id=file_id, preconditions=preconditions)

        def messages() -> Iterator[pb.WriteFileRequest]:
            yield pb.WriteFileRequest(header=header)
            for chunk in chunks:
                yield pb.WriteFileRequest(data=chunk)

        return self.call("WriteFile", messages(), **kwargs)  # type: ignore[arg-type,return-value]

    def read_messages(self, file_id: str, **fields: object) -> list[pb.ReadFileResponse]:
        return list(self.call("ReadFile", pb.ReadFileRequest(file_id=file_id, **fields)))  # type: ignore[call-overload]

    def read_file(self, file_id: str, **fields: object) -> tuple[pb.FileInfo, bytes]:
        messages = self.read_messages(file_id, **fields)
        return messages[0].file, b"".join(message.data for message in messages)

    # ---- shortcuts ----

    def stat(self, file_id: str) -> pb.FileInfo:
        return self.call("StatFile", pb.StatFileRequest(file_id=file_id))  # type: ignore[return-value]

    def lock(self, file_id: str, lock_id: str, ttl: object = DEFAULT_TTL) -> pb.FileInfo:
        request = pb.LockRequest(file_id=file_id, lock_id=lock_id, ttl=ttl)
        return self.call("Lock", request).file  # type: ignore[attr-defined,no-any-return]

    def get_lock(self, file_id: str) -> str:
        return self.call("GetLock", pb.GetLockRequest(file_id=file_id)).lock_id  # type: ignore[attr-defined,no-any-return]

    def children(self, container_id: str, *extensions: str) -> list[pb.Item]:
        request = pb.ListChildrenRequest(container_id=container_id, file_extensions=extensions)
        return list(self.call("ListChildren", request))  # type: ignore[call-overload]
