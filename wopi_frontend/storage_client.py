"""The front-end's only view of storage: one client class over the wopi.storage.v1 gRPC service.

Every call carries the shared secret and the principal in metadata and has a deadline, so a storage service
that is down or stuck gives an error, never a hang. Failures arrive as `StorageCallError`, with the
`google.rpc` details already unpacked; `errors.py` turns them into WOPI answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from wopi_frontend import content_wire
from wopi_frontend.types import Principal
from wopi_frontend.write_gate import FileBusy, WriteGate
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# The largest chunk sent to storage, when its Capabilities.max_chunk_size allows (the contract's bound is 3 MiB).
MAX_CHUNK_BYTES = 1024 * 1024
# The slowest flush to disk we wait for when storage commits an upload (a slow disk, 1 GiB: about 100 s).
COMMIT_BYTES_PER_SECOND = 10 * 1024 * 1024
# What the channel buffers for a read stream that its HTTP client has stopped taking (GetFile to a client that
# does not read): the stream's HTTP/2 receive window. gRPC's bandwidth-delay probing grows each stream's window
# towards the whole file (8 MiB files x 200 stalled readers took 1.5 GiB), so it is off, and each stream
# announces a fixed window instead; a reader that is waiting for a message still gets all of it at once.
STREAM_WINDOW_BYTES = 256 * 1024
RECEIVE_WINDOW_OPTIONS = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", STREAM_WINDOW_BYTES)]
T = TypeVar("T")
# Told of each storage RPC as it ends: its method, status code and duration in seconds (metrics.py).
CallObserver = Callable[[str, grpc.StatusCode, float], None]
_DETAILS: dict[str, type[Message]] = {
    cls.DESCRIPTOR.full_name: cls
    for cls in (
        pb.LockConflict,
        pb.NameConflict,
        pb.VersionConflict,
        pb.ContainerNotEmpty,
        error_details_pb2.BadRequest,
    )
}


@dataclass
class StorageCallError(Exception):
    """A failed storage call: its status code, message and unpacked details."""

    code: grpc.StatusCode
    message: str
    details: tuple[Message, ...] = ()

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"

    def detail(self, kind: type[Message]) -> Any:
        return next((detail for detail in self.details if isinstance(detail, kind)), None)

    @classmethod
    def from_rpc(cls, error: grpc.aio.AioRpcError) -> StorageCallError:
        details: list[Message] = []
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        if status is not None:
            for packed in status.details:
                kind = _DETAILS.get(packed.TypeName())
                if kind is not None:
                    message = kind()
                    packed.Unpack(message)
                    details.append(message)
        return cls(error.code(), error.details() or "", tuple(details))


def _interrupted(error: BaseException) -> grpc.StatusCode:
    """The code to report for a storage call ended by something other than storage's answer: CANCELLED when the
    request that made it went away (its task cancelled, its stream closed early), UNKNOWN for anything else."""
    return (
        grpc.StatusCode.CANCELLED
        if isinstance(error, asyncio.CancelledError | GeneratorExit)
        else grpc.StatusCode.UNKNOWN
    )


def _content_calls(channel: grpc.aio.Channel) -> dict[str, Any]:
    """The content RPCs with content_wire.py's encoders in place of the generated ones."""
    service = "/wopi.storage.v1.StorageService/"
    return {
        "ReadFile": channel.unary_stream(
            service + "ReadFile",
            request_serializer=pb.ReadFileRequest.SerializeToString,
            response_deserializer=content_wire.read_response,
            _registered_method=True,
        ),
        **{
            rpc: channel.stream_unary(
                service + rpc,
                request_serializer=content_wire.serialize_request,
                response_deserializer=pb.FileInfo.FromString,
                _registered_method=True,
            )
            for rpc in ("WriteFile", "CreateFile")
        },
    }


