"""Helpers for talking WOPI to a `WopiHost` over HTTP, as a WOPI client does.

`open_file` makes a file and a token for it in-process, with the same code `wopi-host token` runs (spawning the
CLI for every test would cost most of the suite's time budget); `tests/frontend/test_operations.py` also runs
the real CLI through `WopiHost.token`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.frontend.servers import WopiHost
from wopi_frontend import cli
from wopi_frontend.settings import FrontendSettings
from wopi_frontend.tokens import TokenIssuer
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal

Headers = dict[str, str] | list[tuple[str, str | bytes]]

# One client for the whole run: keep-alive connections make a request ~10x cheaper than httpx.get's fresh client.
http = httpx.Client(timeout=30)


def settings_of(host: WopiHost) -> FrontendSettings:
    return FrontendSettings.from_environ(host.environment)


def issuer_of(host: WopiHost) -> TokenIssuer:
    settings = settings_of(host)
    return TokenIssuer(settings.token_key, settings.token_ttl)


def mint(host: WopiHost, file: str, *, permission: str = "edit", user: str = "test-user", create: bool = True) -> Any:
    """What `wopi-host token --file FILE [--create] --user USER --permission P` prints, made in-process."""
    args = argparse.Namespace(file=file, create=create, user=user, display_name="", group=None, permission=permission)
    return asyncio.run(cli._token(settings_of(host), args))


@dataclass
class WopiFile:
    """One file as a WOPI client sees it: its WOPISrc and an access token."""

    host: WopiHost
    wopi_src: str
    access_token: str
    access_token_ttl: int = 0

    @classmethod
    def from_session(cls, host: WopiHost, session: Any) -> WopiFile:
        return cls(host, session["wopi_src"], session["access_token"], session.get("access_token_ttl", 0))

    @classmethod
    def from_url(cls, host: WopiHost, url: str) -> WopiFile:
        """From a PutRelativeFile `Url`: WOPISrc?access_token=..."""
        parts = urlsplit(url)
        query = dict(pair.split("=", 1) for pair in parts.query.split("&"))
        return cls(host, f"{parts.scheme}://{parts.netloc}{parts.path}", query["access_token"])

    @property
    def file_id(self) -> str:
        return self.wopi_src.rsplit("/", 1)[1]

    def with_token(self, token: str) -> WopiFile:
        return WopiFile(self.host, self.wopi_src, token, self.access_token_ttl)

    def params(self) -> dict[str, str | int]:
        # Like the validator: access_token and access_token_ttl in the query, on every request.
        return {"access_token": self.access_token, "access_token_ttl": self.access_token_ttl}

    # ---- raw requests ----

    def get(self, suffix: str = "", headers: Headers | None = None) -> httpx.Response:
        return http.get(self.wopi_src + suffix, params=self.params(), headers=headers)

    def post(
        self, override: str | None, headers: Headers | None = None, content: Any = None, suffix: str = ""
    ) -> httpx.Response:
        all_headers: list[tuple[str, str | bytes]] = []
        if override is not None:
            all_headers.append(("X-WOPI-Override", override))
        if isinstance(headers, dict):
            all_headers += list(headers.items())
        elif headers:
            all_headers += headers
        return http.post(self.wopi_src + suffix, params=self.params(), headers=all_headers, content=content)

    # ---- operations ----

    def check_file_info(self) -> httpx.Response:
        return self.get()

    def info(self) -> dict[str, Any]:
        response = self.get()
        assert response.status_code == 200, response
        return response.json()  # type: ignore[no-any-return]

    def version(self) -> str:
        return str(self.info()["Version"])

    def get_file(self, headers: Headers | None = None) -> httpx.Response:
        return self.get("/contents", headers)

    def contents(self) -> bytes:
        response = self.get_file()
        assert response.status_code == 200, response
        return response.content

    def put_file(self, content: Any, lock: str | None = None, headers: Headers | None = None) -> httpx.Response:
        extra = dict(headers or {})
        if lock is not None:
            extra["X-WOPI-Lock"] = lock
        return self.post("PUT", extra, content, suffix="/contents")

    def lock(self, lock: str) -> httpx.Response:
        return self.post("LOCK", {"X-WOPI-Lock": lock})

    def unlock_and_relock(self, lock: str, old_lock: str) -> httpx.Response:
        return self.post("LOCK", {"X-WOPI-Lock": lock, "X-WOPI-OldLock": old_lock})

    def refresh_lock(self, lock: str) -> httpx.Response:
        return self.post("REFRESH_LOCK", {"X-WOPI-Lock": lock})

    def unlock(self, lock: str) -> httpx.Response:
        return self.post("UNLOCK", {"X-WOPI-Lock": lock})

    def get_lock(self) -> httpx.Response:
        return self.post("GET_LOCK")

    def current_lock(self) -> str:
        response = self.get_lock()
        assert response.status_code == 200, response
        return response.headers["X-WOPI-Lock"]

    def put_relative(self, headers: Headers, content: Any = b"") -> httpx.Response:
        return self.post("PUT_RELATIVE", headers, content)

    def rename(self, requested_name: str, lock: str | None = "") -> httpx.Response:
        headers = {"X-WOPI-RequestedName": requested_name}
        if lock is not None:
            headers["X-WOPI-Lock"] = lock
        return self.post("RENAME_FILE", headers)

    def delete(self) -> httpx.Response:
        return self.post("DELETE")

    def put_user_info(self, user_info: str) -> httpx.Response:
        return self.post("PUT_USER_INFO", content=user_info.encode())

    def get_share_url(self, url_type: str | None) -> httpx.Response:
        return self.post("GET_SHARE_URL", {} if url_type is None else {"X-WOPI-UrlType": url_type})

    # ---- state, for "nothing changed" checks ----

    def state(self) -> tuple[bytes, str, str]:
        """(contents, Version, current lock)."""
        return self.contents(), self.version(), self.current_lock()


def open_file(
    host: WopiHost,
    name: str,
    content: bytes = b"",
    *,
    permission: str = "edit",
    user: str = "test-user",
) -> WopiFile:
    """A new file `name` in the root folder (with `content`), and a token for it."""
    file = WopiFile.from_session(host, mint(host, name, user=user))
    assert file.info()["Size"] == 0, f"{name} already exists: use a unique name per test"
    if content:
        assert file.put_file(content).status_code == 200
    if permission != "edit":
        file = file.with_token(token_for(host, file, permission=permission, user=user))
    return file


def token_for(host: WopiHost, file: WopiFile, *, permission: str = "edit", user: str = "test-user", **kw: Any) -> str:
    token, _claims = issuer_of(host).issue(
        Principal(user, user), FileId(file.file_id), PERMISSION_SETS[permission], **kw
    )
    return token


def sha256_b64(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def raw_http(host: WopiHost, request: bytes, *, half_close: bool = False, timeout: float = 10) -> bytes:
    """Send bytes as they are (for requests httpx refuses to make) and return everything the server answers
    until it closes the connection or goes quiet."""
    with socket.create_connection(("127.0.0.1", host.port), timeout=timeout) as connection:
        connection.sendall(request)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        deadline = time.monotonic() + timeout
        connection.settimeout(1)
        while time.monotonic() < deadline:
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                if received:
                    break
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received


def status_lines(answer: bytes) -> list[int]:
    """The status codes of every HTTP response in `answer`."""
    return [int(line.split(b" ")[1]) for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
