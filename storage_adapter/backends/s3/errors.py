"""Which S3 failures are worth a retry: the one place that turns botocore's exceptions into storage errors."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectionError,
    HTTPClientError,
    IncompleteReadError,
)

from storage_adapter.errors import Unavailable

# Error codes that AWS, MinIO, SeaweedFS, R2 and Ceph use for "slow down" and "try again": some come with a 4xx
# status (RequestTimeout is 400, throttling can be 400, 429 or 503).
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "BandwidthLimitExceeded",
    }
)
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})

# Failures of the connection itself (refused, reset, timed out, closed half-way through a body).
CONNECTION_ERRORS: tuple[type[Exception], ...] = (ConnectionError, HTTPClientError, IncompleteReadError)


def status_and_code(error: ClientError) -> tuple[int, str]:
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    code = str(error.response.get("Error", {}).get("Code", ""))
    return status, code


def describe(error: ClientError) -> str:
    """`403 AccessDenied`, or `403` alone when the answer had no body (HEAD requests)."""
    status, code = status_and_code(error)
    return f"{status} {code}" if code and code != str(status) else str(status)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, CONNECTION_ERRORS):
        return True
    if isinstance(error, ClientError):
        status, code = status_and_code(error)
        return status >= 500 or status == 429 or code in TRANSIENT_CODES
    return False


def is_not_found(error: BaseException) -> bool:
    return isinstance(error, ClientError) and status_and_code(error)[1] in NOT_FOUND_CODES


def unavailable(error: BaseException, operation: str) -> Unavailable:
    if isinstance(error, ClientError):
        return Unavailable(f"object store: {operation} failed with {describe(error)}; retry later")
    return Unavailable(f"object store: {operation} failed ({type(error).__name__}); retry later")
