"""Reading WOPI requests safely: the access token, single-valued headers, and streamed bodies with limits."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TypeVar
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from wopi_frontend.context import context_of
from wopi_frontend.errors import BadRequest, NotFound, NotImplementedByHost, RequestTimeout, TokenRejected, TooLarge
from wopi_frontend.tokens import AccessToken, TokenInvalid
from wopi_frontend.types import ContainerId, FileId, Permission

_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_LOCK_LENGTH = 1024


def file_id_of(request: Request) -> FileId:
    """The id in a WOPI path. Ids are URL-safe, so a WOPI path never needs percent-encoding: one that has any was
    not built from a WOPISrc of ours (an encoded slash would even move the id's end), and is refused."""
    return FileId(_id_in_path(request, "file_id"))


def container_id_of(request: Request) -> ContainerId:
    """The container id in a WOPI path (/wopi/containers/ID...), checked as `file_id_of` checks a file's."""
    return ContainerId(_id_in_path(request, "container_id"))


def is_valid_id(value: str) -> bool:
    """Whether `value` has the shape of a file or container id of ours (URL-safe, 1 to 256 characters)."""
    return _FILE_ID.fullmatch(value) is not None


def _id_in_path(request: Request, name: str) -> str:
    value = request.path_params[name]
    if not is_valid_id(value) or b"%" in (request.scope.get("raw_path") or b""):
        raise NotFound(f"malformed {name.replace('_', ' ')}")
    return str(value)


def header(request: Request, name: str) -> str | None:
    """A header that must appear at most once: a repeated one is ambiguous, so it is refused."""
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"{name} appears more than once")
    return values[0] if values else None


def lock_header(request: Request, name: str = "X-WOPI-Lock", *, required: bool) -> str:
    value = header(request, name) or ""
    if required and not value:
        raise BadRequest(f"{name} is missing or empty")
    if len(value) > MAX_LOCK_LENGTH:
        raise BadRequest(f"{name} is longer than {MAX_LOCK_LENGTH} characters")
    if not value.isascii() or not value.isprintable():
        raise BadRequest(f"{name} must be printable ASCII")
    return value


def authenticate(request: Request, file_id: FileId, permission: Permission) -> AccessToken:
    """The request's access token, checked for this file and permission; 401 otherwise.

    WOPI clients send the token in the `access_token` query parameter (Office for the web also sends it as a
    Bearer header, the fallback here)."""
    token = _verified_token(request)
    if not token.is_for_file(file_id):
        raise TokenRejected("the access token is for another file")
    return _allowing(token, permission)


def authenticate_container(request: Request, container_id: ContainerId, permission: Permission) -> AccessToken:
    """The request's access token, checked for this container and permission; 401 otherwise."""
    token = _verified_token(request)
    if not token.is_for_container(container_id):
        raise TokenRejected("the access token is for another container")
    return _allowing(token, permission)


def authenticate_ecosystem(request: Request, permission: Permission) -> AccessToken:
    """The request's access token, checked to be an ecosystem token granting `permission`; 401 otherwise."""
    token = _verified_token(request)
    if not token.is_for_ecosystem():
        raise TokenRejected("the access token is not an ecosystem token")
    return _allowing(token, permission)


ResourceId = TypeVar("ResourceId", FileId, ContainerId)
Operation = Callable[[Request, ResourceId, AccessToken], Awaitable[Response]]


async def dispatch(
    request: Request,
    resource_id: ResourceId,
    operations: Mapping[str, tuple[Permission, Operation[ResourceId]]],
    authenticate_for: Callable[[Request, ResourceId, Permission], AccessToken],
) -> Response:
    """A POST to a file or a container, by its X-WOPI-Override: the token checked for the operation's permission
    first (an unknown override needs only VIEW, so that a stranger learns nothing from 501), then the operation;
    400 without the header, 501 for an override that `operations` does not name."""
    override = header(request, "X-WOPI-Override")
    if override is None:
        raise BadRequest("X-WOPI-Override is missing")
    permission, operation = operations.get(override.strip().upper(), (Permission.VIEW, None))
    token = authenticate_for(request, resource_id, permission)
    if operation is None:
        raise NotImplementedByHost(f"unsupported X-WOPI-Override {override[:64]!r}")
    return await operation(request, resource_id, token)


def _allowing(token: AccessToken, permission: Permission) -> AccessToken:
    if not token.allows(permission):
        raise TokenRejected(f"the access token does not grant {permission.value}")
    return token


def _verified_token(request: Request) -> AccessToken:
    # The query parsed as `request.query_params` parses it, without building the multi-dict of every parameter.
    query = request.scope.get("query_string", b"").decode("latin-1")
    values = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == "access_token"]
    if len(values) > 1:
        raise TokenRejected("access_token appears more than once")
    text = values[0] if values else ""
    if not text:
        authorization = request.headers.get("authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        text = credentials.strip() if scheme.lower() == "bearer" else ""
    try:
        return context_of(request).tokens.verify(text)
    except TokenInvalid as error:
        raise TokenRejected(f"invalid access token ({error})") from None


def non_negative_int(request: Request, name: str) -> int | None:
    value = header(request, name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 19:  # isdigit() alone accepts '²' (int() fails)
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(value)


def body_chunks(request: Request, max_size: int) -> AsyncIterator[bytes]:
    """The request body as it arrives, never whole. Over `max_size`, not matching Content-Length, or stalled (no
    bytes for the client idle timeout) it raises: the storage write it feeds is then cancelled and nothing is
    stored."""
    declared = non_negative_int(request, "content-length")
    if declared is not None and declared > max_size:
        raise TooLarge(f"the body is larger than {max_size} bytes")
    idle_timeout = context_of(request).settings.client_idle_timeout

    async def chunks() -> AsyncIterator[bytes]:
        received = 0
        stream = request.stream()
        try:
            while True:
                try:
                    async with asyncio.timeout(idle_timeout):
                        chunk = await anext(stream)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise RequestTimeout(f"no part of the body arrived for {idle_timeout:g} seconds") from None
                received += len(chunk)
                if received > max_size:
                    raise TooLarge(f"the body is larger than {max_size} bytes")
                if chunk:
                    yield chunk
        except ClientDisconnect:
            raise BadRequest("the client disconnected before the body was complete") from None
        if declared is not None and received != declared:
            raise BadRequest("the body does not match Content-Length")

    return chunks()


async def small_body(request: Request, limit: int) -> bytes:
    """A body that is small by nature (PutUserInfo), read whole but never past `limit` bytes."""
    collected = bytearray()
    async for chunk in body_chunks(request, limit):
        collected += chunk
    return bytes(collected)
