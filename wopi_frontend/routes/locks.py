"""Lock, RefreshLock, Unlock, UnlockAndRelock and GetLock: each one storage call, atomic in storage."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from wopi_frontend.context import context_of
from wopi_frontend.requests import lock_header
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import FileId


def _ok(version: str) -> Response:
    return Response(headers={"X-WOPI-ItemVersion": version})


async def lock(request: Request, file_id: FileId, token: AccessToken) -> Response:
    """LOCK, or UnlockAndRelock when X-WOPI-OldLock is present (both share the override)."""
    context = context_of(request)
    new_lock = lock_header(request, required=True)
    if "x-wopi-oldlock" in request.headers:
        old_lock = lock_header(request, "X-WOPI-OldLock", required=True)
        info = await context.storage.unlock_and_relock(
            file_id, old_lock, new_lock, context.settings.lock_ttl, token.user
        )
    else:
        info = await context.storage.lock(file_id, new_lock, context.settings.lock_ttl, token.user)
    return _ok(info.version)


async def refresh_lock(request: Request, file_id: FileId, token: AccessToken) -> Response:
    context = context_of(request)
    held = lock_header(request, required=True)
    info = await context.storage.refresh_lock(file_id, held, context.settings.lock_ttl, token.user)
    return _ok(info.version)


async def unlock(request: Request, file_id: FileId, token: AccessToken) -> Response:
    held = lock_header(request, required=True)
    info = await context_of(request).storage.unlock(file_id, held, token.user)
    return _ok(info.version)


async def get_lock(request: Request, file_id: FileId, token: AccessToken) -> Response:
    current = await context_of(request).storage.get_lock(file_id, token.user)
    return Response(headers={"X-WOPI-Lock": current.lock_id})
