"""GetFile and PutFile: contents stream between the HTTP body and storage, never held whole.

PutFile also speaks the Collabora / ONLYOFFICE extensions: a save whose X-COOL-WOPI-Timestamp
(X-LOOL-WOPI-Timestamp) is not the file's current LastModifiedTime is refused with 409 {"COOLStatusCode": 1010}
(someone else saved meanwhile), whatever the client profile (Office never sends the header), and a save answers
{"LastModifiedTime": ...} when the profile or the header says the client keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from wopi_frontend import metrics
from wopi_frontend.checkfileinfo import last_modified, modified_at, parse_last_modified
from wopi_frontend.client_profiles import answers_last_modified
from wopi_frontend.context import context_of
from wopi_frontend.errors import BadRequest, LockMismatch, PreconditionFailed, WopiError
from wopi_frontend.requests import authenticate, body_chunks, file_id_of, header, lock_header, non_negative_int
from wopi_frontend.storage_client import StorageCallError
from wopi_frontend.types import FileId, Permission
from wopi_proto.storage_v1 import storage_pb2 as pb

logger = logging.getLogger("wopi_frontend.saves")

# Collabora sends X-COOL-WOPI-*, and the same again as X-LOOL-WOPI-* in legacy mode; ONLYOFFICE sends X-LOOL-*.
_CLIENT_HEADER_PREFIXES = ("X-COOL-WOPI-", "X-LOOL-WOPI-")
_SAVE_HINTS = ("IsModifiedByUser", "IsAutosave", "IsExitSave")


class SaveConflict(WopiError):
    """Collabora's "document changed in storage" answer: the client then asks the user to overwrite or reload,
    and an overwrite comes back without the timestamp header."""

    status_code = 409

    def response(self) -> Response:
        metrics.SAVE_CONFLICTS.inc()
        return JSONResponse({"COOLStatusCode": 1010, "LOOLStatusCode": 1010}, status_code=self.status_code)


def client_header(request: Request, name: str) -> str | None:
    for prefix in _CLIENT_HEADER_PREFIXES:
        value = header(request, prefix + name)
        if value is not None:
            return value
    return None


def log_save_hints(request: Request, file_id: FileId) -> None:
    """Collabora's and ONLYOFFICE's hints about a save, for the operator (storage keeps every version alike)."""
    hints = {name: client_header(request, name) for name in _SAVE_HINTS}
    if any(value is not None for value in hints.values()):

        def shown(value: str | None) -> str:
            return "-" if value is None else {"true": "true", "false": "false"}.get(value.strip().lower(), "?")

        logger.info(
            "PutFile %s: modified by user %s, autosave %s, exit save %s",
            file_id,
            *(shown(hints[name]) for name in _SAVE_HINTS),
        )


def refuse_stale_save(current: pb.FileInfo, lock_id: str) -> WopiError:
    """The answer to a save based on an older LastModifiedTime. A lock mismatch still comes first, with the
    current lock, exactly as storage would answer it (nothing is written either way, so reading the lock from
    the file's metadata here is enough)."""
    held = current.lock.lock_id  # expired locks are never reported
    if held and held != lock_id:
        return LockMismatch(held, "the file is locked with another lock id")
    if not held and current.size != 0:
        return LockMismatch("", "the file is not locked and not empty")
    return SaveConflict("the file changed since the client's LastModifiedTime")


async def get_file(request: Request) -> Response:
    file_id = file_id_of(request)
    token = authenticate(request, file_id, Permission.VIEW)
    max_expected = non_negative_int(request, "X-WOPI-MaxExpectedSize")
    info, chunks = await context_of(request).storage.open_read(file_id, token.user)
    if max_expected is not None and info.size > max_expected:
        await chunks.aclose()  # type: ignore[attr-defined]
        raise PreconditionFailed("the file is larger than X-WOPI-MaxExpectedSize")
    headers = {"X-WOPI-ItemVersion": info.version, "Content-Length": str(info.size)}
    return StreamingResponse(closing(chunks), media_type="application/octet-stream", headers=headers)


async def closing(chunks: AsyncIterator[bytes | memoryview]) -> AsyncIterator[bytes | memoryview]:
    """Storage's chunks, and the storage stream cancelled as soon as the response ends, however it ends (a client
    that disconnects, or one that stops reading and is cut off by http_protocol.py), not when collected."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


async def post_contents(request: Request) -> Response:
    file_id = file_id_of(request)
    override = header(request, "X-WOPI-Override")
    if override is None:
        raise BadRequest("X-WOPI-Override is missing")
    if override.upper() != "PUT":
        authenticate(request, file_id, Permission.VIEW)
        return Response(status_code=501)
    token = authenticate(request, file_id, Permission.EDIT)
    context = context_of(request)
    profile = context.client_profile
    lock_id = lock_header(request, required=False)
    log_save_hints(request, file_id)
    # Collabora / ONLYOFFICE conflict check, under every profile (Office never sends the header): the save must
    # be based on the current LastModifiedTime. The version compared then guards the write, so a save slipping
    # in between is caught by storage, atomically.
    if_version = ""
    claimed = client_header(request, "Timestamp")
    if claimed is not None:
        current = await context.storage.stat_file(file_id, token.user)
        stored = modified_at(current)
        if stored is not None:  # a storage that keeps no modification time cannot be compared: save
            if parse_last_modified(claimed) != stored:
                raise refuse_stale_save(current, lock_id)
            if_version = current.version
    # WOPI PutFile: the caller's lock must match; an unlocked file may only be written while it is empty
    # (a new document created by `editnew`). Storage checks both atomically with the write.
    preconditions = pb.Preconditions(
        lock=pb.LockPrecondition(lock_id=lock_id, when_unlocked=pb.WHEN_UNLOCKED_REQUIRE_EMPTY),
        if_version=if_version,
    )
    chunks = body_chunks(request, context.settings.max_file_size)
    try:
        info = await context.storage.write_file(file_id, preconditions, chunks, token.user)
    except StorageCallError as error:
        if if_version and error.code == grpc.StatusCode.ABORTED:
            raise SaveConflict("the file changed while the save was checked") from None
        raise
    headers = {"X-WOPI-ItemVersion": info.version}
    if answers_last_modified(profile, request.headers):
        return JSONResponse({"LastModifiedTime": last_modified(info)}, headers=headers)
    return Response(headers=headers)
