"""POST /api/v1/sessions: how an embedding application gets an access token and the host page for a user.

POST /api/v1/sessions
Authorization: Bearer <WOPI_API_KEY>
{"file_id": "...", "user_id": "...", "display_name": "...", "groups": ["..."], "permission": "view" | "edit"}

`groups` (optional): the user's group ids, for grants that storage gives to groups. The token carries them.
The token's permissions are what was asked for AND what storage lets this user do (403 when `edit` was asked
for and storage does not let them edit).

200 {"wopi_src": ..., "access_token": ..., "access_token_ttl": ..., "host_page_url": ...}
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wopi_frontend import storage_permissions
from wopi_frontend.context import context_of
from wopi_frontend.errors import WopiError
from wopi_frontend.identity import GROUP_ID, MAX_GROUPS_TEXT, USER_ID, TooManyGroups, parse_groups
from wopi_frontend.requests import small_body
from wopi_frontend.text import MAX_DISPLAY_NAME, clean_display_name
from wopi_frontend.tokens import TokenTooLarge
from wopi_frontend.types import PERMISSION_SETS, FileId, Permission, Principal

_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_BODY_BYTES = 16 * 1024


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _groups(value: Any) -> tuple[str, ...] | None:
    """The `groups` field, or None when it is not a list of valid group ids that fits in a token."""
    if not isinstance(value, list) or not all(isinstance(group, str) and GROUP_ID.fullmatch(group) for group in value):
        return None
    try:
        return parse_groups(value)
    except TooManyGroups:
        return None


async def create_session(request: Request) -> Response:
    context = context_of(request)
    api_key = context.settings.api_key
    if api_key is None:
        return _error(404, "the sessions API is disabled (set WOPI_API_KEY)")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), api_key.encode()):
        return _error(401, "missing or wrong API key")
    try:
        body = json.loads(await small_body(request, MAX_BODY_BYTES))
    except WopiError as error:  # too large, or not matching Content-Length
        return _error(error.status_code, error.reason)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return _error(400, "the body must be a JSON object")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    file_id, user_id = body.get("file_id"), body.get("user_id")
    display_name = body.get("display_name", "")
    permission = body.get("permission", "view")
    if not isinstance(file_id, str) or not _FILE_ID.fullmatch(file_id):
        return _error(400, "file_id must be a storage file id")
    if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
        return _error(400, "user_id must be 1-256 printable ASCII characters")
    if not isinstance(display_name, str) or len(display_name) > MAX_DISPLAY_NAME:
        return _error(400, f"display_name must be a string of at most {MAX_DISPLAY_NAME} characters")
    if not isinstance(permission, str) or permission not in PERMISSION_SETS:
        return _error(400, f"permission must be one of {', '.join(PERMISSION_SETS)}")
    groups = _groups(body.get("groups", []))
    if groups is None:
        return _error(
            400,
            "groups must be a list of group ids (1-256 printable ASCII characters, no space or comma), "
            f"at most {MAX_GROUPS_TEXT} characters in all",
        )
    user = Principal(user_id, clean_display_name(display_name), groups)
    # Stat as that user: 404 for an unknown file, or (with access control) one this user may not read.
    info = await context.storage.stat_file(file_id, user)
    wanted = PERMISSION_SETS[permission]
    allowed = await storage_permissions.allowed(context.storage, wanted, user, info)
    if Permission.EDIT in wanted and Permission.EDIT not in allowed:
        return _error(403, "storage does not let this user edit the file: ask for permission view")
    try:
        token, claims = context.tokens.issue(user, FileId(file_id), allowed)
    except TokenTooLarge:
        return _error(400, "user_id, display_name and groups together are too long for an access token")
    return JSONResponse(
        {
            "wopi_src": context.wopi_src(file_id),
            "access_token": token,
            "access_token_ttl": claims.expires_ms,
            "host_page_url": context.host_page_url(file_id, "edit" if permission == "edit" else "view"),
        }
    )
