"""The POST operations on /wopi/containers/{container_id}, by X-WOPI-Override: CreateChildFile,
CreateChildContainer, RenameContainer, DeleteContainer and GetShareUrl (containers).

Names arrive UTF-7 encoded, as for files (relative.py). In *suggested* mode (X-WOPI-SuggestedTarget) a create
never fails for its name: the name is made legal and, if taken, replaced by its first free variant. In *specific*
mode (X-WOPI-RelativeTarget) the name is used as given, or the answer says why not: 400 for an illegal name,
409 for a taken one, each with X-WOPI-ValidRelativeTarget, a free legal name to retry with. A new file is always
empty: WOPI's CreateChildFile makes a zero-byte file (the client fills it with PutFile).

Storage checks every change as the token's user (access control) and atomically: a name taken meanwhile is 409,
never an overwrite; a container with children is 409 on delete.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wopi_frontend import names, utf7
from wopi_frontend.container_pointers import container_pointer
from wopi_frontend.context import WopiContext, context_of
from wopi_frontend.errors import BadRequest, Conflict, NotImplementedByHost, TokenRejected
from wopi_frontend.requests import authenticate_container, container_id_of, dispatch, header
from wopi_frontend.routes.relative import free_name, picks_free_names
from wopi_frontend.storage_client import StorageCallError
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import ContainerId, FileId, Permission, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

MAX_CREATE_ATTEMPTS = 3  # a suggested name lost to a concurrent create: found free again, at most this often
DEFAULT_STEM = "New document"  # a suggested target that is only an extension (".docx")

Operation = Callable[[Request, ContainerId, AccessToken], Awaitable[Response]]


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


def _target(request: Request) -> tuple[str | None, str | None]:
    """(suggested, specific): exactly one is given. Both: 501, as WOPI says; neither: 400."""
    suggested = header(request, "X-WOPI-SuggestedTarget")
    specific = header(request, "X-WOPI-RelativeTarget")
    if suggested is not None and specific is not None:
        raise NotImplementedByHost("X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget are mutually exclusive")
    if suggested is None and specific is None:
        raise BadRequest("send X-WOPI-SuggestedTarget or X-WOPI-RelativeTarget")
    return suggested, specific


def _suggested_name(value: str, *, extension_only_allowed: bool) -> str:
    """A suggested target made legal: never refused (undecodable UTF-7 is read as ASCII with replacements)."""
    try:
        wanted = utf7.decode(value)
    except utf7.InvalidName:
        wanted = value.encode("ascii", "replace").decode("ascii")
    if extension_only_allowed and wanted.startswith("."):
        wanted = DEFAULT_STEM + wanted
    return names.make_legal(wanted)


def _specific_name(value: str, error_header: str) -> str:
    try:
        return utf7.decode(value)
    except utf7.InvalidName as error:
        raise BadRequest(str(error), {error_header: str(error)}) from None


async def _taken(context: WopiContext, container_id: str, name: str, user: Principal, what: str) -> Conflict:
    alternative = await free_name(context, container_id, name, user)
    return Conflict(f"a {what} with this name exists", {"X-WOPI-ValidRelativeTarget": utf7.encode(alternative)})


# ---- CreateChildFile ----


async def create_child_file(request: Request, container_id: ContainerId, token: AccessToken) -> Response:
    context = context_of(request)
    suggested, specific = _target(request)
    if suggested is not None:
        info = await _create_suggested_file(
            context, container_id, _suggested_name(suggested, extension_only_allowed=True), token
        )
    else:
        assert specific is not None
        info = await _create_specific_file(
            request, context, container_id, _specific_name(specific, "X-WOPI-InvalidFileNameError"), token
        )
    return _new_file_response(context, info, token)


async def _create_suggested_file(
    context: WopiContext, container_id: str, wanted: str, token: AccessToken
) -> pb.FileInfo:
    if await picks_free_names(context):  # storage picks the free variant in the same step
        try:
            return await context.storage.create_file(
                container_id, wanted, _nothing(), token.user, use_free_variant=True
            )
        except StorageCallError as error:
            if error.code == grpc.StatusCode.ALREADY_EXISTS:  # the name and all its variants are taken
                raise Conflict("no free name found") from None
            raise
    for _ in range(MAX_CREATE_ATTEMPTS):
        name = await free_name(context, container_id, wanted, token.user)
        try:
            return await context.storage.create_file(container_id, name, _nothing(), token.user)
        except StorageCallError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:  # lost a race for the name: look again
                raise
    raise Conflict("no free name found")


async def _create_specific_file(
    request: Request, context: WopiContext, container_id: str, name: str, token: AccessToken
) -> pb.FileInfo:
    reason = names.problem(name)
    if reason is not None:
        legal = await free_name(context, container_id, names.make_legal(name), token.user)
        raise BadRequest(
            reason, {"X-WOPI-InvalidFileNameError": reason, "X-WOPI-ValidRelativeTarget": utf7.encode(legal)}
        )
    try:
        return await context.storage.create_file(container_id, name, _nothing(), token.user)
    except StorageCallError as error:
        if error.code != grpc.StatusCode.ALREADY_EXISTS:
            raise
    overwrite = (header(request, "X-WOPI-OverwriteRelativeTarget") or "false").strip().lower() == "true"
    existing = await context.storage.lookup_child(container_id, name, token.user)
    if not overwrite or not existing.HasField("file"):
        raise await _taken(context, container_id, name, token.user, "file")
    # Overwritten with nothing, as WOPI says ("the resulting file must be zero bytes"), unless it is locked:
    # storage refuses a locked file to a writer holding no lock, atomically with the write.
    target = existing.file
    preconditions = pb.Preconditions(lock=pb.LockPrecondition(when_unlocked=pb.WHEN_UNLOCKED_ALLOW))
    try:
        return await context.storage.write_file(target.file_id, preconditions, _nothing(), token.user)
    except StorageCallError as error:
        if error.code == grpc.StatusCode.PERMISSION_DENIED:
            raise NotImplementedByHost("this user may not overwrite the file") from None
        conflict = error.detail(pb.LockConflict)
        if conflict is None:
            raise
        reason = "the target file exists and is locked"
        raise Conflict(
            reason, {"X-WOPI-Lock": conflict.current_lock.lock_id, "X-WOPI-LockFailureReason": reason}
        ) from None


def _new_file_response(context: WopiContext, info: pb.FileInfo, token: AccessToken) -> Response:
    """Name, Url (the new file's WOPISrc with a token traded from the container's), and its host pages."""
    traded = context.tokens.trade(token, file_id=FileId(info.file_id))
    return JSONResponse(
        {
            "Name": info.name,
            "Url": f"{context.wopi_src(info.file_id)}?access_token={traded}",
            "HostViewUrl": context.host_page_url(info.file_id, "view"),
            "HostEditUrl": context.host_page_url(info.file_id, "edit"),
            "HostEditNewUrl": context.host_page_url(info.file_id, "editnew"),
        }
    )


# ---- CreateChildContainer ----


async def create_child_container(request: Request, container_id: ContainerId, token: AccessToken) -> Response:
    context = context_of(request)
    caps = await context.storage.capabilities()
    if not caps.containers:
        raise NotImplementedByHost("this storage keeps no containers")
    suggested, specific = _target(request)
    if suggested is not None:
        info = await _create_suggested_container(
            context, container_id, _suggested_name(suggested, extension_only_allowed=False), token
        )
    else:
        assert specific is not None
        name = _specific_name(specific, "X-WOPI-InvalidContainerNameError")
        reason = names.problem(name)
        if reason is not None:
            legal = await free_name(context, container_id, names.make_legal(name), token.user)
            raise BadRequest(
                reason, {"X-WOPI-InvalidContainerNameError": reason, "X-WOPI-ValidRelativeTarget": utf7.encode(legal)}
            )
        try:
            info = await context.storage.create_container(container_id, name, token.user)
        except StorageCallError as error:
            if error.code == grpc.StatusCode.ALREADY_EXISTS:
                raise await _taken(context, container_id, name, token.user, "container") from None
            raise
    return JSONResponse({"ContainerPointer": container_pointer(context, info, token)})


async def _create_suggested_container(
    context: WopiContext, container_id: str, wanted: str, token: AccessToken
) -> pb.ContainerInfo:
    for _ in range(MAX_CREATE_ATTEMPTS):
        name = await free_name(context, container_id, wanted, token.user)
        try:
            return await context.storage.create_container(container_id, name, token.user)
        except StorageCallError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:  # lost a race for the name: look again
                raise
    raise Conflict("no free name found")


# ---- RenameContainer, DeleteContainer, GetShareUrl ----


async def rename_container(request: Request, container_id: ContainerId, token: AccessToken) -> Response:
    context = context_of(request)
    if not (await context.storage.capabilities()).containers:
        raise NotImplementedByHost("this storage keeps no containers")
    requested = header(request, "X-WOPI-RequestedName")
    if requested is None:
        raise BadRequest("X-WOPI-RequestedName is missing")
    name = _specific_name(requested, "X-WOPI-InvalidContainerNameError")
    reason = names.problem(name)
    if reason is not None:
        raise BadRequest(reason, {"X-WOPI-InvalidContainerNameError": reason})
    try:
        renamed = await context.storage.rename_container(container_id, name, token.user)
    except StorageCallError as error:
        if error.code == grpc.StatusCode.INVALID_ARGUMENT:
            raise BadRequest(error.message, {"X-WOPI-InvalidContainerNameError": error.message}) from None
        raise
    return JSONResponse({"Name": renamed.name})


async def delete_container(request: Request, container_id: ContainerId, token: AccessToken) -> Response:
    context = context_of(request)
    if not (await context.storage.capabilities()).containers:
        raise NotImplementedByHost("this storage keeps no containers")
    await context.storage.delete_container(container_id, token.user)  # 409 when it has children
    return Response()


async def get_share_url(request: Request, container_id: ContainerId, token: AccessToken) -> Response:
    """The file browser's page of the container: whoever opens it sees it as storage lets them."""
    url_type = header(request, "X-WOPI-UrlType")
    needed = {"ReadOnly": Permission.VIEW, "ReadWrite": Permission.EDIT}.get(url_type or "")
    if needed is None:
        raise NotImplementedByHost("X-WOPI-UrlType must be ReadOnly or ReadWrite")
    if not token.allows(needed):
        raise TokenRejected(f"the access token does not grant {needed.value}")
    context = context_of(request)
    await context.storage.get_container(container_id, token.user)  # 404 for a container that is gone or unseen
    return JSONResponse({"ShareUrl": context.browser_url(container_id)})


# X-WOPI-Override -> (permission the token must grant, operation)
OPERATIONS: dict[str, tuple[Permission, Operation]] = {
    "CREATE_CHILD_FILE": (Permission.CREATE, create_child_file),
    "CREATE_CHILD_CONTAINER": (Permission.CREATE, create_child_container),
    "RENAME_CONTAINER": (Permission.RENAME, rename_container),
    "DELETE_CONTAINER": (Permission.DELETE, delete_container),
    "GET_SHARE_URL": (Permission.VIEW, get_share_url),
}


async def post_container(request: Request) -> Response:
    return await dispatch(request, container_id_of(request), OPERATIONS, authenticate_container)
