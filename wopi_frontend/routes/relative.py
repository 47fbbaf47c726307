"""PutRelativeFile and RenameFile: the operations that choose names.

Names arrive UTF-7 encoded. PutRelativeFile in suggested mode must always succeed with some legal, free name;
in exact mode it uses the name as given or says why not (400/409, with X-WOPI-ValidRelativeTarget to retry).

Free names cost one storage call whatever the folder holds: storage picks the first free 'name (n).ext' itself,
atomically with the create or rename (`use_free_variant`), or answers FindFreeName for a suggestion. Only an
adapter without `free_name_variants` gets the old bounded search, one LookupChild per candidate.

The token is for the source file, never for the target: a 409 about a locked target never carries that file's
lock id (X-WOPI-Lock is left out; the WOPI client learns the target is locked from X-WOPI-LockFailureReason).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wopi_frontend import names, storage_permissions, utf7
from wopi_frontend.checkfileinfo import last_modified
from wopi_frontend.client_profiles import answers_last_modified
from wopi_frontend.context import WopiContext, context_of
from wopi_frontend.errors import BadRequest, Conflict, NotImplementedByHost, TooLarge, WopiError
from wopi_frontend.requests import body_chunks, header, lock_header, non_negative_int
from wopi_frontend.storage_client import StorageCallError
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import FileId, Permission, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

MAX_NAME_ATTEMPTS = 100  # without free_name_variants only: LookupChild or RenameFile calls per request
MAX_CREATE_ATTEMPTS = 3  # without free_name_variants only: searches again after losing a race for the name


async def picks_free_names(context: WopiContext) -> bool:
    return (await context.storage.capabilities()).free_name_variants


async def free_name(context: WopiContext, container_id: str, wanted: str, user: Principal) -> str:
    """`wanted`, or the first free 'wanted (n)' variant, as a suggestion (nothing is reserved)."""
    if await picks_free_names(context):
        try:
            return await context.storage.find_free_name(container_id, wanted, user)
        except StorageCallError as error:
            if error.code == grpc.StatusCode.ALREADY_EXISTS:
                raise Conflict("no free name found") from None
            raise
    for number in range(1, MAX_NAME_ATTEMPTS + 1):
        candidate = wanted if number == 1 else names.variant(wanted, number)
        try:
            await context.storage.lookup_child(container_id, candidate, user)
        except StorageCallError as error:
            if error.code == grpc.StatusCode.NOT_FOUND:
                return candidate
            raise
    raise Conflict("no free name found")


async def _create_with_contents(
    context: WopiContext,
    container_id: str,
    name: str,
    chunks: AsyncIterator[bytes],
    token: AccessToken,
    *,
    use_free_variant: bool = False,
) -> pb.FileInfo:
    """Create `name` exclusively (or, with `use_free_variant`, its first free variant), then stream the body in.

    The name is claimed first with an empty file, so that losing a race for it costs no upload (a body can be
    read only once); the contents then go in guarded by the new file's version. If the upload fails, the
    claimed file is removed again."""
    created = await context.storage.create_file(
        container_id, name, _nothing(), token.user, use_free_variant=use_free_variant
    )
    guard = pb.Preconditions(if_version=created.version)
    try:
        return await context.storage.write_file(created.file_id, guard, chunks, token.user)
    except BaseException:
        with contextlib.suppress(StorageCallError):
            await context.storage.delete_file(created.file_id, pb.Preconditions(), token.user)
        raise


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


async def _relative_response(context: WopiContext, info: pb.FileInfo, token: AccessToken, request: Request) -> Response:
    """The new token is for the new (or overwritten) file: never more than the old token grants, nor more than
    storage lets this user do with that file (its FileInfo, from the write, carries the user's permissions)."""
    caps = await context.storage.capabilities()
    allowed = storage_permissions.effective(token.permissions, caps, info)
    if caps.access_control and token.allows(Permission.CREATE):
        # CREATE is about the folder, not the file: the same folder the old token created beside (storage still
        # checks create_children on every later create)
        allowed |= {Permission.CREATE}
    new_token, _claims = context.tokens.issue(token.user, FileId(info.file_id), allowed, not_after_ms=token.expires_ms)
    document = {
        "Name": info.name,
        "Url": f"{context.wopi_src(info.file_id)}?access_token={new_token}",
        "HostViewUrl": context.host_page_url(info.file_id, "view"),
        "HostEditUrl": context.host_page_url(info.file_id, "edit"),
    }
    if answers_last_modified(context.client_profile, request.headers):
        document["LastModifiedTime"] = last_modified(info)  # Collabora and ONLYOFFICE keep it for their next save
    return JSONResponse(document)


async def put_relative_file(request: Request, file_id: FileId, token: AccessToken) -> Response:
    context = context_of(request)
    if not token.allows(Permission.CREATE):
        raise NotImplementedByHost("this user may not create files here (UserCanNotWriteRelative)")
    suggested = header(request, "X-WOPI-SuggestedTarget")
    relative = header(request, "X-WOPI-RelativeTarget")
    if (suggested is None) == (relative is None):
        raise BadRequest("send exactly one of X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget")
    declared_size = non_negative_int(request, "X-WOPI-Size")
    if declared_size is not None and declared_size > context.settings.max_file_size:
        raise TooLarge(f"the file is larger than {context.settings.max_file_size} bytes")
    source = await context.storage.stat_file(file_id, token.user)
    container_id = source.parent_container_id
    chunks = body_chunks(request, context.settings.max_file_size)

    if suggested is not None:
        try:
            wanted = utf7.decode(suggested)
        except utf7.InvalidName:
            wanted = suggested.encode("ascii", "replace").decode("ascii")
        if wanted.startswith("."):
            wanted = names.split_extension(source.name)[0] + wanted
        wanted = names.make_legal(wanted)
        if await picks_free_names(context):  # one call: storage picks the free name as it creates the file
            try:
                info = await _create_with_contents(context, container_id, wanted, chunks, token, use_free_variant=True)
            except StorageCallError as error:
                if error.code == grpc.StatusCode.ALREADY_EXISTS:  # the name and all its variants are taken
                    raise Conflict("no free name found") from None
                raise
            return await _relative_response(context, info, token, request)
        for _ in range(MAX_CREATE_ATTEMPTS):
            name = await free_name(context, container_id, wanted, token.user)
            try:
                info = await _create_with_contents(context, container_id, name, chunks, token)
                return await _relative_response(context, info, token, request)
            except StorageCallError as error:
                if error.code != grpc.StatusCode.ALREADY_EXISTS:  # someone took the name meanwhile: try again
                    raise
        raise Conflict("no free name found")

    assert relative is not None
    try:
        name = utf7.decode(relative)
    except utf7.InvalidName as error:
        raise BadRequest(str(error)) from None
    reason = names.problem(name)
    if reason is not None:
        legal = await free_name(context, container_id, names.make_legal(name), token.user)
        raise BadRequest(reason, {"X-WOPI-ValidRelativeTarget": utf7.encode(legal)})
    overwrite = (header(request, "X-WOPI-OverwriteRelativeTarget") or "false").strip().lower() == "true"
    try:
        existing = await context.storage.lookup_child(container_id, name, token.user)
    except StorageCallError as error:
        if error.code != grpc.StatusCode.NOT_FOUND:
            raise
        existing = None
    if existing is None:
        try:
            info = await _create_with_contents(context, container_id, name, chunks, token)
        except StorageCallError as error:
            if error.code == grpc.StatusCode.ALREADY_EXISTS:
                raise await _name_taken(context, container_id, name, token.user) from None
            raise
        return await _relative_response(context, info, token, request)
    target = existing.file if existing.HasField("file") else None
    if target is None or not overwrite or not await _may_overwrite(context, target, token):
        raise await _name_taken(context, container_id, name, token.user)
    # Overwrite: like a PutFile that holds no lock, so storage refuses a locked target (atomically).
    preconditions = pb.Preconditions(lock=pb.LockPrecondition(when_unlocked=pb.WHEN_UNLOCKED_ALLOW))
    try:
        info = await context.storage.write_file(target.file_id, preconditions, chunks, token.user)
    except StorageCallError as error:
        if target.file_id == file_id:  # the token's own file: as PutFile
            raise
        if error.code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):
            # storage refused this user the target (access control), nothing written: as for a name taken
            raise await _name_taken(context, container_id, name, token.user) from None
        if error.detail(pb.LockConflict) is None:
            raise
        raise await _name_taken(context, container_id, name, token.user, locked=True) from None
    return await _relative_response(context, info, token, request)


