"""WOPI file operations at /wopi/files/{file_id}: CheckFileInfo, and the POST operations by X-WOPI-Override."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wopi_frontend import storage_permissions
from wopi_frontend.checkfileinfo import check_file_info
from wopi_frontend.container_pointers import container_pointer
from wopi_frontend.context import context_of
from wopi_frontend.errors import BadRequest, NotImplementedByHost, TokenRejected
from wopi_frontend.requests import authenticate, dispatch, file_id_of, header, small_body
from wopi_frontend.routes import activities, locks, relative
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import FileId, Permission
from wopi_proto.storage_v1 import storage_pb2 as pb

MAX_USER_INFO_BYTES = 4 * 1024  # 1024 characters of up to 4 UTF-8 bytes each

Operation = Callable[[Request, FileId, AccessToken], Awaitable[Response]]


class DocumentResponse(JSONResponse):
    """A JSONResponse (the same bytes) from one encoder made once: `json.dumps` with Starlette's options builds a
    new encoder for every document, a measurable part of a CheckFileInfo."""

    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def render(self, content: Any) -> bytes:
        return self.encoder.encode(content).encode("utf-8")


async def check_file_info_route(request: Request) -> Response:
    file_id = file_id_of(request)
    token = authenticate(request, file_id, Permission.VIEW)
    context = context_of(request)
    storage = context.storage
    caps = await storage.capabilities()
    if caps.file_context:
        # One storage call for all of it. With access control, CREATE (UserCanNotWriteRelative) depends on the
        # folder: its permissions are asked for only when the token would grant CREATE.
        wants_folder = storage_permissions.needs_folder(token.permissions, caps)
        found = await storage.file_context(file_id, token.user, container_permissions=wants_folder)
        info, user_info = found.file, found.user_info
        allowed = storage_permissions.effective_in(token.permissions, caps, found)
    else:  # an adapter that predates GetFileContext: the calls it replaces
        # Two independent storage calls: made at once, CheckFileInfo costs one round trip, not two; and one
        # more for the folder, made only when the token would grant CREATE.
        info, user_info = await asyncio.gather(
            storage.stat_file(file_id, token.user), storage.get_user_info(token.user)
        )
        allowed = await storage_permissions.allowed(storage, token.permissions, token.user, info)
    return DocumentResponse(check_file_info(context, info, token, user_info, caps, allowed))


async def delete_file(request: Request, file_id: FileId, token: AccessToken) -> Response:
    # No lock id: WOPI refuses to delete a locked file, whoever holds the lock.
    await context_of(request).storage.delete_file(file_id, pb.Preconditions(), token.user)
    return Response()


async def put_user_info(request: Request, file_id: FileId, token: AccessToken) -> Response:
    body = await small_body(request, MAX_USER_INFO_BYTES)
    try:
        user_info = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the user info is not UTF-8") from None
    await context_of(request).storage.stat_file(file_id, token.user)  # 404 for a file that is gone
    await context_of(request).storage.set_user_info(user_info, token.user)
    return Response()


async def get_share_url(request: Request, file_id: FileId, token: AccessToken) -> Response:
    url_type = header(request, "X-WOPI-UrlType")
    actions = {"ReadOnly": ("view", Permission.VIEW), "ReadWrite": ("edit", Permission.EDIT)}
    if url_type not in actions:
        raise NotImplementedByHost("X-WOPI-UrlType must be ReadOnly or ReadWrite")
    action, needed = actions[url_type]
    if not token.allows(needed):
        raise TokenRejected(f"the access token does not grant {needed.value}")
    await context_of(request).storage.stat_file(file_id, token.user)  # 404 for a file that is gone
    return JSONResponse({"ShareUrl": context_of(request).host_page_url(file_id, action)})


# X-WOPI-Override -> (permission the token must grant, operation)
OPERATIONS: dict[str, tuple[Permission, Operation]] = {
    "LOCK": (Permission.EDIT, locks.lock),
    "REFRESH_LOCK": (Permission.EDIT, locks.refresh_lock),
    "UNLOCK": (Permission.EDIT, locks.unlock),
    "GET_LOCK": (Permission.VIEW, locks.get_lock),
    "PUT_RELATIVE": (Permission.VIEW, relative.put_relative_file),
    "RENAME_FILE": (Permission.RENAME, relative.rename_file),
    "DELETE": (Permission.DELETE, delete_file),
    "PUT_USER_INFO": (Permission.VIEW, put_user_info),
    "GET_SHARE_URL": (Permission.VIEW, get_share_url),
    "ADD_ACTIVITIES": (Permission.EDIT, activities.add_activities),
}


async def post_file(request: Request) -> Response:
    return await dispatch(request, file_id_of(request), OPERATIONS, authenticate)


async def enumerate_ancestors(request: Request) -> Response:
    file_id = file_id_of(request)
    token = authenticate(request, file_id, Permission.VIEW)
    context = context_of(request)
    ancestors = await context.storage.file_ancestors(file_id, token.user)
    # Each with a container token traded from the file's (container_pointers.py): no more than it grants.
    return JSONResponse({"AncestorsWithRootFirst": [container_pointer(context, info, token) for info in ancestors]})
