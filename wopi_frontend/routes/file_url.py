"""FileUrl (CheckFileInfo): a short-lived, signed URL from which a WOPI client downloads one file's current
contents without the access token, as WOPI allows a host to offer beside GetFile.

A FileUrl cannot carry a proof (the client must use it exactly as given), so it is a bearer credential in a URL,
and its reach is kept small: one file, read only, as its user (storage checks read access on every download),
for a few minutes and never longer than the access token it was made from, signed with a key of its own
(file_url_signing.py), so that it is never accepted as an access token, nor an access token in its
place. It reads what GetFile reads when it is used: a FileUrl made before a save downloads the saved contents.

GET /wopi-file/{file_id}?t=SIGNATURE   the contents, streamed as GetFile streams them (outside /wopi/: no proof)
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wopi_frontend.context import context_of
from wopi_frontend.errors import NotFound, TokenRejected
from wopi_frontend.requests import is_valid_id
from wopi_frontend.routes.contents import closing
from wopi_frontend.tokens import TokenInvalid
from wopi_frontend.types import FileId


def _signature(request: Request) -> str:
    query = request.scope.get("query_string", b"").decode("latin-1")
    values = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == "t"]
    if len(values) != 1 or not values[0]:
        raise TokenRejected("a FileUrl carries exactly one signature")
    return values[0]


async def get_from_file_url(request: Request) -> Response:
    file_id = request.path_params["file_id"]
    if not is_valid_id(file_id) or b"%" in (request.scope.get("raw_path") or b""):
        raise NotFound("malformed file id")
    context = context_of(request)
    try:
        signed = context.file_url_signer.verify(_signature(request))
    except TokenInvalid as error:
        raise TokenRejected(f"invalid FileUrl ({error})") from None
    if not signed.is_for_file(FileId(file_id)):
        raise TokenRejected("the FileUrl is for another file")
    info, chunks = await context.storage.open_read(file_id, signed.user)
    headers = {
        "X-WOPI-ItemVersion": info.version,
        "Content-Length": str(info.size),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        # Whatever the file holds, it never runs as a page of ours.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return StreamingResponse(closing(chunks), media_type="application/octet-stream", headers=headers)
