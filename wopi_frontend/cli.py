"""`wopi-host`: run the WOPI host locally, run the front-end alone, or mint an access token.

    wopi-host run [--data DIR] [--port PORT] [--discovery-url URL]
                                                    storage (filesystem) and front-end together, for local use
    wopi-host frontend                              the front-end alone (production: configured by WOPI_* vars)
    wopi-host token --file PATH_OR_ID [--create] [--user U] [--permission view|edit]
    wopi-host admin locks [--page-size N]           the files locked now (as the storage administrator)
    wopi-host admin unlock FILE_ID --reason TEXT    break a file's lock, recorded with the reason

`run`, `token` and `admin` read the same configuration as the services: WOPI_* environment variables, and for what is
not set there, secrets kept in WOPI_SECRETS_DIR (default `.secrets`), made on first use. While `run` runs, it
leaves its public URL and storage target there too (run_state.py), so `token` reaches the same ports.

With a development user (WOPI_DEV_USER, or `run`'s default: your login name), `run` and `frontend` print a
login link with a secret made for that run; only a browser that opened it is that user (dev_login.py).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import grpc
import uvicorn
from grpc_health.v1 import health_pb2, health_pb2_grpc

from wopi_frontend import dev_login, lock_admin, metrics, run_state, storage_permissions
from wopi_frontend.app import create_asgi_app
from wopi_frontend.http_protocol import LISTEN_BACKLOG, MAX_REQUEST_HEAD_BYTES, TimedHttpToolsProtocol
from wopi_frontend.settings import FrontendSettings, local_secret
from wopi_frontend.storage_client import StorageCallError, StorageClient
from wopi_frontend.tokens import TokenIssuer
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal

_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _secrets_dir() -> Path:
    return Path(os.environ.get("WOPI_SECRETS_DIR", ".secrets"))


def local_settings(**overrides: object) -> FrontendSettings:
    """Settings for local use: the environment first, then secrets from the secrets folder."""
    environ = dict(os.environ)
    if "WOPI_TOKEN_KEY" not in environ and "WOPI_TOKEN_KEY_FILE" not in environ:
        environ["WOPI_TOKEN_KEY"] = local_secret(_secrets_dir(), "token-key")
    if "WOPI_STORAGE_SECRET" not in environ and "WOPI_STORAGE_SECRET_FILE" not in environ:
        environ["WOPI_STORAGE_SECRET"] = local_secret(_secrets_dir(), "storage-secret")
    return FrontendSettings.from_environ(environ, **overrides)


def serve_frontend(settings: FrontendSettings) -> None:
    logging.getLogger("wopi_frontend").setLevel(settings.log_level.upper())  # ours, as uvicorn's below
    # Connection limits (ARCHITECTURE rule 10); see http_protocol.py for the head and write timeouts uvicorn lacks.
    protocol = TimedHttpToolsProtocol.with_timeouts(
        header_timeout=settings.client_header_timeout, write_timeout=settings.client_idle_timeout
    )
    config = uvicorn.Config(
        create_asgi_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,  # uvicorn's access log would print the access_token query parameter
        log_level=settings.log_level,
        proxy_headers=False,
        http=protocol,
        limit_concurrency=settings.max_connections,  # beyond it, new requests get 503 at once
        timeout_keep_alive=settings.keep_alive_timeout,
        backlog=LISTEN_BACKLOG,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,  # used only if the h11 protocol is chosen
    )
    exporter = None
    if settings.metrics_port is not None:  # a port of its own: never reachable through the public one
        try:
            exporter = metrics.serve(settings.metrics_host, settings.metrics_port)
        except OSError as error:
            raise SystemExit(
                f"wopi-host: cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: {error}"
            ) from None
    try:
        uvicorn.Server(config).run()
    finally:
        if exporter is not None:
            exporter.shutdown()
            exporter.server_close()


def with_dev_login(settings: FrontendSettings) -> FrontendSettings:
    """The settings with a login secret made for this run when the development user needs one (and none was
    configured), after printing the login link to this terminal: it is the person's only way in."""
    if not settings.dev_user or settings.identity_header or not settings.dev_login_required:
        return settings
    if not settings.dev_login_secret:
        settings = replace(settings, dev_login_secret=secrets.token_urlsafe(32))
    # print, not logging: the link is for the person at this terminal, not for log files.
    print(
        f"wopi-host: to use the file browser as {settings.dev_user!r}, open {dev_login.login_url(settings)}", flush=True
    )
    return settings


