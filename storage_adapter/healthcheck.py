"""Probe a running `wopi-storage` with the standard gRPC health check: the container health check.

    python -m storage_adapter.healthcheck [HOST:PORT | unix:PATH] [--service NAME] [--timeout SECONDS]

The target defaults to WOPI_STORAGE_LISTEN (else 127.0.0.1:50051), the address the adapter itself listens on,
with a wildcard host (0.0.0.0, [::] or none) replaced by loopback: a server listening on every interface is
reached there from inside its own container; a Unix socket (`unix:PATH`) is probed at that path. The adapter
answers `grpc.health.v1.Health/Check` without the shared secret, so none is needed here.

When WOPI_STORAGE_TLS_CERT is set (the adapter serves TLS), the check uses TLS and trusts that certificate, or
the CA given with --tls-ca; --server-name sets the name checked against the certificate when it is not the
target's host.

Exit status: 0 when the service answers SERVING, 1 otherwise (not listening, timeout, NOT_SERVING, bad
arguments), with a one-line reason on standard error. Docker reserves exit status 2 in health checks, so it is
never used.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 3.0  # seconds: well inside the compose health check's own timeout
_WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "[::]": "[::1]", "::": "[::1]"}


class HealthcheckError(Exception):
    """The service is not healthy, or cannot be asked; the message is the one-line reason."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit 2, which Docker reserves
        self.exit(1, f"{self.prog}: error: {message}\n")


def probe_target(listen: str) -> str:
    """The address to probe a server listening on `listen` ("host:port", or "unix:PATH") at: wildcard hosts
    become loopback; a Unix socket is dialled as it is named."""
    if listen.startswith(("unix:", "unix-abstract:")):
        return listen
    host, separator, port = listen.rpartition(":")
    if not separator or not port.isdigit():
        raise HealthcheckError(f"not a host:port address: {listen!r}")
    return f"{_WILDCARDS.get(host, host)}:{port}"


def check(
    target: str,
    *,
    service: str = "",
    timeout: float = DEFAULT_TIMEOUT,
    root_certificates: bytes | None = None,
    server_name: str | None = None,
) -> None:
    """Return when `service` at `target` answers SERVING within `timeout` seconds; raise HealthcheckError.

    With `root_certificates` (PEM) the channel uses TLS and trusts them.
    """
    options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
    if root_certificates is not None:
        credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
        channel = grpc.secure_channel(target, credentials, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            answer = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            details = error.details() if isinstance(error, grpc.Call) else str(error)
            name = code.name if code is not None else "ERROR"
            reason = " ".join((details or "").split())[:200]
            raise HealthcheckError(f"{target}: {name}: {reason}" if reason else f"{target}: {name}") from None
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
        label = f"service {service!r}" if service else "server"
        raise HealthcheckError(f"{target}: {label} is {status}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m storage_adapter.healthcheck",
        description="Exit 0 when the storage adapter answers the gRPC health check with SERVING, 1 otherwise.",
    )
    parser.add_argument(
        "target",
        nargs="?",
        help="host:port or unix:PATH to probe "
        "(default: WOPI_STORAGE_LISTEN with 0.0.0.0 as 127.0.0.1, else 127.0.0.1:50051)",
    )
    parser.add_argument("--service", default="", help="service name to check (default: the whole server)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="deadline in seconds (default: 3)")
    parser.add_argument(
        "--tls-ca", type=Path, help="PEM file of trusted certificates; enables TLS (default: WOPI_STORAGE_TLS_CERT)"
    )
    parser.add_argument("--server-name", help="name to check the server certificate against (TLS only)")
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    try:
        if args.timeout <= 0:
            raise HealthcheckError("--timeout must be positive")
        target = args.target or probe_target(environ.get("WOPI_STORAGE_LISTEN") or DEFAULT_LISTEN)
        ca_path: Path | None = args.tls_ca
        if ca_path is None and environ.get("WOPI_STORAGE_TLS_CERT"):
            ca_path = Path(environ["WOPI_STORAGE_TLS_CERT"])
        try:
            root_certificates = ca_path.read_bytes() if ca_path is not None else None
        except OSError as error:
            raise HealthcheckError(f"cannot read {ca_path}: {error.strerror}") from None
        check(
            target,
            service=args.service,
            timeout=args.timeout,
            root_certificates=root_certificates,
            server_name=args.server_name,
        )
    except HealthcheckError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
