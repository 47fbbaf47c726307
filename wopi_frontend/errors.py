"""WOPI errors: small classes that carry their status and headers, and the one mapping from storage failures.

Route code raises these (or lets a `StorageCallError` through); `handle_error` writes the answer.
"""

from __future__ import annotations

import logging

import grpc
from starlette.requests import Request
from starlette.responses import Response

from wopi_frontend.storage_client import StorageCallError
from wopi_proto.storage_v1 import storage_pb2 as pb

logger = logging.getLogger("wopi_frontend")


class WopiError(Exception):
    status_code = 500

    def __init__(self, reason: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return Response(status_code=self.status_code, headers=self.headers)


class BadRequest(WopiError):
    status_code = 400


class TokenRejected(WopiError):
    status_code = 401


class NotFound(WopiError):
    status_code = 404


class LockMismatch(WopiError):
    """409 with the current lock ("" when unlocked), which clients read to learn the lock."""

    status_code = 409

    def __init__(self, current_lock: str, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason, {"X-WOPI-Lock": current_lock, "X-WOPI-LockFailureReason": reason, **(headers or {})})


class Conflict(WopiError):
    status_code = 409


class PreconditionFailed(WopiError):
    status_code = 412


class TooLarge(WopiError):
    status_code = 413


class RequestTimeout(WopiError):
    """A request body that stopped arriving. The connection is closed: what is left of the body never comes."""

    status_code = 408

    def __init__(self, reason: str) -> None:
        super().__init__(reason, {"Connection": "close"})


class ServerError(WopiError):
    status_code = 500

    def __init__(self, reason: str) -> None:
        super().__init__(reason, {"X-WOPI-ServerError": reason})


class NotImplementedByHost(WopiError):
    status_code = 501


class StorageUnavailable(WopiError):
    status_code = 503

    def __init__(self, reason: str) -> None:
        super().__init__(reason, {"X-WOPI-ServerError": reason, "Retry-After": "5"})


def from_storage(error: StorageCallError) -> WopiError:
    """The WOPI answer to a failed storage call, for every operation (ARCHITECTURE rule 4)."""
    code = error.code
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound("no such file")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        # Storage lets this user read the file (else NOT_FOUND) but not do this to it. WOPI's answer for "the
        # user is not authorized" on PutFile, Lock, RenameFile, DeleteFile... is 401, the same answer this host
        # gives when the token itself lacks the permission (requests.authenticate): one answer for one meaning,
        # and the client then treats the file as read-only rather than as gone (404 is for what cannot be read).
        return TokenRejected("storage does not allow this user to do that")
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        conflict = error.detail(pb.LockConflict)
        if conflict is not None:
            return LockMismatch(conflict.current_lock.lock_id, conflict.reason or "lock mismatch")
        return Conflict(error.message)
    if code in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ABORTED):
        return Conflict(error.message)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return BadRequest(error.message)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return TooLarge(error.message)
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return NotImplementedByHost(error.message)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return StorageUnavailable(f"storage unavailable: {code.name}")
    return ServerError(f"storage error: {code.name}")


async def handle_error(request: Request, error: Exception) -> Response:
    if isinstance(error, StorageCallError):
        error = from_storage(error)
    if not isinstance(error, WopiError):
        logger.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
        error = ServerError("internal error")
    elif error.status_code >= 500:
        logger.warning("%s %s: %d %s", request.method, request.url.path, error.status_code, error.reason)
    return error.response()