def wait_for_storage(target: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if process.poll() is not None:
                raise SystemExit(f"wopi-host: the storage service exited with {process.returncode}")
            try:
                if (
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    == health_pb2.HealthCheckResponse.SERVING
                ):
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("wopi-host: the storage service did not start")
            time.sleep(0.1)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _login_name() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def storage_address(storage_port: int | None) -> tuple[str, Path | None]:
    """Where `run`'s two services meet: a Unix domain socket in a new private folder (mode 0700: only this user
    can connect, and the shared secret is still required), or loopback TCP on `storage_port` when one is given.
    The socket spares every call and every chunk the TCP stack (docs/performance.md compares the two); its folder
    is new for each run, so a second `run` never takes over the socket of one still running."""
    if storage_port is not None:
        return f"127.0.0.1:{storage_port}", None
    folder = Path(tempfile.mkdtemp(prefix="wopi-host-"))
    return f"unix:{folder / 'storage.sock'}", folder


def command_run(args: argparse.Namespace) -> None:
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    storage_target, socket_folder = storage_address(args.storage_port)
    settings = local_settings(
        host=args.host,
        port=args.port,
        public_url=public_url,
        storage_target=storage_target,
        discovery_url=args.discovery_url,
        # Local use: the person at this machine uses the file browser as their login name, unless an identity
        # is configured. Never when listening beyond loopback, where anyone could then act as that user.
        dev_user=os.environ.get("WOPI_DEV_USER") or (_login_name() if args.host in LOOPBACK_HOSTS else None),
    )
    state_path: Path | None = None
    environment = {**os.environ, "WOPI_STORAGE_SECRET": settings.storage_secret or ""}
    # SIGTERM and SIGINT end `run` through the `finally` below, so the storage service never outlives it
    # (uvicorn, after its own graceful shutdown, re-raises the signal it stopped on to this handler).
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _exit_cleanly)
    storage = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "storage_adapter",
            "--backend",
            "filesystem",
            "--root",
            str(args.data),
            "--listen",
            settings.storage_target,
        ],
        env=environment,
    )
    try:
        wait_for_storage(settings.storage_target, storage)
        print(f"wopi-host: documents in {args.data.resolve()}; WOPI at {settings.base_url}/wopi/files/<id>", flush=True)
        if settings.discovery_url:
            print(f"wopi-host: the WOPI client's discovery: {settings.discovery_url}", flush=True)
        print("wopi-host: try `wopi-host token --file example.docx --create` for a token", flush=True)
        state_path = run_state.write(_secrets_dir(), settings.base_url, settings.storage_target)
        serve_frontend(with_dev_login(settings))
    finally:
        if state_path is not None:
            run_state.remove(state_path)
        storage.send_signal(signal.SIGTERM)
        try:
            storage.wait(15)
        except subprocess.TimeoutExpired:
            storage.kill()
        if socket_folder is not None:
            shutil.rmtree(socket_folder, ignore_errors=True)


async def _resolve_file(storage: StorageClient, file: str, create: bool, user: Principal) -> str:
    """A file id from an id or a path from the root container ("name", "folder/name"); with `create`, an empty
    file of that name, and the folders on its way."""
    if _FILE_ID.fullmatch(file):
        try:
            return (await storage.stat_file(file, user)).file_id
        except StorageCallError as error:
            if error.code != grpc.StatusCode.NOT_FOUND and error.code != grpc.StatusCode.INVALID_ARGUMENT:
                raise
    *folders, name = file.split("/")
    if not name or not all(folders):
        raise SystemExit(f"wopi-host: {file!r} is not a path of a file (folder/name)")
    container_id = (await storage.root_container(user)).container_id
    for folder in folders:
        container_id = await _resolve_folder(storage, container_id, folder, create, user)
    try:
        item = await storage.lookup_child(container_id, name, user)
    except StorageCallError as error:
        if error.code != grpc.StatusCode.NOT_FOUND or not create:
            raise SystemExit(f"wopi-host: no file {file!r} (use --create)") from None
    else:
        if not item.HasField("file"):
            raise SystemExit(f"wopi-host: {file!r} is a folder")
        return item.file.file_id

    async def nothing():  # type: ignore[no-untyped-def]
        return
        yield b""

    try:
        return (await storage.create_file(container_id, name, nothing(), user)).file_id
    except StorageCallError as error:
        raise SystemExit(f"wopi-host: cannot create {file!r}: {error.message}") from None


