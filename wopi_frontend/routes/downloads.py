"""Downloads and version lists for people (CheckFileInfo's DownloadUrl leads here), authenticated by identity.

GET /browse/download/{file_id}[?version=V]   the latest (or an earlier) version, streamed, as an attachment
GET /browse/versions/{file_id}               JSON: the current version and the earlier ones (the host page's
                                             answer to UI_FileVersions)
"""

from __future__ import annotations

from urllib.parse import quote

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from wopi_frontend import pages
from wopi_frontend.context import WopiContext
from wopi_frontend.routes.page_support import for_people, for_scripts, mime_type_of, name_of, valid_id
from wopi_frontend.storage_client import StorageCallError
from wopi_frontend.types import Principal

_ASCII_SAFE = {*"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,_-()[]+"}


def download_url(context: WopiContext, file_id: str, version: str = "") -> str:
    url = f"{context.settings.base_url}/browse/download/{quote(file_id)}"
    return url + (f"?version={quote(version, safe='')}" if version else "")


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(character if character in _ASCII_SAFE else "_" for character in name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _valid_version(version: str) -> bool:
    return len(version) <= 256 and version.isascii() and version.isprintable()


async def _download(request: Request, context: WopiContext, user: Principal) -> Response:
    file_id = request.path_params["file_id"]
    version = request.query_params.get("version", "")
    if not valid_id(file_id) or not _valid_version(version):
        return pages.message_page(
            context.settings, "Not found", "There is no such document.", status_code=404, user=user
        )
    info, chunks = await context.storage.open_read(file_id, user, version=version)
    headers = {
        "Content-Disposition": content_disposition(info.name),
        "Content-Length": str(info.size),
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        # Whatever the file holds, it never runs as a page of ours.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    media_type = mime_type_of(info.name) or "application/octet-stream"
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


async def _versions(request: Request, context: WopiContext, user: Principal) -> Response:
    file_id = request.path_params["file_id"]
    if not valid_id(file_id):
        return JSONResponse({"error": "There is no such document."}, status_code=404)
    info = await context.storage.stat_file(file_id, user)
    current = {
        "version": info.version,
        "size": pages.format_size(info.size),
        "modified": pages.iso_time(info.modified_time),
        "modified_by": name_of(info.modified_by),
        "download_url": download_url(context, file_id),
        "current": True,
    }
    try:
        earlier = await context.storage.list_versions(file_id, user)
    except StorageCallError as error:
        if error.code != grpc.StatusCode.UNIMPLEMENTED:
            raise
        return JSONResponse({"name": info.name, "versions": [current], "history": False})
    versions = [current] + [
        {
            "version": version.version,
            "size": pages.format_size(version.size),
            "modified": pages.iso_time(version.modified_time),
            "modified_by": name_of(version.modified_by),
            "download_url": download_url(context, file_id, version.version),
            "current": False,
        }
        for version in earlier
    ]
    return JSONResponse({"name": info.name, "versions": versions, "history": True})


download = for_people(_download)
versions = for_scripts(_versions)

ROUTES: list[BaseRoute] = [
    Route("/browse/download/{file_id}", download, methods=["GET"]),
    Route("/browse/versions/{file_id}", versions, methods=["GET"]),
]
