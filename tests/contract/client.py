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
    for cls in (pb.LockConflict, pb.ContainerNotEmpty, pb.VersionConflict, pb.NameConflict, pb.PermissionDenied)
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

    def metadata(
        self, user_id: str | None = None, display_name: str = "", groups: str | None = None
    ) -> list[tuple[str, str | bytes]]:
        """`groups`: the raw `x-wopi-principal-groups` value (comma-separated group ids), sent when not None."""
        entries: list[tuple[str, str | bytes]] = []
        if self.secret is not None:
            entries.append(("authorization", f"Bearer {self.secret}"))
        user = self.user_id if user_id is None else user_id
        if user:
            entries.append(("x-wopi-principal-id", user))
        if display_name:
            entries.append(("x-wopi-principal-name-bin", display_name.encode()))
        if groups is not None:
            entries.append(("x-wopi-principal-groups", groups))
        return entries

    def call(self, rpc: str, request: Message, **kwargs: object) -> Message:
        kwargs.setdefault("metadata", self.metadata())
        kwargs.setdefault("timeout", 30)
        return getattr(self.stub, rpc)(request, **kwargs)

    # ---- contents ----

    def create_file(
        self,
        container_id: str,
        name: str,
        data: bytes | Iterable[bytes] = b"",
        *,
        use_free_variant: bool = False,
        **kwargs: object,
    ) -> pb.FileInfo:
        chunks = chunked(data) if isinstance(data, bytes) else data
        header = pb.CreateFileHeader(container_id=container_id, name=name, use_free_variant=use_free_variant)

        def messages() -> Iterator[pb.CreateFileRequest]:
            yield pb.CreateFileRequest(header=header)
            size = 0
            for chunk in chunks:
                size += len(chunk)
                yield pb.CreateFileRequest(data=chunk)
            yield pb.CreateFileRequest(end=pb.ContentEnd(size=size))

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
            size = 0
            for chunk in chunks:
                size += len(chunk)
                yield pb.WriteFileRequest(data=chunk)
            yield pb.WriteFileRequest(end=pb.ContentEnd(size=size))

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


# ---- helpers shared by the tests of files, streams, names, containers, user info and versions ----

_ID_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def is_valid_id(value: str) -> bool:
    """Whether `value` has the shape the proto promises for file and container ids: 1-256 of [A-Za-z0-9_-]."""
    return 1 <= len(value) <= 256 and set(value) <= _ID_CHARACTERS


def unknown_id() -> str:
    """A well-formed id that no adapter has handed out (ids are opaque, so random is as good as any)."""
    import secrets

    return f"contract-unknown-{secrets.token_hex(16)}"


def assert_bad_request(error: ErrorInfo, field: str) -> None:
    """The error carries a `google.rpc.BadRequest` detail with a violation naming `field`.

    A violation names the field by its last path component, so "header.file_id" and "file_extensions[0]" name
    "file_id" and "file_extensions".
    """
    from google.rpc import error_details_pb2

    bad_request = error.detail(error_details_pb2.BadRequest)
    named = [violation.field.rsplit(".", 1)[-1].split("[", 1)[0] for violation in bad_request.field_violations]
    assert field in named, f"expected a BadRequest violation naming {field!r}, got {list(bad_request.field_violations)}"


def comparable(info: pb.FileInfo) -> pb.FileInfo:
    """A copy of `info` where "unlocked" has one form (the proto allows an unset or an empty `lock`)."""
    copy = pb.FileInfo()
    copy.CopyFrom(info)
    if not copy.lock.lock_id:
        copy.ClearField("lock")
    return copy


@dataclass
class ReadSummary:
    """What a streamed read returned, without holding the contents: metadata, size, digest and chunk sizes."""

    file: pb.FileInfo
    size: int
    sha256: bytes
    messages: int
    largest_chunk: int


def read_summary(client: StorageClient, file_id: str, timeout: float = 30, **fields: object) -> ReadSummary:
    """ReadFile, hashing the bytes as they arrive (for files too large to keep in memory)."""
    import hashlib

    digest = hashlib.sha256()
    first: pb.FileInfo | None = None
    size = messages = largest = 0
    request = pb.ReadFileRequest(file_id=file_id, **fields)
    for message in client.call("ReadFile", request, timeout=timeout):  # type: ignore[attr-defined]
        if first is None:
            assert message.HasField("file"), "the first ReadFile message must carry the file's metadata"
            first = message.file
        else:
            assert not message.HasField("file"), "only the first ReadFile message may carry metadata"
        digest.update(message.data)
        size += len(message.data)
        largest = max(largest, len(message.data))
        messages += 1
    assert first is not None, "ReadFile returned no message at all"
    return ReadSummary(first, size, digest.digest(), messages, largest)


# ---- helpers shared by the tests of locks, preconditions and races ----


def ttl(seconds: float) -> object:
    """A lock TTL as a `google.protobuf.Duration`."""
    from google.protobuf import duration_pb2

    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=round((seconds - whole) * 1e9))


def conflicting_lock(error: ErrorInfo) -> pb.LockInfo:
    """The current lock carried by the error's `LockConflict` detail (empty `lock_id` when unlocked)."""
    return error.detail(pb.LockConflict).current_lock  # type: ignore[attr-defined,no-any-return]


def error_info(error: grpc.RpcError) -> ErrorInfo:
    """The code, message and unpacked details of a failed call, for code that cannot use `expect_error`."""
    return _unpack(error)


def connect(target: str, secret: str | None) -> tuple[grpc.Channel, StorageClient]:
    """A client on a channel (and connection) of its own, as a second front-end would have. Close the channel."""
    channel = grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
    grpc.channel_ready_future(channel).result(timeout=10)
    return channel, StorageClient(channel, secret)


@dataclass(frozen=True)
class FileState:
    """Everything a caller can observe about one file through StatFile and ReadFile."""

    stat: pb.FileInfo
    read_info: pb.FileInfo
    contents: bytes


def file_state(client: StorageClient, file_id: str) -> FileState:
    stat = client.stat(file_id)
    read_info, contents = client.read_file(file_id)
    return FileState(comparable(stat), comparable(read_info), contents)


def expect_on_each(calls: dict[str, object], code: grpc.StatusCode, field: str = "") -> None:
    """Each of `calls` (label: function of no arguments) fails with `code`, and a BadRequest naming `field` if
    given; the failure lists every call that did not."""
    failures = []
    for label, call in calls.items():
        try:
            with expect_error(code) as error:
                call()  # type: ignore[operator]
            if field:
                assert_bad_request(error, field)
        except AssertionError as failure:
            failures.append(f"{label}: {failure}")
    assert not failures, "\n".join(failures)


def share_if_enforced(
    client: StorageClient, caps: pb.Capabilities, user_id: str, *, role: int = pb.ROLE_EDITOR, **item: str
) -> None:
    """Where the adapter enforces access control, give `user_id` a role on the item (`file_id=` or
    `container_id=`), so that a test of something else can act as a second principal."""
    if caps.access_control:
        grantee = pb.Grantee(user_id=user_id)
        client.call("GrantAccess", pb.GrantAccessRequest(grantee=grantee, role=role, **item))  # type: ignore[arg-type]