async def _resolve_folder(storage: StorageClient, parent_id: str, name: str, create: bool, user: Principal) -> str:
    """The id of the folder `name` in `parent_id`; with `create`, made if missing."""
    try:
        item = await storage.lookup_child(parent_id, name, user)
    except StorageCallError as error:
        if error.code != grpc.StatusCode.NOT_FOUND or not create:
            raise SystemExit(f"wopi-host: no folder {name!r} (use --create)") from None
        try:
            return (await storage.create_container(parent_id, name, user)).container_id
        except StorageCallError as error:
            raise SystemExit(f"wopi-host: cannot create the folder {name!r}: {error.message}") from None
    if not item.HasField("container"):
        raise SystemExit(f"wopi-host: {name!r} is a file, not a folder")
    return item.container.container_id


async def _token(settings: FrontendSettings, args: argparse.Namespace) -> dict[str, object]:
    user = Principal(args.user, args.display_name or args.user, tuple(args.group or ()))
    storage = StorageClient(settings.storage_target, settings.storage_secret, timeout=settings.storage_timeout)
    try:
        file_id = await _resolve_file(storage, args.file, args.create, user)
        # As the host page does: never more than storage lets this user do with the file.
        info = await storage.stat_file(file_id, user)
        permissions = await storage_permissions.allowed(storage, PERMISSION_SETS[args.permission], user, info)
    except StorageCallError as error:
        raise SystemExit(f"wopi-host: storage at {settings.storage_target}: {error}") from None
    finally:
        await storage.close()
    token, claims = TokenIssuer(settings.token_key, settings.token_ttl).issue(user, FileId(file_id), permissions)
    return {
        "wopi_src": f"{settings.base_url}/wopi/files/{file_id}",
        "access_token": token,
        "access_token_ttl": claims.expires_ms,
    }


def _token_settings(args: argparse.Namespace) -> FrontendSettings:
    """The running `run`'s public URL and storage target when there is one; a different value asked for
    explicitly (--public-url, WOPI_PUBLIC_URL, WOPI_STORAGE_TARGET) is an error, never silently used."""
    running = run_state.read(_secrets_dir())
    if running is None:
        return local_settings(public_url=args.public_url)
    asked = {
        "public URL (--public-url / WOPI_PUBLIC_URL)": (
            args.public_url or os.environ.get("WOPI_PUBLIC_URL"),
            running.public_url,
        ),
        "storage target (WOPI_STORAGE_TARGET)": (os.environ.get("WOPI_STORAGE_TARGET"), running.storage_target),
    }
    for what, (explicit, actual) in asked.items():
        if explicit and explicit.rstrip("/") != actual.rstrip("/"):
            raise SystemExit(
                f"wopi-host: the {what} is {explicit}, but `wopi-host run` (process {running.pid}, recorded in "
                f"{_secrets_dir() / run_state.FILE_NAME}) uses {actual}: leave it unset, or match the running one"
            )
    return local_settings(public_url=running.public_url, storage_target=running.storage_target)


def command_token(args: argparse.Namespace) -> None:
    settings = _token_settings(args)
    print(json.dumps(asyncio.run(_token(settings, args))))


