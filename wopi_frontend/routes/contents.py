"""GetFile and PutFile: contents stream between the HTTP body and storage, never held whole."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wopi_frontend.context import context_of
from wopi_frontend.errors import BadRequest, PreconditionFailed
from wopi_frontend.requests import authenticate, body_chunks, file_id_of, header, lock_header, non_negative_int
from wopi_frontend.types import Permission
from wopi_proto.storage_v1 import storage_pb2 as pb


async def get_file(request: Request) -> Response:
    file_id = file_id_of(request)
    token = authenticate(request, file_id, Permission.VIEW)
    max_expected = non_negative_int(request, "X-WOPI-MaxExpectedSize")
    info, chunks = await context_of(request).storage.open_read(file_id, token.user)
    if max_expected is not None and info.size > max_expected:
        await chunks.aclose()  # type: ignore[attr-defined]
        raise PreconditionFailed("the file is larger than X-WOPI-MaxExpectedSize")
    headers = {"X-WOPI-ItemVersion": info.version, "Content-Length": str(info.size)}
    return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)


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
    # WOPI PutFile: the caller's lock must match; an unlocked file may only be written while it is empty
    # (a new document created by `editnew`). Storage checks both atomically with the write.
    preconditions = pb.Preconditions(
        lock=pb.LockPrecondition(
            lock_id=lock_header(request, required=False), when_unlocked=pb.WHEN_UNLOCKED_REQUIRE_EMPTY
        )
    )
    chunks = body_chunks(request, context.settings.max_file_size)
    info = await context.storage.write_file(file_id, preconditions, chunks, token.user)
    return Response(headers={"X-WOPI-ItemVersion": info.version})
