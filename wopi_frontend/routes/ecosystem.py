"""The WOPI ecosystem (../shared/wopi/spec/rest/src/ecosystem/, containers/GetEcosystem.rst): the entry point
from which a client finds its way to the user's other documents.

GetEcosystem (/wopi/files/ID/ecosystem_pointer, /wopi/containers/ID/ecosystem_pointer) trades the file's or the
container's token for an ecosystem token (tokens.py: the same user and bound, no longer), in the Url of the
ecosystem endpoint. With it, CheckEcosystem (GET /wopi/ecosystem) says what the host supports,
GetRootContainer (GET /wopi/ecosystem/root_container_pointer) points at the root container, and GetFileWopiSrc
(POST /wopi/ecosystem, X-WOPI-Override: GET_WOPI_SRC_WITH_ACCESS_TOKEN) turns a link of ours to a document (its
host page, as HostViewUrl, HostEditUrl and GetShareUrl give it, or its WopiSrc) into the WopiSrc with a token.
Storage decides, as the token's user, whether the root or the document may be seen: 404 otherwise.

The bootstrapper endpoints (bootstrapper/) are not offered: they start from an OAuth 2 bearer token that an
identity provider registered with Microsoft issues to Office's native apps, and this host issues its own
WOPI tokens instead (docs/integration.md, "What an office client reaches from a document").
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wopi_frontend.container_pointers import container_pointer
from wopi_frontend.context import WopiContext, context_of
from wopi_frontend.errors import BadRequest, NotFound, NotImplementedByHost
from wopi_frontend.requests import (
    authenticate,
    authenticate_container,
    authenticate_ecosystem,
    container_id_of,
    file_id_of,
    header,
    is_valid_id,
)
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import FileId, Permission

MAX_NATIVE_NAME_LENGTH = 2048  # a URL of ours is far shorter; WOPI clients keep URLs under about 2,000 characters


def _ecosystem_pointer(context: WopiContext, token: AccessToken) -> Response:
    traded = context.tokens.trade(token, ecosystem=True)
    return JSONResponse({"Url": f"{context.settings.base_url}/wopi/ecosystem?access_token={traded}"})


async def file_ecosystem_pointer(request: Request) -> Response:
    file_id = file_id_of(request)
    token = authenticate(request, file_id, Permission.VIEW)
    context = context_of(request)
    await context.storage.stat_file(file_id, token.user)  # 404 for a file that is gone or unseen
    return _ecosystem_pointer(context, token)


async def container_ecosystem_pointer(request: Request) -> Response:
    container_id = container_id_of(request)
    token = authenticate_container(request, container_id, Permission.VIEW)
    context = context_of(request)
    await context.storage.get_container(container_id, token.user)
    return _ecosystem_pointer(context, token)


async def check_ecosystem(request: Request) -> Response:
    authenticate_ecosystem(request, Permission.VIEW)
    return JSONResponse({"SupportsContainers": True})  # as CheckFileInfo says (checkfileinfo.py)


async def root_container_pointer(request: Request) -> Response:
    token = authenticate_ecosystem(request, Permission.VIEW)
    context = context_of(request)
    root = await context.storage.root_container(token.user)
    return JSONResponse({"ContainerPointer": container_pointer(context, root, token)})


def file_id_in_native_name(context: WopiContext, value: str) -> FileId:
    """The file a link of ours names: its host page (/host/ID, any query) or its WopiSrc (/wopi/files/ID), on this
    host's public origin and path. Anything else is no document of ours: 404."""
    ours = urlsplit(context.settings.base_url)
    link = urlsplit(value)
    if (link.scheme.lower(), link.netloc.lower()) != (ours.scheme.lower(), ours.netloc.lower()):
        raise NotFound("X-WOPI-HostNativeFileName is not a link of this host")
    prefix = ours.path.rstrip("/")
    for route in ("/host/", "/wopi/files/"):
        if link.path.startswith(prefix + route):
            file_id = unquote(link.path[len(prefix + route) :])
            if is_valid_id(file_id):
                return FileId(file_id)
    raise NotFound("X-WOPI-HostNativeFileName names no document of this host")


async def get_file_wopi_src(request: Request) -> Response:
    override = (header(request, "X-WOPI-Override") or "").strip().upper()
    token = authenticate_ecosystem(request, Permission.VIEW)
    if override != "GET_WOPI_SRC_WITH_ACCESS_TOKEN":
        raise NotImplementedByHost(f"unsupported X-WOPI-Override {override[:64]!r}")
    value = header(request, "X-WOPI-HostNativeFileName")
    if not value:
        raise BadRequest("X-WOPI-HostNativeFileName is missing")
    if len(value) > MAX_NATIVE_NAME_LENGTH or not value.isascii() or not value.isprintable():
        raise BadRequest("X-WOPI-HostNativeFileName must be a URL of this host")
    context = context_of(request)
    file_id = file_id_in_native_name(context, value)
    await context.storage.stat_file(file_id, token.user)  # 404 for a file that is gone or unseen
    traded = context.tokens.trade(token, file_id=file_id)
    return JSONResponse({"Url": f"{context.wopi_src(file_id)}?access_token={traded}"})