async def _admin(settings: FrontendSettings, args: argparse.Namespace) -> None:
    admin = lock_admin.administrator(args.admin_principal)
    storage = StorageClient(settings.storage_target, settings.storage_secret, timeout=settings.storage_timeout)
    try:
        if args.tool == "locks":
            count = await lock_admin.print_locks(storage, admin, args.page_size)
            print(f"wopi-host: {count} locked file{'' if count == 1 else 's'}", file=sys.stderr)
        else:
            before = await lock_admin.unlock(storage, admin, args.file_id, args.reason)
            holder = lock_admin.printable(before.lock.locked_by.display_name or before.lock.locked_by.user_id)
            held = f", held by {holder}" if holder else ""
            print(f"wopi-host: unlocked {args.file_id} ({lock_admin.printable(before.name)}{held})")
    finally:
        await storage.close()


def command_admin(args: argparse.Namespace) -> None:
    """`wopi-host admin locks|unlock`, with the configuration `token` uses (the running `run`'s storage)."""
    try:
        asyncio.run(_admin(_token_settings(args), args))
    except lock_admin.AdminError as error:
        print(f"wopi-host: {error}", file=sys.stderr)
        raise SystemExit(error.status) from None


def command_frontend(args: argparse.Namespace) -> None:
    settings = FrontendSettings.from_environ(host=args.host, port=args.port)
    serve_frontend(with_dev_login(settings))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wopi-host", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="storage and front-end together, for local use")
    run.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("WOPI_DATA", "data")),
        help="folder holding the documents (default: ./data, or WOPI_DATA)",
    )
    run.add_argument("--host", default=os.environ.get("WOPI_HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("WOPI_PORT", "8080")))
    run.add_argument(
        "--storage-port",
        type=int,
        default=None,
        help="the storage service on this loopback TCP port (default: a Unix domain socket in a private folder)",
    )
    run.add_argument(
        "--public-url",
        default=os.environ.get("WOPI_PUBLIC_URL"),
        help="externally visible base URL (default: http://HOST:PORT)",
    )
    run.add_argument(
        "--discovery-url",
        default=None,
        help="the WOPI client's discovery XML, e.g. http://localhost:9980/hosting/discovery for Collabora "
        "(default: WOPI_DISCOVERY_URL; none: no editor)",
    )
    run.set_defaults(handler=command_run)

    frontend = commands.add_parser("frontend", help="the front-end alone, configured by WOPI_* variables")
    frontend.add_argument("--host", default=None)
    frontend.add_argument("--port", type=int, default=None)
    frontend.set_defaults(handler=command_frontend)

    token = commands.add_parser("token", help="print a WOPI access token for a file, as JSON")
    token.add_argument("--file", required=True, help="file id, or path of a file from the root container (folder/name)")
    token.add_argument(
        "--create", action="store_true", help="create an empty file of that name, and its folders, if missing"
    )
    token.add_argument("--user", default="local-user")
    token.add_argument("--display-name", default="")
    token.add_argument("--group", action="append", help="a group the user is in (repeatable)")
    token.add_argument("--permission", choices=sorted(PERMISSION_SETS), default="edit")
    token.add_argument("--public-url", default=None)
    token.set_defaults(handler=command_token)

    operator = argparse.ArgumentParser(add_help=False)
    operator.add_argument(
        "--admin-principal",
        default=os.environ.get(lock_admin.ADMIN_PRINCIPAL_ENV),
        help="the principal id the storage service treats as an administrator (its --admin-principal; default: "
        f"{lock_admin.ADMIN_PRINCIPAL_ENV})",
    )
    admin = commands.add_parser("admin", help="the storage administrator's lock tools")
    tools = admin.add_subparsers(dest="tool", required=True)
    locks = tools.add_parser("locks", parents=[operator], help="list the files locked now, across the whole store")
    locks.add_argument("--page-size", type=int, default=100, help="files per request to storage (default: 100)")
    unlock = tools.add_parser("unlock", parents=[operator], help="break a file's lock, recorded with a reason")
    unlock.add_argument("file_id", help="the file's id (as `admin locks` lists it)")
    unlock.add_argument("--reason", required=True, help="why, for the file's history (at most 500 characters)")
    admin.set_defaults(handler=command_admin, public_url=None)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args.handler(args)
    except ValueError as error:  # bad settings
        raise SystemExit(f"wopi-host: error: {error}") from None


if __name__ == "__main__":
    main()