async def _may_overwrite(context: WopiContext, target: pb.FileInfo, token: AccessToken) -> bool:
    """Whether this user may replace `target`. With access control, storage decides atomically as the WriteFile
    runs (as this user); the answer here is only whether to try. Without it, the token is for another file and
    says nothing about this one (the review's finding: an edit token for one document overwrote a sibling), so
    only the user's own files may be overwritten: those whose owner is this user."""
    if target.file_id == token.file_id or (await context.storage.capabilities()).access_control:
        return True
    return bool(target.owner.user_id) and target.owner.user_id == token.user.user_id


async def _name_taken(
    context: WopiContext, container_id: str, name: str, user: Principal, *, locked: bool = False
) -> WopiError:
    """409 for a taken target name, with a free one to retry with. Never the target's lock id: the token is not
    for that file (WOPI would send it in X-WOPI-Lock; we leave the header out)."""
    alternative = {"X-WOPI-ValidRelativeTarget": utf7.encode(await free_name(context, container_id, name, user))}
    if locked:
        reason = "the target file exists and is locked"
        return Conflict(reason, {"X-WOPI-LockFailureReason": reason, **alternative})
    return Conflict("a file with this name exists", alternative)


async def rename_file(request: Request, file_id: FileId, token: AccessToken) -> Response:
    """The requested name comes without extension; the file keeps its extension, id and WOPISrc."""
    context = context_of(request)
    requested = header(request, "X-WOPI-RequestedName")
    if requested is None:
        raise BadRequest("X-WOPI-RequestedName is missing")
    held = lock_header(request, required=False)
    try:
        stem = utf7.decode(requested)
    except utf7.InvalidName as error:
        raise BadRequest(str(error), {"X-WOPI-InvalidFileNameError": str(error)}) from None
    source = await context.storage.stat_file(file_id, token.user)
    extension = names.split_extension(source.name)[1]
    reason = names.problem(stem) or names.problem(stem + extension)
    if reason is not None:
        raise BadRequest(reason, {"X-WOPI-InvalidFileNameError": reason})
    preconditions = pb.Preconditions(lock=pb.LockPrecondition(lock_id=held, when_unlocked=pb.WHEN_UNLOCKED_ALLOW))
    # One call when storage picks the free variant itself; else one call per candidate, up to MAX_NAME_ATTEMPTS.
    picks = await picks_free_names(context)
    for number in range(1, 2 if picks else MAX_NAME_ATTEMPTS + 1):
        candidate = stem if number == 1 else names.split_extension(names.variant(stem + extension, number))[0]
        try:
            renamed = await context.storage.rename_file(
                file_id, candidate + extension, preconditions, token.user, use_free_variant=picks
            )
        except StorageCallError as error:
            if error.code == grpc.StatusCode.ALREADY_EXISTS:
                continue
            if error.code == grpc.StatusCode.INVALID_ARGUMENT:
                raise BadRequest(error.message, {"X-WOPI-InvalidFileNameError": error.message}) from None
            raise
        return JSONResponse({"Name": names.split_extension(renamed.name)[0]})
    reason = "the name is taken"
    raise BadRequest(reason, {"X-WOPI-InvalidFileNameError": reason})
