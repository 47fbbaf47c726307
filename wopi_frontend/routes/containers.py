"""WOPI container operations at /wopi/containers/{container_id}: CheckContainerInfo, EnumerateChildren and
EnumerateAncestors (../shared/wopi/spec/rest/src/containers/).

A container's access token is scoped to that one container, as a file's is to its file (tokens.py). Every
answer that points at another item carries a token for it ("token trading", WOPI's word): made for the same
user, never granting more than the token it was traded from, nor more than storage lets that user do with the
item (its permissions come with it in every listing), and never outliving it. Storage decides who may see what:
an item the user may not read is not listed, and asking for it is 404.

EnumerateChildren has no paging in WOPI: the answer lists every child. It is written as storage's pages come
(ListChildrenPage: containers first, then files, as the answer orders them), so that neither storage nor the
front-end ever holds a whole folder.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wopi_frontend import storage_permissions
from wopi_frontend.checkfileinfo import last_modified, modified_at
from wopi_frontend.container_pointers import container_pointer, display_name
from wopi_frontend.context import WopiContext, context_of
from wopi_frontend.errors import BadRequest
from wopi_frontend.requests import authenticate_container, container_id_of, header
from wopi_frontend.routes.files import DocumentResponse
from wopi_frontend.storage_client import ChildrenPage
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import FileId, Permission
from wopi_proto.storage_v1 import storage_pb2 as pb

PAGE_SIZE = 500  # children per storage page while an EnumerateChildren answer is written
MAX_EXTENSIONS = 64
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def child_file(context: WopiContext, info: pb.FileInfo, token: AccessToken) -> dict[str, object]:
    """A child file as EnumerateChildren lists it, its Url with a file token traded from the container's."""
    traded = context.tokens.trade(token, file_id=FileId(info.file_id))
    child = {
        "Name": info.name,
        "Url": f"{context.wopi_src(info.file_id)}?access_token={traded}",
        "Version": info.version,
        "Size": info.size,
    }
    if modified_at(info) is not None:
        child["LastModifiedTime"] = last_modified(info)
    return child


async def check_container_info(request: Request) -> Response:
    container_id = container_id_of(request)
    token = authenticate_container(request, container_id, Permission.VIEW)
    context = context_of(request)
    caps = await context.storage.capabilities()
    info = await context.storage.get_container(container_id, token.user)
    allowed = storage_permissions.of_container(token.permissions, caps, info)
    is_root = not info.parent_container_id
    document: dict[str, object] = {
        "Name": display_name(context, info),
        "HostUrl": context.browser_url(info.container_id),
        # as CheckFileInfo says them (checkfileinfo.py): the same user, whichever resource they are asked about
        "IsAnonymousUser": False,
        "IsEduUser": False,
        "LicenseCheckForEditIsEnabled": False,
        "UserCanCreateChildContainer": caps.containers and Permission.CREATE in allowed,
        "UserCanCreateChildFile": Permission.CREATE in allowed,
        "UserCanDelete": caps.containers and not is_root and Permission.DELETE in allowed,
        "UserCanRename": caps.containers and not is_root and Permission.RENAME in allowed,
        "SupportedShareUrlTypes": ["ReadOnly", "ReadWrite"],
    }
    if caps.access_control:  # the file browser's Share dialog of the folder (without access control: none)
        document["SharingUrl"] = context.folder_sharing_url(info.container_id)
    return DocumentResponse(document)


async def enumerate_ancestors(request: Request) -> Response:
    container_id = container_id_of(request)
    token = authenticate_container(request, container_id, Permission.VIEW)
    context = context_of(request)
    ancestors = await context.storage.container_ancestors(container_id, token.user)
    return DocumentResponse({"AncestorsWithRootFirst": [container_pointer(context, info, token) for info in ancestors]})


def extension_filter(request: Request) -> list[str]:
    """X-WOPI-FileExtensionFilterList: ".doc,.docx", no whitespace, no empty entry, no wildcard (400 otherwise);
    compared case-insensitively by storage."""
    value = header(request, "X-WOPI-FileExtensionFilterList")
    if value is None:
        return []
    extensions = value.split(",")
    if len(extensions) > MAX_EXTENSIONS:
        raise BadRequest(f"X-WOPI-FileExtensionFilterList names more than {MAX_EXTENSIONS} extensions")
    for extension in extensions:
        stem = extension[1:]
        if not extension.startswith(".") or not stem or not all(c.isalnum() or c in "_-" for c in stem):
            raise BadRequest("X-WOPI-FileExtensionFilterList must list extensions such as .docx, comma-separated")
    return extensions


async def enumerate_children(request: Request) -> Response:
    container_id = container_id_of(request)
    token = authenticate_container(request, container_id, Permission.VIEW)
    extensions = extension_filter(request)
    context = context_of(request)
    caps = await context.storage.capabilities()
    folder = await context.storage.get_container(container_id, token.user)  # 404 before the answer starts
    listing = _Listing(context, token, folder, extensions)
    if caps.paged_listing:
        first = await context.storage.list_children_page(container_id, token.user, PAGE_SIZE, extensions=extensions)
        return StreamingResponse(listing.from_pages(first), media_type="application/json")
    return StreamingResponse(listing.from_stream(), media_type="application/json")


class _Listing:
    """{"ChildContainers":[...],"ChildFiles":[...]}, written as storage lists the children."""

    def __init__(
        self,
        context: WopiContext,
        token: AccessToken,
        folder: pb.ContainerInfo,
        extensions: Sequence[str],
    ) -> None:
        self.context, self.token, self.folder, self.extensions = context, token, folder, extensions

    def _entry(self, item: pb.Item) -> dict[str, object]:
        if item.HasField("container"):
            return container_pointer(self.context, item.container, self.token)
        return child_file(self.context, item.file, self.token)

    async def from_pages(self, page: ChildrenPage) -> AsyncIterator[bytes]:
        """From ListChildrenPage, whose pages hold containers first, then files: one pass."""
        storage, container_id, user = self.context.storage, self.folder.container_id, self.token.user
        in_files, written = False, 0
        yield b'{"ChildContainers":['
        while True:
            pieces = []
            for item in page.items:
                if not in_files and not item.HasField("container"):
                    pieces.append('],"ChildFiles":[')
                    in_files, written = True, 0
                pieces.append(("," if written else "") + _ENCODER.encode(self._entry(item)))
                written += 1
            if pieces:
                yield "".join(pieces).encode()
            if not page.next_token:
                break
            page = await storage.list_children_page(container_id, user, PAGE_SIZE, page.next_token, self.extensions)
        yield b"]}" if in_files else b'],"ChildFiles":[]}'

    async def from_stream(self) -> AsyncIterator[bytes]:
        """From an adapter without paged listing, whose stream has no order: one pass for the containers, another
        for the files (two listings, so a change between them may show in one list only)."""
        yield b'{"ChildContainers":['
        for wanted_containers in (True, False):
            written = 0
            stream = self.context.storage.list_children(self.folder.container_id, self.token.user, self.extensions)
            async for item in stream:
                if item.HasField("container") == wanted_containers:
                    yield (("," if written else "") + _ENCODER.encode(self._entry(item))).encode()
                    written += 1
            if wanted_containers:
                yield b'],"ChildFiles":['
        yield b"]}"
