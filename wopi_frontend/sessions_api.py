"""POST /api/v1/sessions: how an embedding application gets an access token and the host page for a user.

POST /api/v1/sessions
Authorization: Bearer <WOPI_API_KEY>
{"file_id": "...", "user_id": "...", "display_name": "...", "permission": "view" | "edit"}

200 {"wopi_src": ..., "access_token": ..., "access_token_ttl": ..., "host_page_url": ...}
"""

from __future__ import annotations

import hmac
import json
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wopi_frontend import storage_permissions
from wopi_frontend.context import context_of
from wopi_frontend.errors import WopiError
from wopi_frontend.requests import small_body
from wopi_frontend.text import MAX_DISPLAY_NAME, clean_display_name
from wopi_frontend.types import PERMISSION_SETS, FileId, Permission, Principal

_USER_ID = re.compile(r"[\x21-\x7e]{1,256}")
_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_BODY_BYTES = 16 * 1024


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


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
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        return _error(400, "user_id must be 1-256 printable ASCII characters")
    if not isinstance(display_name, str) or len(display_name) > MAX_DISPLAY_NAME:
        return _error(400, f"display_name must be a string of at most {MAX_DISPLAY_NAME} characters")
    if not isinstance(permission, str) or permission not in PERMISSION_SETS:
        return _error(400, f"permission must be one of {', '.join(PERMISSION_SETS)}")
    display_name = clean_display_name(display_name)
    user = Principal(user_id, display_name)
    # Stat as that user: 404 for an unknown file, or (with access control) one this user may not read.
    info = await context.storage.stat_file(file_id, user)
    wanted = PERMISSION_SETS[permission]
    if Permission.EDIT in wanted and Permission.EDIT not in storage_permissions.effective(
        wanted, await context.storage.capabilities(), info
    ):
        return _error(403, "storage does not let this user edit the file: ask for permission view")
    token, claims = context.tokens.issue(user, FileId(file_id), wanted)
    return JSONResponse(
        {
            "wopi_src": context.wopi_src(file_id),
            "access_token": token,
            "access_token_ttl": claims.expires_ms,
            "host_page_url": context.host_page_url(file_id, "edit" if permission == "edit" else "view"),
        }
    )
