"""The proof-key check on every WOPI request (/wopi/...), as ASGI middleware: it runs before routing, so a request
that fails it reaches no route and no storage call, and changes nothing.

It is on when `settings.proof_keys` is true (the default) and a discovery URL is configured:
* the discovery has a proof key: X-WOPI-Proof / X-WOPI-ProofOld / X-WOPI-TimeStamp must verify (proof_keys.py)
  and be at most 20 minutes old; otherwise 500 with X-WOPI-ServerError, as WOPI asks (not 401);
* a proof is accepted once: the same signed message again within its 20 minutes is a replay, refused the same
  way (proof_replay.py; each replica remembers only what it accepted itself);
* the discovery has no proof key: the client does not sign (ONLYOFFICE without keys configured); no check;
* no discovery has been loaded yet: whether the client signs is unknown, so requests are refused (500) rather
  than let through unchecked.

The signed URL is rebuilt from `settings.public_url` (what the client called: behind a TLS-terminating proxy,
the https URL) plus the path and query exactly as received, never re-encoded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wopi_frontend import metrics
from wopi_frontend.context import WopiContext
from wopi_frontend.discovery import Discovery
from wopi_frontend.proof_keys import (
    MAX_AGE_SECONDS,
    Verdict,
    is_fresh,
    parse_timestamp,
    signed_bytes,
    ticks_to_unix,
    verify,
)
from wopi_frontend.proof_replay import Admission, ProofReplayMemory

logger = logging.getLogger("wopi_frontend.proof_keys")


class ProofRejected(Exception):
    """Why a request's proof was refused (for the log and X-WOPI-ServerError; never secrets). `kind`: one word of a
    fixed few, the metrics' label (unsigned, timestamp, signature, replay, no_discovery)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class SignatureMismatch(ProofRejected):
    """Signed, but not by any key this host knows: perhaps keys it has not read yet."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "signature")


def is_wopi_path(path: str) -> bool:
    return path == "/wopi" or path.startswith("/wopi/")


def request_url(base_url: str, scope: Scope) -> str:
    """The URL as the client built it: the public base URL, then the raw path and query string."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    url = base_url + raw_path.decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{url}?{query}" if query else url


def token_forms(scope: Scope, headers: Headers) -> list[str]:
    """The access token as the client may have signed it: decoded, then as it appears in the query (they differ
    only for tokens that need escaping, which this host never issues), else the Bearer credentials, else the
    empty token: WOPI signs a request without a token like any other, and such a request must pass this check
    to get the token check's 401."""
    raw_query = scope.get("query_string", b"").decode("latin-1")
    forms = [value for name, value in parse_qsl(raw_query, keep_blank_values=True) if name == "access_token"]
    forms += [part[len("access_token=") :] for part in raw_query.split("&") if part.startswith("access_token=")]
    if not forms:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            forms.append(credentials.strip())
    return forms or [""]


@dataclass(frozen=True)
class AcceptedProof:
    verdict: Verdict
    signed: bytes  # what the client signed (all token forms tried), the key of the replay memory
    stale_after: float  # when the timestamp stops being fresh (Unix seconds)


def check_proof(
    discovery: Discovery, url: str, tokens: list[str], headers: Headers, now: float
) -> AcceptedProof | None:
    """The accepted proof of one request, checked against `discovery`'s keys (None: the client does not sign);
    raises ProofRejected when it must be refused."""
    keys = discovery.proof_key
    if keys is None:
        return None
    proof, timestamp_header = headers.get("x-wopi-proof"), headers.get("x-wopi-timestamp")
    if not proof or timestamp_header is None:
        raise ProofRejected("the request carries no X-WOPI-Proof or X-WOPI-TimeStamp", "unsigned")
    timestamp = parse_timestamp(timestamp_header)
    if timestamp is None:
        raise ProofRejected("X-WOPI-TimeStamp is not a number of ticks", "timestamp")
    if not is_fresh(timestamp, now):
        raise ProofRejected("X-WOPI-TimeStamp is more than 20 minutes off", "timestamp")
    verdict = verify(
        keys,
        access_tokens=tokens,
        url=url,
        timestamp=timestamp,
        proof=proof,
        proof_old=headers.get("x-wopi-proofold"),
    )
    if verdict is Verdict.INVALID:
        raise SignatureMismatch("the proof does not verify with the WOPI client's keys")
    # Every token form goes into the key, in order: they all come from the signed URL or the one Bearer header,
    # so a replay that still verifies has the same ones. The URL is upper-cased, as signed.
    signed = b"".join(signed_bytes(token, url, timestamp) for token in dict.fromkeys(tokens))
    return AcceptedProof(verdict, signed, ticks_to_unix(timestamp) + MAX_AGE_SECONDS)


class ProofKeyCheck:
    def __init__(self, app: ASGIApp, context: WopiContext, clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.context = context
        self.clock = clock
        self.replays = ProofReplayMemory(context.settings.proof_replay_capacity)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = self.context.discovery
        if (
            scope["type"] != "http"
            or service is None
            or not self.context.settings.proof_keys
            or not is_wopi_path(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        try:
            await self._check(scope)
        except ProofRejected as rejection:
            # The path percent-encoded again (no forged log lines); never the query string, which holds the token.
            logger.warning("%s %s refused: %s", scope["method"], quote(scope["path"], safe="/"), rejection)
            metrics.PROOF_KEY_FAILURES.labels(rejection.kind).inc()
            response = Response(status_code=500, headers={"X-WOPI-ServerError": f"proof check failed: {rejection}"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope) -> None:
        service = self.context.discovery
        assert service is not None
        if service.current is None:
            await service.refresh_now()  # rate-limited; the background retries go on regardless
        discovery = service.current
        if discovery is None:
            raise ProofRejected("the WOPI client's discovery (with its proof keys) is not loaded yet", "no_discovery")
        headers = Headers(scope=scope)
        url = request_url(self.context.settings.base_url, scope)
        tokens = token_forms(scope, headers)
        now = self.clock()
        try:
            accepted = check_proof(discovery, url, tokens, headers, now)
        except SignatureMismatch:
            # Perhaps the client rotated its keys twice since the last discovery: read it again (at most once a
            # minute) and try the new keys before refusing.
            await service.refresh_now()
            if service.current is None or service.current is discovery:
                raise
            accepted = check_proof(service.current, url, tokens, headers, now)
        if accepted is None:
            return
        # No await between the verdict and this: a proof is admitted once even when its copies arrive together.
        admission = self.replays.admit(accepted.signed, stale_after=accepted.stale_after, now=now)
        if admission is Admission.REPLAY:
            raise ProofRejected("this proof was accepted before: a replayed request", "replay")
        if admission is Admission.TOO_OLD:
            raise ProofRejected(
                f"X-WOPI-TimeStamp is older than the {self.replays.capacity} newest proofs, which are all this "
                "host remembers to refuse replays (WOPI_PROOF_REPLAY_CAPACITY)",
                "replay",
            )
        if accepted.verdict is Verdict.VALID_ROTATED:
            service.refresh_soon()  # accepted, but the keys are rotating: WOPI says re-read discovery