@dataclass(frozen=True)
class ItemRef:
    """A file or a container, for the RPCs that take either (the sharing RPCs)."""

    item_id: str
    is_container: bool

    def fields(self) -> dict[str, str]:
        return {"container_id" if self.is_container else "file_id": self.item_id}


@dataclass(frozen=True)
class ChildrenPage:
    """One page of a container's children. `next_token`: the next page's ("" on the last). `truncated`: storage
    cannot page (no `paged_listing`), and there were more children than the page shows."""

    items: list[pb.Item]
    next_token: str = ""
    truncated: bool = False


class StorageClient:
    def __init__(
        self,
        target: str,
        secret: str | None,
        *,
        timeout: float = 10.0,
        stream_timeout: float = 3600.0,
        credentials: grpc.ChannelCredentials | None = None,
        on_call: CallObserver | None = None,
    ) -> None:
        self._target = target
        self._credentials = credentials
        self._channel: grpc.aio.Channel | None = None
        self._stub_instance: pb_grpc.StorageServiceStub | None = None
        self._secret = secret
        self._timeout = timeout
        self._stream_timeout = stream_timeout
        self._capabilities: pb.Capabilities | None = None
        self._write_gate = WriteGate()
        self._contents: dict[str, Any] = {}  # ReadFile, WriteFile, CreateFile with content_wire.py's encoders
        self.chunk_size = MAX_CHUNK_BYTES
        self._on_call = on_call

    @property
    def _stub(self) -> pb_grpc.StorageServiceStub:
        """The channel is opened on first use, inside the event loop that serves requests (a grpc.aio
        channel belongs to the loop it was made in)."""
        if self._stub_instance is None:
            options = [
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                *RECEIVE_WINDOW_OPTIONS,
            ]
            if self._credentials is None:
                self._channel = grpc.aio.insecure_channel(self._target, options=options)
            else:
                self._channel = grpc.aio.secure_channel(self._target, self._credentials, options=options)
            self._stub_instance = pb_grpc.StorageServiceStub(self._channel)
            self._contents = _content_calls(self._channel)
        return self._stub_instance

    def _content(self, rpc: str) -> Any:
        """ReadFile, WriteFile or CreateFile with content_wire.py's encoders, on the channel that `_stub` opens."""
        if self._stub_instance is None:
            self._stub  # noqa: B018 (the property opens the channel)
        return self._contents[rpc]

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = self._stub_instance = None
            self._contents = {}

    def _metadata(self, principal: Principal | None) -> list[tuple[str, str | bytes]]:
        entries: list[tuple[str, str | bytes]] = []
        if self._secret is not None:
            entries.append(("authorization", f"Bearer {self._secret}"))
        if principal is not None:
            entries.append(("x-wopi-principal-id", principal.user_id))
            if principal.display_name:
                entries.append(("x-wopi-principal-name-bin", principal.display_name.encode()))
            if principal.groups:
                entries.append(("x-wopi-principal-groups", ",".join(principal.groups)))
        return entries

    async def _call(self, rpc: str, request: Message, principal: Principal | None = None) -> Any:
        return await self._timed(rpc, self._unary(rpc, request, principal))

    async def _unary(self, rpc: str, request: Message, principal: Principal | None) -> Any:
        try:
            return await getattr(self._stub, rpc)(request, metadata=self._metadata(principal), timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            raise StorageCallError.from_rpc(error) from None

    async def _timed(self, rpc: str, whole_call: Awaitable[T]) -> T:
        """`whole_call`, one storage RPC from start to end, told to `on_call` with its code and duration."""
        if self._on_call is None:
            return await whole_call
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            return await whole_call
        except StorageCallError as error:
            code = error.code
            raise
        except BaseException as error:
            code = _interrupted(error)
            raise
        finally:
            self._on_call(rpc, code, time.perf_counter() - started)

    def _ended(self, rpc: str, code: grpc.StatusCode, started: float) -> None:
        """A streamed RPC has ended (ReadFile, ListChildren: their ends are in generators, not one await)."""
        if self._on_call is not None:
            self._on_call(rpc, code, time.perf_counter() - started)

    # ---- capabilities ----

    async def capabilities(self) -> pb.Capabilities:
        """Read once, then cached: an adapter's capabilities do not change while it runs."""
        if self._capabilities is None:
            self._capabilities = await self._call("GetCapabilities", pb.GetCapabilitiesRequest())
            self.chunk_size = min(self.chunk_size, self._capabilities.max_chunk_size or self.chunk_size)
        return self._capabilities

    async def probe(self) -> None:
        """Ask storage whether it answers (for /healthz): GetCapabilities, uncached, the one RPC that needs no
        principal."""
        await self._call("GetCapabilities", pb.GetCapabilitiesRequest())

    # ---- files ----

    async def stat_file(self, file_id: str, principal: Principal) -> pb.FileInfo:
        return await self._call("StatFile", pb.StatFileRequest(file_id=file_id), principal)  # type: ignore[no-any-return]

    async def file_context(
        self, file_id: str, principal: Principal, *, container_permissions: bool = False
    ) -> pb.FileContext:
        """The file, the principal's user info and, with `container_permissions`, the principal's permissions on
        the file's folder (unset where it may not read the folder), in one call (only if
        `capabilities().file_context`)."""
        request = pb.GetFileContextRequest(file_id=file_id, include_container_permissions=container_permissions)
        return await self._call("GetFileContext", request, principal)  # type: ignore[no-any-return]

    async def open_read(
        self, file_id: str, principal: Principal, *, version: str = ""
    ) -> tuple[pb.FileInfo, AsyncIterator[bytes | memoryview]]:
        """Start a read: the metadata at once (so the caller can pick a status), then the bytes as they come.
        The caller must exhaust or `aclose()` the iterator; closing it early cancels the stream."""
        request = pb.ReadFileRequest(file_id=file_id, version=version)
        started = time.perf_counter()
        call = self._content("ReadFile")(request, metadata=self._metadata(principal), timeout=self._stream_timeout)
        try:
            first = await self._progress(call.read())
        except grpc.aio.AioRpcError as error:
            self._ended("ReadFile", error.code(), started)
            raise StorageCallError.from_rpc(error) from None
        except StorageCallError as error:
            call.cancel()
            self._ended("ReadFile", error.code, started)
            raise
        except BaseException as error:
            self._ended("ReadFile", _interrupted(error), started)
            raise
        if first is grpc.aio.EOF:
            self._ended("ReadFile", grpc.StatusCode.INTERNAL, started)
            raise StorageCallError(grpc.StatusCode.INTERNAL, "storage sent no metadata")
        if isinstance(first, memoryview):  # data without the metadata: as the generated class would read it
            first = pb.ReadFileResponse(data=bytes(first))
        info = first.file
        pending = [first.data] if first.data else []  # handed over, not kept: the stream may be slow to read
        del first

        async def chunks() -> AsyncIterator[bytes | memoryview]:
            code = grpc.StatusCode.OK
            try:
                if pending:
                    yield pending.pop()
                while True:
                    message = await self._progress(call.read())
                    if message is grpc.aio.EOF:
                        return
                    # A view of the received message (content_wire.read_response), handed to the HTTP body as is.
                    yield message if isinstance(message, memoryview) else message.data
            except grpc.aio.AioRpcError as error:
                code = error.code()
                raise StorageCallError.from_rpc(error) from None
            except StorageCallError as error:  # a step that stalled
                code = error.code
                raise
            except BaseException as error:  # the HTTP response closed the stream early
                code = _interrupted(error)
                raise
            finally:
                call.cancel()  # a no-op when the stream has ended
                self._ended("ReadFile", code, started)

        return info, chunks()

    async def write_file(
        self,
        file_id: str,
        preconditions: pb.Preconditions,
        chunks: AsyncIterator[bytes],
        principal: Principal,
    ) -> pb.FileInfo:
        """Replace a file's contents with `chunks`. At most one upload per file at a time (write_gate.py): a second
        one waits briefly, then fails with UNAVAILABLE before anything is sent."""
        header = pb.WriteFileRequest(header=pb.WriteFileHeader(file_id=file_id, preconditions=preconditions))
        try:
            async with self._write_gate.hold(file_id):
                return await self._stream_contents("WriteFile", header, pb.WriteFileRequest, chunks, principal)
        except FileBusy as busy:
            raise StorageCallError(grpc.StatusCode.UNAVAILABLE, str(busy)) from None

    async def create_file(
        self,
        container_id: str,
        name: str,
        chunks: AsyncIterator[bytes],
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> pb.FileInfo:
        """Create `name` exclusively, or with `use_free_variant` (only if `capabilities().free_name_variants`)
        its first free variant, chosen by storage in the same step: the result's `name` says which."""
        wanted = pb.CreateFileHeader(container_id=container_id, name=name, use_free_variant=use_free_variant)
        header = pb.CreateFileRequest(header=wanted)
        return await self._stream_contents("CreateFile", header, pb.CreateFileRequest, chunks, principal)

    async def _stream_contents(
        self,
        rpc: str,
        header: Message,
        message_type: type[Any],
        chunks: AsyncIterator[bytes],
        principal: Principal | None,
    ) -> pb.FileInfo:
        return await self._timed(rpc, self._send_contents(rpc, header, message_type, chunks, principal))

    async def _send_contents(
        self,
        rpc: str,
        header: Message,
        message_type: type[Any],
        chunks: AsyncIterator[bytes],
        principal: Principal | None,
    ) -> pb.FileInfo:
        """Send the header, each chunk as it arrives, then the end message that lets storage commit. If `chunks`
        raises (a bad or broken upload), the call is cancelled before the end message, so storage discards
        everything it received."""
        call = self._content(rpc)(metadata=self._metadata(principal), timeout=self._stream_timeout)
        try:
            await self._progress(call.write(header))
            sent = 0
            async for chunk in chunks:  # the HTTP client's pace: not bounded here
                # Each piece as it came (waiting to gather more would hold back a slow client's bytes), encoded in
                # one copy; a piece over chunk_size is cut, without copying, into views of it.
                view = memoryview(chunk)
                for start in range(0, len(view), self.chunk_size):
                    piece = view[start : start + self.chunk_size]
                    await self._progress(call.write(content_wire.data_message((piece,))))
                    sent += len(piece)
            # Only this message makes storage commit: a stream cut short is never taken as complete.
            await self._progress(call.write(message_type(end=pb.ContentEnd(size=sent))))
            await self._progress(call.done_writing())
            # Committing makes storage flush what it received to disk: allow time in proportion to the size.
            return await self._progress(call, extra=sent / COMMIT_BYTES_PER_SECOND)  # type: ignore[no-any-return]
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as error:
            # Storage answered before the upload ended (e.g. a lock conflict found at the header): its answer.
            # A write racing that answer fails in grpc.aio with INTERNAL "Internal error from Core", which hides
            # the answer; the call itself still ends with storage's status a moment later, so wait for that.
            try:
                async with asyncio.timeout(self._timeout):
                    return await call  # type: ignore[no-any-return]
            except grpc.aio.AioRpcError as final:
                raise StorageCallError.from_rpc(final) from None
            except TimeoutError:
                call.cancel()
                if isinstance(error, grpc.aio.AioRpcError):
                    raise StorageCallError.from_rpc(error) from None
                raise StorageCallError(grpc.StatusCode.UNAVAILABLE, "storage did not answer the upload") from None
        except BaseException:
            call.cancel()
            raise

    async def _progress(self, step: Awaitable[T], extra: float = 0.0) -> T:
        """One step of a content stream. The stream as a whole may take up to the stream timeout, but storage must
        take each step (start a read, send the next chunk, accept one, commit) within the call timeout: a storage
        service that stops answering mid-stream is stuck, and the request fails instead of hanging."""
        try:
            async with asyncio.timeout(self._timeout + extra):
                return await step
        except TimeoutError:
            raise StorageCallError(grpc.StatusCode.DEADLINE_EXCEEDED, "storage stopped answering mid-stream") from None

    async def rename_file(
        self,
        file_id: str,
        new_name: str,
        preconditions: pb.Preconditions,
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> pb.FileInfo:
        """Rename; with `use_free_variant` (only if `capabilities().free_name_variants`) to the first free
        variant of `new_name`, chosen by storage in the same step."""
        request = pb.RenameFileRequest(
            file_id=file_id, new_name=new_name, preconditions=preconditions, use_free_variant=use_free_variant
        )
        return await self._call("RenameFile", request, principal)  # type: ignore[no-any-return]

    async def delete_file(self, file_id: str, preconditions: pb.Preconditions, principal: Principal) -> None:
        await self._call("DeleteFile", pb.DeleteFileRequest(file_id=file_id, preconditions=preconditions), principal)

    async def lookup_child(self, container_id: str, name: str, principal: Principal) -> pb.Item:
        request = pb.LookupChildRequest(container_id=container_id, name=name)
        return await self._call("LookupChild", request, principal)  # type: ignore[no-any-return]

    async def find_free_name(self, container_id: str, name: str, principal: Principal) -> str:
        """`name` or its first free variant, in one call (only if `capabilities().free_name_variants`).
        Advisory: nothing is reserved."""
        request = pb.FindFreeNameRequest(container_id=container_id, name=name)
        return (await self._call("FindFreeName", request, principal)).name  # type: ignore[no-any-return]

    # ---- locks ----

    async def lock(self, file_id: str, lock_id: str, ttl: int, principal: Principal) -> pb.FileInfo:
        request = pb.LockRequest(file_id=file_id, lock_id=lock_id, ttl={"seconds": ttl})
        return (await self._call("Lock", request, principal)).file  # type: ignore[no-any-return]

    async def refresh_lock(self, file_id: str, lock_id: str, ttl: int, principal: Principal) -> pb.FileInfo:
        request = pb.RefreshLockRequest(file_id=file_id, lock_id=lock_id, ttl={"seconds": ttl})
        return (await self._call("RefreshLock", request, principal)).file  # type: ignore[no-any-return]

    async def unlock(self, file_id: str, lock_id: str, principal: Principal) -> pb.FileInfo:
        request = pb.UnlockRequest(file_id=file_id, lock_id=lock_id)
        return (await self._call("Unlock", request, principal)).file  # type: ignore[no-any-return]

    async def unlock_and_relock(
        self, file_id: str, old_lock_id: str, lock_id: str, ttl: int, principal: Principal
    ) -> pb.FileInfo:
        request = pb.UnlockAndRelockRequest(
            file_id=file_id, old_lock_id=old_lock_id, lock_id=lock_id, ttl={"seconds": ttl}
        )
        return (await self._call("UnlockAndRelock", request, principal)).file  # type: ignore[no-any-return]

    async def get_lock(self, file_id: str, principal: Principal) -> pb.LockInfo:
        return await self._call("GetLock", pb.GetLockRequest(file_id=file_id), principal)  # type: ignore[no-any-return]

    # ---- containers ----

    async def root_container(self, principal: Principal) -> pb.ContainerInfo:
        return await self._call("GetRootContainer", pb.GetRootContainerRequest(), principal)  # type: ignore[no-any-return]

    async def get_container(self, container_id: str, principal: Principal) -> pb.ContainerInfo:
        return await self._call("GetContainer", pb.GetContainerRequest(container_id=container_id), principal)  # type: ignore[no-any-return]

    async def file_ancestors(self, file_id: str, principal: Principal) -> list[pb.ContainerInfo]:
        response = await self._call("GetAncestors", pb.GetAncestorsRequest(file_id=file_id), principal)
        return list(response.ancestors)

    # ---- per-user info ----

    async def get_user_info(self, principal: Principal) -> str:
        return (await self._call("GetUserInfo", pb.GetUserInfoRequest(), principal)).user_info  # type: ignore[no-any-return]

    async def set_user_info(self, user_info: str, principal: Principal) -> None:
        await self._call("SetUserInfo", pb.SetUserInfoRequest(user_info=user_info), principal)

    # ---- the file browser: listings, folders, versions ----

    async def list_children_page(
        self,
        container_id: str,
        principal: Principal,
        page_size: int,
        page_token: str = "",
        extensions: Sequence[str] = (),
    ) -> ChildrenPage:
        """One page of a container's children, in storage's order (ListChildrenPage: folders first, then files,
        each by name), files only with one of `extensions` if any. From an adapter without `paged_listing`, the
        first `page_size` children of the stream, in no particular order, and whether there were more (there is
        no next page to ask for then)."""
        if (await self.capabilities()).paged_listing:
            request = pb.ListChildrenPageRequest(
                container_id=container_id, page_size=page_size, page_token=page_token, file_extensions=extensions
            )
            answer = await self._call("ListChildrenPage", request, principal)
            return ChildrenPage(list(answer.items), answer.next_page_token)
        items: list[pb.Item] = []
        stream = self.list_children(container_id, principal, extensions)
        try:
            async for item in stream:
                if len(items) == page_size:
                    return ChildrenPage(items, truncated=True)
                items.append(item)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]  # cancels the call: the rest is never read
        return ChildrenPage(items)

    async def list_children(
        self, container_id: str, principal: Principal, extensions: Sequence[str] = ()
    ) -> AsyncIterator[pb.Item]:
        """The direct children of a container as storage streams them (in no particular order)."""
        request = pb.ListChildrenRequest(container_id=container_id, file_extensions=list(extensions))
        started, code = time.perf_counter(), grpc.StatusCode.OK
        call = self._stub.ListChildren(request, metadata=self._metadata(principal), timeout=self._stream_timeout)
        try:
            while True:
                item = await self._progress(call.read())
                if item is grpc.aio.EOF:
                    return
                yield item
        except grpc.aio.AioRpcError as error:
            code = error.code()
            raise StorageCallError.from_rpc(error) from None
        except StorageCallError as error:
            code = error.code
            raise
        except BaseException as error:
            code = _interrupted(error)
            raise
        finally:
            call.cancel()  # a no-op when the stream has ended
            self._ended("ListChildren", code, started)

    async def container_ancestors(self, container_id: str, principal: Principal) -> list[pb.ContainerInfo]:
        response = await self._call("GetAncestors", pb.GetAncestorsRequest(container_id=container_id), principal)
        return list(response.ancestors)

    async def create_container(self, parent_id: str, name: str, principal: Principal) -> pb.ContainerInfo:
        request = pb.CreateContainerRequest(parent_container_id=parent_id, name=name)
        return await self._call("CreateContainer", request, principal)  # type: ignore[no-any-return]

    async def rename_container(self, container_id: str, new_name: str, principal: Principal) -> pb.ContainerInfo:
        request = pb.RenameContainerRequest(container_id=container_id, new_name=new_name)
        return await self._call("RenameContainer", request, principal)  # type: ignore[no-any-return]

    async def delete_container(self, container_id: str, principal: Principal) -> None:
        await self._call("DeleteContainer", pb.DeleteContainerRequest(container_id=container_id), principal)

    async def list_versions(self, file_id: str, principal: Principal) -> list[pb.FileVersion]:
        """Earlier versions, newest first (the current one excluded); UNIMPLEMENTED without version history."""
        response = await self._call("ListVersions", pb.ListVersionsRequest(file_id=file_id), principal)
        return list(response.versions)

    # ---- sharing (Capabilities.access_control) ----

    async def list_grants(self, item: ItemRef, principal: Principal) -> list[pb.Grant]:
        """The item's own grants, then those it inherits from the folders above it (ListGrants)."""
        response = await self._call("ListGrants", pb.ListGrantsRequest(**item.fields()), principal)
        return list(response.grants)

    async def grant_access(self, item: ItemRef, grantee: pb.Grantee, role: pb.Role, principal: Principal) -> pb.Grant:
        request = pb.GrantAccessRequest(grantee=grantee, role=role, **item.fields())
        return await self._call("GrantAccess", request, principal)  # type: ignore[no-any-return]

    async def revoke_access(self, item: ItemRef, grantee: pb.Grantee, principal: Principal) -> None:
        await self._call("RevokeAccess", pb.RevokeAccessRequest(grantee=grantee, **item.fields()), principal)

    async def list_shared_with_me(
        self, principal: Principal, *, page_size: int = 0, page_token: str = ""
    ) -> pb.ListSharedWithMeResponse:
        """One page of what is shared with the principal, and the token of the next page ("" on the last)."""
        request = pb.ListSharedWithMeRequest(page_size=page_size, page_token=page_token)
        return await self._call("ListSharedWithMe", request, principal)  # type: ignore[no-any-return]

    # ---- activities (Capabilities.activities) ----

    async def add_activities(
        self, file_id: str, activities: list[pb.Activity], principal: Principal
    ) -> list[pb.Activity]:
        """Record 1 to 50 activities (WOPI AddActivities), all or nothing; each as storage recorded it, in request
        order (a retried id: as recorded the first time). Needs write on the file; UNIMPLEMENTED without the
        capability."""
        request = pb.AddActivitiesRequest(file_id=file_id, activities=activities)
        return list((await self._call("AddActivities", request, principal)).activities)

    async def list_activities(
        self, file_id: str, principal: Principal, page_size: int, page_token: str = ""
    ) -> tuple[list[pb.Activity], str]:
        """One page of the file's activities, newest first, and the next page's token ("" on the last)."""
        request = pb.ListActivitiesRequest(file_id=file_id, page_size=page_size, page_token=page_token)
        answer = await self._call("ListActivities", request, principal)
        return list(answer.activities), answer.next_page_token

    # ---- audit trail and lock administration (Capabilities.audit_trail, Capabilities.lock_administration) ----

    async def list_audit_events(
        self, item: ItemRef, principal: Principal, page_size: int, page_token: str = ""
    ) -> tuple[list[pb.AuditEvent], str]:
        """One page of the item's audit trail, newest first, and the next page's token ("" on the last). Needs read
        on the item; UNIMPLEMENTED without the capability."""
        request = pb.ListAuditEventsRequest(page_size=page_size, page_token=page_token, **item.fields())
        answer = await self._call("ListAuditEvents", request, principal)
        return list(answer.events), answer.next_page_token

    async def list_locked_files(
        self, principal: Principal, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[pb.FileInfo], str]:
        """One page of the files locked now across the store (an administrator's call: PERMISSION_DENIED for
        anyone else), and the next page's token ("" on the last)."""
        request = pb.ListLockedFilesRequest(page_size=page_size, page_token=page_token)
        answer = await self._call("ListLockedFiles", request, principal)
        return list(answer.files), answer.next_page_token

    async def break_lock(self, file_id: str, reason: str, principal: Principal) -> pb.FileInfo:
        """Remove the file's lock whoever holds it, recorded with `reason` (storage decides who may: manage_sharing
        on the file, or an administrator); the file after it, unlocked."""
        request = pb.BreakLockRequest(file_id=file_id, reason=reason)
        return (await self._call("BreakLock", request, principal)).file  # type: ignore[no-any-return]
