"""`wopi-storage`: run the storage adapter. Every option has an environment variable; the option wins.

wopi-storage --backend filesystem --root ./data --listen 127.0.0.1:50051
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc

from storage_adapter import metrics
from storage_adapter.backends import BACKENDS, create_backend
from storage_adapter.server import ServerLimits, serve
from storage_adapter.settings import AdapterSettings

ENV_PREFIX = "WOPI_STORAGE_"
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _optional_int(value: str) -> int | None:
    """A number, or nothing for an empty value (`WOPI_STORAGE_METRICS_PORT: ""` in compose: off)."""
    return int(value) if value.strip() else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wopi-storage",
        description="The WOPI host's storage adapter: serves wopi.storage.v1 over gRPC.",
        epilog=f"Each option can also be set with an environment variable {ENV_PREFIX}<OPTION> "
        "(e.g. WOPI_STORAGE_ROOT). The shared secret is read from WOPI_STORAGE_SECRET or --secret-file, "
        "never from the command line, so that it does not show in process listings.",
    )
    parser.add_argument("--backend", choices=BACKENDS, help="storage backend (default: filesystem)")
    parser.add_argument("--root", type=Path, help="filesystem backend: folder holding the documents (default: ./data)")
    parser.add_argument(
        "--listen",
        help="address to listen on: host:port, or unix:PATH for a Unix domain socket (default: 127.0.0.1:50051)",
    )
    parser.add_argument("--secret-file", type=Path, help="file holding the shared secret callers must present")
    parser.add_argument(
        "--allow-unauthenticated",
        type=_flag,
        nargs="?",
        const=True,
        help="accept callers without the shared secret (local development only)",
    )
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate chain; enables TLS together with --tls-key")
    parser.add_argument("--tls-key", type=Path, help="PEM private key")
    parser.add_argument("--max-file-size", type=int, help="largest accepted file in bytes (default: 0, no limit)")
    parser.add_argument("--max-versions-kept", type=int, help="earlier versions kept per file (default: 10)")
    parser.add_argument(
        "--max-container-depth", type=int, help="deepest new folder, the root being 0 (default: 64; 0: no limit)"
    )
    parser.add_argument(
        "--access-control",
        type=_flag,
        nargs="?",
        const=True,
        help="enforce access control, permissions decided by storage (default: true; filesystem, sql and s3: "
        "--access-control false turns it off; memory always enforces)",
    )
    parser.add_argument(
        "--admin-principal",
        action="append",
        help="a principal id holding every permission everywhere, for operator tools (repeatable; env: "
        "comma-separated; backends with access control), and on every backend the one who may list locked files "
        "and break locks (wopi-host admin)",
    )
    parser.add_argument(
        "--unowned-access",
        choices=["editor", "viewer", "none"],
        help="who may use items without an owner: every identified user as editor (default), as viewer, or none",
    )
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default: info")
    sql = parser.add_argument_group("sql and s3 backends")
    sql.add_argument(
        "--database-url",
        help="sqlite:///path.db or postgresql://user@host:port/db (a URL with a password: prefer "
        "WOPI_STORAGE_DATABASE_URL or --database-url-file, which stay out of process listings)",
    )
    sql.add_argument("--database-url-file", type=Path, help="file holding the database URL")
    sql.add_argument("--database-pool-size", type=int, help="database connections per process (default: 10)")
    s3 = parser.add_argument_group("s3 backend (credentials: the standard AWS_* variables)")
    s3.add_argument("--s3-endpoint", help="endpoint URL of an S3-compatible store (default: AWS)")
    s3.add_argument("--s3-bucket", help="bucket holding the contents")
    s3.add_argument("--s3-prefix", help="key prefix of the contents' objects (default: blobs/)")
    s3.add_argument("--s3-region", help="region (default: from the AWS configuration)")
    s3.add_argument("--s3-create-bucket", type=_flag, nargs="?", const=True, help="create the bucket if missing")
    limits = parser.add_argument_group("limits per caller (seconds; 0 disables an idle or age limit)")
    limits.add_argument("--stream-idle-timeout", type=float, help="abort an upload silent this long (default: 30)")
    limits.add_argument("--keepalive-time", type=float, help="ping each connection this often (default: 60)")
    limits.add_argument("--keepalive-timeout", type=float, help="close a connection not answering (default: 20)")
    limits.add_argument("--max-connection-idle", type=float, help="close a connection idle this long (default: 900)")
    limits.add_argument("--max-connection-age", type=float, help="recycle connections this old (default: 3600)")
    limits.add_argument(
        "--max-connection-age-grace", type=float, help="time calls get to finish on recycling (default: 3600)"
    )
    limits.add_argument("--max-streams-per-connection", type=int, help="calls at once per connection (default: 1000)")
    limits.add_argument("--max-health-watchers", type=int, help="open Health.Watch streams in all (default: 100)")
    limits.add_argument("--max-concurrent-uploads", type=int, help="uploads received at once (default: 256)")
    observed = parser.add_argument_group("metrics (Prometheus, over HTTP on a port of their own)")
    observed.add_argument("--metrics-port", type=int, help="serve metrics on this port (default: none, off)")
    observed.add_argument("--metrics-host", help="address the metrics port listens on (default: 127.0.0.1)")
    return parser


def settings_from(args: argparse.Namespace, environ: Mapping[str, str]) -> AdapterSettings:
    def pick(name: str) -> str | None:
        value = getattr(args, name)
        if value is not None:
            return str(value)
        return environ.get(ENV_PREFIX + name.upper())

    secret_file = pick("secret_file")
    secret = Path(secret_file).read_text().strip() if secret_file else environ.get(ENV_PREFIX + "SECRET") or None
    values: dict[str, object] = {"secret": secret}
    url_file = pick("database_url_file")
    database_url = Path(url_file).read_text().strip() if url_file else pick("database_url")
    if database_url:
        values["database_url"] = database_url
    conversions = {
        "backend": str,
        "root": Path,
        "listen": str,
        "allow_unauthenticated": _flag,
        "tls_cert": Path,
        "tls_key": Path,
        "max_file_size": int,
        "max_versions_kept": int,
        "max_container_depth": int,
        "log_level": str,
        "unowned_access": str,
        "access_control": _flag,
        "database_pool_size": int,
        "s3_endpoint": str,
        "s3_bucket": str,
        "s3_prefix": str,
        "s3_region": str,
        "s3_create_bucket": _flag,
        "stream_idle_timeout": float,
        "keepalive_time": float,
        "keepalive_timeout": float,
        "max_connection_idle": float,
        "max_connection_age": float,
        "max_connection_age_grace": float,
        "max_streams_per_connection": int,
        "max_health_watchers": int,
        "max_concurrent_uploads": int,
        "metrics_port": _optional_int,
        "metrics_host": str,
    }
    admins = args.admin_principal or [
        admin for admin in (environ.get(ENV_PREFIX + "ADMIN_PRINCIPALS") or "").split(",") if admin
    ]
    if admins:
        values["admin_principals"] = tuple(admins)
    for name, convert in conversions.items():
        raw = pick(name)
        if raw is not None:
            try:
                values[name] = convert(raw)
            except (ValueError, argparse.ArgumentTypeError) as error:
                raise ValueError(f"{name}: {error}") from None
    if values.get("backend", "filesystem") not in BACKENDS:
        raise ValueError(f"backend: choose one of {', '.join(BACKENDS)}")
    return AdapterSettings(**values)  # type: ignore[arg-type]


def run(settings: AdapterSettings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    credentials = None
    if settings.tls_cert is not None and settings.tls_key is not None:
        credentials = grpc.ssl_server_credentials([(settings.tls_key.read_bytes(), settings.tls_cert.read_bytes())])
    if settings.metrics_port is not None:  # first: a metrics port already taken stops the start before the backend
        metrics.serve(settings.metrics_host, settings.metrics_port)
    backend = create_backend(settings)
    secret = None if settings.allow_unauthenticated and settings.secret is None else settings.secret
    limits = ServerLimits.of(settings)
    measured = settings.metrics_port is not None
    run_loop(serve(backend, settings.listen, secret=secret, credentials=credentials, limits=limits, measured=measured))


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on uvloop where it is installed (every platform but Windows, pyproject.toml), as the
    front-end's uvicorn does: the gRPC server's per-call callbacks cost less on it (docs/dependencies.md)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from(args, os.environ if environ is None else environ)
    except (ValueError, OSError) as error:
        parser.exit(2, f"wopi-storage: error: {error}\n")
    try:
        run(settings)
    except RuntimeError as error:  # e.g. the root is already served by another process
        print(f"wopi-storage: error: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
