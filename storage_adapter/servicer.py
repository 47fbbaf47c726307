"""The gRPC servicer: converts requests to domain calls on one `StorageBackend`, and results back.

This is the only module with the proto's PascalCase RPC names. It validates every request field before the
backend sees it; errors raised here or in the backend are mapped to statuses by `interceptors.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import grpc

from storage_adapter import (
    access,
    activities,
    audit,
    content_wire,
    convert,
    listing,
    locked_files,
    principal,
    validation,
)
from storage_adapter.backends.base import StorageBackend
from storage_adapter.errors import InvalidArgument, StorageError, TooLarge, Unsupported
from storage_adapter.metrics import READ_BYTES, WRITTEN_BYTES
from storage_adapter.streams import DEFAULT_IDLE_TIMEOUT, ContentStream, StreamIdle
from storage_adapter.types import ContainerId, Principal, Version
from storage_adapter.write_gate import UploadGate
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext


def _principal(*, required: bool = False) -> Principal:
    """The call's principal (parsed once, by the interceptor), to record as owner or author; its groups only
    decide access (access.current_principal)."""
    caller = access.current_principal()
    if required:
        principal.required(caller)
    return dataclasses.replace(caller, groups=frozenset())


ItemRequest = pb.ListGrantsRequest | pb.GrantAccessRequest | pb.RevokeAccessRequest | pb.ListAuditEventsRequest


def _item_named(request: ItemRequest) -> tuple[str, bool]:
    """The file or container a sharing or audit request names, validated, and whether it is a file."""
    match request.WhichOneof("item"):
        case "file_id":
            return validation.file_id(request.file_id), True
        case "container_id":
            return validation.container_id(request.container_id), False
    raise InvalidArgument("item", "give a file_id or a container_id")


class StorageServicer(pb_grpc.StorageServiceServicer):
    def __init__(
        self,
        backend: StorageBackend,
        *,
        gate: UploadGate | None = None,
        stream_idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.backend = backend
        self.caps = backend.capabilities
        self.gate = gate or UploadGate()  # a bounded number of uploads at once (write_gate.py)
        self.stream_idle_timeout = stream_idle_timeout

    async def GetCapabilities(self, request: pb.GetCapabilitiesRequest, context: Context) -> pb.Capabilities:
        answer = convert.capabilities(self.caps)
        answer.file_context = True  # GetFileContext is served here, for every backend (StorageBackend.file_context)
        answer.paged_listing = True  # every backend implements StorageBackend.list_children_page
        return answer

    # ---- files ----

    async def StatFile(self, request: pb.StatFileRequest, context: Context) -> pb.FileInfo:
        return convert.file_info(await self.backend.stat_file(validation.file_id(request.file_id)))

    async def GetFileContext(self, request: pb.GetFileContextRequest, context: Context) -> pb.FileContext:
        file_id = validation.file_id(request.file_id)
        # Only the user id (whose user info): the principal as bound, without the copy `_principal` makes.
        found = await self.backend.file_context(
            file_id, access.current_principal().user_id, with_container=request.include_container_permissions
        )
        answer = pb.FileContext(file=convert.file_info(found.file), user_info=found.user_info)
        if found.container_permissions is not None:
            answer.container_permissions.CopyFrom(convert.permissions(found.container_permissions))
        return answer

    async def ReadFile(self, request: pb.ReadFileRequest, context: Context) -> AsyncIterator[bytes]:
        """Each message is encoded ReadFileResponse bytes (content_wire.py): one copy of each chunk."""
        file_id = validation.file_id(request.file_id)
        if request.offset < 0:
            raise InvalidArgument("offset", "the offset is negative")
        if request.length < 0:
            raise InvalidArgument("length", "the length is negative")
        version = Version(request.version) if request.version else None
        if version is not None and not self.caps.version_history:
            raise Unsupported("this adapter keeps no version history")
        reader = await self.backend.open_file(file_id, request.offset, request.length, version)
        info: bytes | None = convert.file_info(reader.meta).SerializeToString()  # in the first message only
        sent = 0
        try:
            async for chunk in reader.chunks:
                yield content_wire.read_response(chunk, info)
                info = None
                sent += len(chunk)
        finally:
            await reader.chunks.aclose()  # type: ignore[attr-defined]
            READ_BYTES.inc(sent)  # once per call, also for a read cut short: what was sent
        if info is not None:
            yield content_wire.read_response(b"", info)

    async def WriteFile(self, request_iterator: AsyncIterator[pb.WriteFileRequest], context: Context) -> pb.FileInfo:
        stream: ContentStream[pb.WriteFileHeader] = ContentStream(request_iterator, self.caps, self.stream_idle_timeout)
        try:
            header = await stream.header()
            file_id = validation.file_id(header.file_id, "header.file_id")
            preconditions = convert.preconditions(header.preconditions, self.caps, "header.preconditions")
            async with self.gate.upload():  # passed before the backend opens anything for the upload
                meta = await self.backend.write_file(file_id, preconditions, stream.chunks(), _principal())
        except StorageError:
            await stream.drain()
            raise
        except StreamIdle as idle:  # the backend has discarded what it received
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(idle))
        WRITTEN_BYTES.inc(meta.size)
        return convert.file_info(meta)

    async def CreateFile(self, request_iterator: AsyncIterator[pb.CreateFileRequest], context: Context) -> pb.FileInfo:
        idle_timeout = self.stream_idle_timeout
        stream: ContentStream[pb.CreateFileHeader] = ContentStream(request_iterator, self.caps, idle_timeout)
        try:
            owner = _principal(required=True)
            header = await stream.header()
            container_id = validation.container_id(header.container_id, "header.container_id")
            name = validation.name(header.name, self.caps, "header.name")
            use_free_variant = self._free_variant(header.use_free_variant)
            async with self.gate.upload():
                meta = await self.backend.create_file(
                    container_id, name, stream.chunks(), owner, use_free_variant=use_free_variant
                )
        except StorageError:
            await stream.drain()
            raise
        except StreamIdle as idle:  # the backend has discarded what it received
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(idle))
        WRITTEN_BYTES.inc(meta.size)
        return convert.file_info(meta)

    async def RenameFile(self, request: pb.RenameFileRequest, context: Context) -> pb.FileInfo:
        meta = await self.backend.rename_file(
            validation.file_id(request.file_id),
            validation.name(request.new_name, self.caps, "new_name"),
            convert.preconditions(request.preconditions, self.caps, "preconditions"),
            _principal(),
            use_free_variant=self._free_variant(request.use_free_variant),
        )
        return convert.file_info(meta)

    async def DeleteFile(self, request: pb.DeleteFileRequest, context: Context) -> pb.DeleteFileResponse:
        await self.backend.delete_file(
            validation.file_id(request.file_id),
            convert.preconditions(request.preconditions, self.caps, "preconditions"),
        )
        return pb.DeleteFileResponse()

    async def LookupChild(self, request: pb.LookupChildRequest, context: Context) -> pb.Item:
        item = await self.backend.lookup_child(
            validation.container_id(request.container_id), validation.name(request.name, self.caps)
        )
        return convert.item(item)

    async def FindFreeName(self, request: pb.FindFreeNameRequest, context: Context) -> pb.FindFreeNameResponse:
        if not self.caps.free_name_variants:
            raise Unsupported("this adapter does not choose free name variants")
        name = await self.backend.find_free_name(
            validation.container_id(request.container_id), validation.name(request.name, self.caps)
        )
        return pb.FindFreeNameResponse(name=name)

    # ---- locks ----

    async def Lock(self, request: pb.LockRequest, context: Context) -> pb.LockResponse:
        meta = await self.backend.lock(
            validation.file_id(request.file_id),
            validation.lock_id(request.lock_id, self.caps),
            validation.ttl(request.ttl.ToTimedelta(), self.caps),
            _principal(),
        )
        return pb.LockResponse(file=convert.file_info(meta))

    async def RefreshLock(self, request: pb.RefreshLockRequest, context: Context) -> pb.LockResponse:
        meta = await self.backend.refresh_lock(
            validation.file_id(request.file_id),
            validation.lock_id(request.lock_id, self.caps),
            validation.ttl(request.ttl.ToTimedelta(), self.caps),
        )
        return pb.LockResponse(file=convert.file_info(meta))

    async def Unlock(self, request: pb.UnlockRequest, context: Context) -> pb.LockResponse:
        meta = await self.backend.unlock(
            validation.file_id(request.file_id), validation.lock_id(request.lock_id, self.caps)
        )
        return pb.LockResponse(file=convert.file_info(meta))

    async def UnlockAndRelock(self, request: pb.UnlockAndRelockRequest, context: Context) -> pb.LockResponse:
        meta = await self.backend.unlock_and_relock(
            validation.file_id(request.file_id),
            validation.lock_id(request.old_lock_id, self.caps, "old_lock_id"),
            validation.lock_id(request.lock_id, self.caps),
            validation.ttl(request.ttl.ToTimedelta(), self.caps),
            _principal(),
        )
        return pb.LockResponse(file=convert.file_info(meta))

    async def GetLock(self, request: pb.GetLockRequest, context: Context) -> pb.LockInfo:
        return convert.lock_info(await self.backend.get_lock(validation.file_id(request.file_id)))

    # ---- containers ----

    async def GetRootContainer(self, request: pb.GetRootContainerRequest, context: Context) -> pb.ContainerInfo:
        return convert.container_info(await self.backend.root_container())

    async def GetContainer(self, request: pb.GetContainerRequest, context: Context) -> pb.ContainerInfo:
        return convert.container_info(await self.backend.get_container(validation.container_id(request.container_id)))

    async def ListChildren(self, request: pb.ListChildrenRequest, context: Context) -> AsyncIterator[pb.Item]:
        container_id = validation.container_id(request.container_id)
        extensions = frozenset(validation.extension(value) for value in request.file_extensions)
        async for item in self.backend.list_children(container_id, extensions):  # read one page at a time
            yield convert.item(item)

    async def ListChildrenPage(
        self, request: pb.ListChildrenPageRequest, context: Context
    ) -> pb.ListChildrenPageResponse:
        container_id = validation.container_id(request.container_id)
        extensions = frozenset(validation.extension(value) for value in request.file_extensions)
        size = listing.page_size(request.page_size)
        if len(request.page_token) > listing.MAX_TOKEN_LENGTH:
            raise InvalidArgument("page_token", "not a page token of this adapter for this container")
        page = await self.backend.list_children_page(container_id, extensions, size, request.page_token)
        return pb.ListChildrenPageResponse(
            items=[convert.item(item) for item in page.items], next_page_token=page.next_token
        )

    async def CreateContainer(self, request: pb.CreateContainerRequest, context: Context) -> pb.ContainerInfo:
        self._require_containers()
        parent_id = validation.container_id(request.parent_container_id, "parent_container_id")
        name = validation.name(request.name, self.caps)
        await self._require_depth_below_limit(parent_id)
        container = await self.backend.create_container(parent_id, name, _principal())
        return convert.container_info(container)

    async def RenameContainer(self, request: pb.RenameContainerRequest, context: Context) -> pb.ContainerInfo:
        self._require_containers()
        container = await self.backend.rename_container(
            validation.container_id(request.container_id), validation.name(request.new_name, self.caps, "new_name")
        )
        return convert.container_info(container)

    async def DeleteContainer(self, request: pb.DeleteContainerRequest, context: Context) -> pb.DeleteContainerResponse:
        self._require_containers()
        await self.backend.delete_container(validation.container_id(request.container_id))
        return pb.DeleteContainerResponse()

    async def GetAncestors(self, request: pb.GetAncestorsRequest, context: Context) -> pb.GetAncestorsResponse:
        match request.WhichOneof("item"):
            case "file_id":
                chain = await self.backend.ancestors(validation.file_id(request.file_id), is_file=True)
            case "container_id":
                chain = await self.backend.ancestors(validation.container_id(request.container_id), is_file=False)
            case _:
                raise InvalidArgument("item", "give a file_id or a container_id")
        return pb.GetAncestorsResponse(ancestors=[convert.container_info(container) for container in chain])

    # ---- per-user info ----

    async def GetUserInfo(self, request: pb.GetUserInfoRequest, context: Context) -> pb.UserInfo:
        user = _principal(required=True)
        return pb.UserInfo(user_info=await self.backend.get_user_info(user.user_id))

    async def SetUserInfo(self, request: pb.SetUserInfoRequest, context: Context) -> pb.UserInfo:
        user = _principal(required=True)
        user_info = validation.user_info(request.user_info, self.caps)
        await self.backend.set_user_info(user.user_id, user_info)
        return pb.UserInfo(user_info=user_info)

    # ---- version history ----

    async def ListVersions(self, request: pb.ListVersionsRequest, context: Context) -> pb.ListVersionsResponse:
        self._require_history()
        versions = await self.backend.list_versions(validation.file_id(request.file_id))
        return pb.ListVersionsResponse(versions=[convert.file_version(version) for version in versions])

    async def RestoreVersion(self, request: pb.RestoreVersionRequest, context: Context) -> pb.FileInfo:
        self._require_history()
        if not request.version or len(request.version) > 256:
            raise InvalidArgument("version", "a version is 1-256 characters")
        meta = await self.backend.restore_version(
            validation.file_id(request.file_id),
            Version(request.version),
            convert.preconditions(request.preconditions, self.caps, "preconditions"),
            _principal(),
        )
        return convert.file_info(meta)

    # ---- sharing ----

    async def ListGrants(self, request: pb.ListGrantsRequest, context: Context) -> pb.ListGrantsResponse:
        self._require_access_control()
        grants = await self.backend.list_grants(*_item_named(request))
        return pb.ListGrantsResponse(grants=[convert.grant(grant) for grant in grants])

    async def GrantAccess(self, request: pb.GrantAccessRequest, context: Context) -> pb.Grant:
        self._require_access_control()
        item, is_file = _item_named(request)
        grantee, role = convert.grantee(request.grantee), convert.role(request.role)
        return convert.grant(await self.backend.grant_access(item, is_file, grantee, role, _principal()))

    async def RevokeAccess(self, request: pb.RevokeAccessRequest, context: Context) -> pb.RevokeAccessResponse:
        self._require_access_control()
        item, is_file = _item_named(request)
        await self.backend.revoke_access(item, is_file, convert.grantee(request.grantee))
        return pb.RevokeAccessResponse()

    async def ListSharedWithMe(
        self, request: pb.ListSharedWithMeRequest, context: Context
    ) -> pb.ListSharedWithMeResponse:
        self._require_access_control()
        if len(request.page_token) > 1024:
            raise InvalidArgument("page_token", "not a page token of this adapter")
        entries, next_token = await self.backend.list_shared_with_me(
            access.page_size(request.page_size), request.page_token
        )
        shared = [pb.SharedItem(item=convert.item(item), grant=convert.grant(grant)) for item, grant in entries]
        return pb.ListSharedWithMeResponse(items=shared, next_page_token=next_token)

    # ---- activities ----

    async def AddActivities(self, request: pb.AddActivitiesRequest, context: Context) -> pb.AddActivitiesResponse:
        self._require_activities()
        actor = _principal(required=True)  # storage records who added them, on every adapter
        file_id = validation.file_id(request.file_id)
        requested = activities.requested(request.activities)  # every bound, before the backend sees any
        recorded = await self.backend.add_activities(file_id, requested, actor)
        return pb.AddActivitiesResponse(activities=[convert.activity(activity) for activity in recorded])

    async def ListActivities(self, request: pb.ListActivitiesRequest, context: Context) -> pb.ListActivitiesResponse:
        self._require_activities()
        file_id = validation.file_id(request.file_id)
        size = activities.page_size(request.page_size)
        page = await self.backend.list_activities(file_id, size, activities.page_before(request.page_token, file_id))
        return pb.ListActivitiesResponse(
            activities=[convert.activity(activity) for activity in page.activities],
            next_page_token=activities.page_token(file_id, page.last) if page.last is not None else "",
        )

    # ---- audit trail and lock administration ----

    async def ListAuditEvents(self, request: pb.ListAuditEventsRequest, context: Context) -> pb.ListAuditEventsResponse:
        self._require(self.caps.audit_trail, "this adapter keeps no audit trail")
        item_id, is_file = _item_named(request)
        size = audit.page_size(request.page_size)
        before = audit.page_before(request.page_token, item_id)
        page = await self.backend.list_audit_events(item_id, is_file, size, before)  # type: ignore[arg-type]
        return pb.ListAuditEventsResponse(
            events=[convert.audit_event(event) for event in page.events],
            next_page_token=audit.page_token(item_id, page.last) if page.last is not None else "",
        )

    async def ListLockedFiles(self, request: pb.ListLockedFilesRequest, context: Context) -> pb.ListLockedFilesResponse:
        self._require(self.caps.lock_administration, "this adapter has no lock administration")
        access.require_admin(access.current_principal(), self.backend.policy)  # before anything is read
        size = locked_files.page_size(request.page_size)
        page = await self.backend.list_locked_files(size, locked_files.page_after(request.page_token))
        return pb.ListLockedFilesResponse(
            files=[convert.file_info(meta) for meta in page.files],
            next_page_token=locked_files.page_token(page.after) if page.after is not None else "",
        )

    async def BreakLock(self, request: pb.BreakLockRequest, context: Context) -> pb.LockResponse:
        self._require(self.caps.lock_administration, "this adapter has no lock administration")
        file_id = validation.file_id(request.file_id)
        reason = audit.reason(request.reason)
        if not self.caps.access_control:  # nobody holds manage_sharing here: administrators only
            access.require_admin(access.current_principal(), self.backend.policy)
        meta = await self.backend.break_lock(file_id, reason)
        return pb.LockResponse(file=convert.file_info(meta))

    def _require(self, capability: bool, otherwise: str) -> None:
        if not capability:
            raise Unsupported(otherwise)

    def _require_activities(self) -> None:
        if not self.caps.activities:
            raise Unsupported("this adapter keeps no activities")

    def _require_access_control(self) -> None:
        if not self.caps.access_control:
            raise Unsupported("this adapter does not enforce access control")

    def _free_variant(self, requested: bool) -> bool:
        """An adapter without the capability behaves as one that predates the field: it ignores it."""
        return requested and self.caps.free_name_variants

    async def _require_depth_below_limit(self, parent_id: ContainerId) -> None:
        """RESOURCE_EXHAUSTED if a container made in `parent_id` would be deeper than `max_container_depth`: the
        one place the limit is applied, for every backend. Checked before the create rather than with it, as no
        RPC moves a container: a parent's depth does not change meanwhile."""
        limit = self.caps.max_container_depth
        if limit and await self.backend.container_depth(parent_id) >= limit:  # the parent's depth
            raise TooLarge(f"a new container there would be deeper than the limit of {limit} levels")

    def _require_containers(self) -> None:
        if not self.caps.containers:
            raise Unsupported("this adapter has only the root container")

    def _require_history(self) -> None:
        if not self.caps.version_history:
            raise Unsupported("this adapter keeps no version history")
