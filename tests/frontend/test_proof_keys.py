"""Proof keys: Microsoft's official vectors, and the check on every WOPI request over real HTTP (a front-end whose
discovery, served on loopback, publishes keys the test holds the private halves of)."""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tests.frontend import discovery_samples as samples
from tests.frontend.discovery_samples import KeyPair
from tests.frontend.discovery_server import DiscoveryServer
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import mint
from tests.validator.cases import shared_dir
from tests.validator.proofs import INVALID, Signer
from wopi_frontend import proof_keys
from wopi_frontend.context import WopiContext
from wopi_frontend.discovery import DiscoveryService
from wopi_frontend.proof_check import ProofKeyCheck
from wopi_frontend.proof_keys import ProofKeySet, Verdict
from wopi_frontend.proof_replay import APPROXIMATE_BYTES_PER_ENTRY, Admission, ProofReplayMemory
from wopi_frontend.settings import FrontendSettings

VECTORS = json.loads((shared_dir() / "wopi" / "proof-key-vectors.json").read_text(encoding="utf-8"))


# ---- Microsoft's vectors -----------------------------------------------------------------------------------


def vector_keys() -> ProofKeySet:
    attributes = VECTORS["discovery_proof_key"]
    current = proof_keys.key_from_attributes(attributes)
    assert current is not None
    return ProofKeySet(current, proof_keys.key_from_attributes(attributes, "old"))


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[case["name"] for case in VECTORS["cases"]])
def test_microsofts_proof_key_vectors(case: dict[str, Any]) -> None:
    """All 8: 6 valid (current key, ProofOld with the current key, Proof with the old key), 2 invalid. Their
    timestamps are from 2015, so freshness is not part of this check."""
    verdict = proof_keys.verify(
        vector_keys(),
        access_tokens=[case["access_token"]],
        url=case["url"],
        timestamp=case["timestamp"],
        proof=case["proof"],
        proof_old=case["proof_old"],
    )
    assert (verdict is not Verdict.INVALID) == case["expected_valid"]
    assert len(VECTORS["cases"]) == 8


def test_the_csp_blobs_hold_the_same_keys_as_modulus_and_exponent() -> None:
    attributes = VECTORS["discovery_proof_key"]
    keys = vector_keys()
    assert proof_keys.public_key_from_csp_blob(attributes["value"]).public_numbers() == keys.current.public_numbers()
    assert keys.old is not None
    assert proof_keys.public_key_from_csp_blob(attributes["oldvalue"]).public_numbers() == keys.old.public_numbers()


def test_proof_old_with_the_old_key_alone_is_refused() -> None:
    pair = KeyPair.generate()
    keys = ProofKeySet(pair.current.public_key(), pair.old.public_key())
    signed = pair.signer.headers("token", "https://h/wopi/files/x?access_token=token", 638000000000000000)
    common = {
        "access_tokens": ["token"],
        "url": "https://h/wopi/files/x?access_token=token",
        "timestamp": 638000000000000000,
    }
    assert proof_keys.verify(keys, proof=signed["X-WOPI-Proof"], proof_old=INVALID, **common) is Verdict.VALID
    assert proof_keys.verify(keys, proof=INVALID, proof_old=signed["X-WOPI-ProofOld"], **common) is Verdict.INVALID
    # The URL is compared upper-cased; any other change to what was signed fails.
    shouted = dict(common, url=common["url"].upper())
    assert proof_keys.verify(keys, proof=signed["X-WOPI-Proof"], proof_old=None, **shouted) is Verdict.VALID
    for changed in ({"url": common["url"] + "&x=1"}, {"timestamp": 638000000000000001}, {"access_tokens": ["other"]}):
        assert proof_keys.verify(keys, proof=signed["X-WOPI-Proof"], proof_old=None, **{**common, **changed}) is (
            Verdict.INVALID
        )


def test_freshness_is_twenty_minutes() -> None:
    now = time.time()
    assert proof_keys.is_fresh(proof_keys.unix_to_ticks(now - 19 * 60), now)
    assert not proof_keys.is_fresh(proof_keys.unix_to_ticks(now - 21 * 60), now)
    assert not proof_keys.is_fresh(proof_keys.unix_to_ticks(now + 21 * 60), now)
    assert proof_keys.parse_timestamp("638000000000000000") == 638000000000000000
    for bad in (None, "", "-5", "1e9", "12.5", "٣", "99999999999999999999"):
        assert proof_keys.parse_timestamp(bad) is None


# ---- over HTTP ---------------------------------------------------------------------------------------------


@dataclass
class SignedClient:
    """Plays the WOPI client: signs each request over the URL it sends, with the keys it is given."""

    host: WopiHost
    signer: Signer
    public_url: str

    @staticmethod
    def path_and_query(file: dict[str, Any], suffix: str = "") -> str:
        return (
            f"{file['wopi_src'].removeprefix(PUBLIC_URL)}{suffix}"
            f"?access_token={file['access_token']}&access_token_ttl={file['access_token_ttl']}"
        )

    def proofs(self, file: dict[str, Any], suffix: str = "") -> dict[str, str]:
        """The proof headers of one request to `file` (+ `suffix`), signed now."""
        ticks = proof_keys.unix_to_ticks(time.time())
        return self.signer.headers(file["access_token"], self.public_url + self.path_and_query(file, suffix), ticks)

    def send(
        self,
        method: str,
        file: dict[str, Any],
        suffix: str = "",
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        signed_url: str | None = None,
        timestamp: float | None = None,
        proofs: dict[str, str] | None = None,
    ) -> httpx.Response:
        path_and_query = self.path_and_query(file, suffix)
        ticks = proof_keys.unix_to_ticks(time.time() if timestamp is None else timestamp)
        signed = self.signer.headers(file["access_token"], signed_url or self.public_url + path_and_query, ticks)
        all_headers = {**signed, **(proofs or {}), **(headers or {})}
        return httpx.request(method, self.host.url + path_and_query, headers=all_headers, content=content, timeout=30)

    def contents(self, file: dict[str, Any]) -> bytes:
        response = self.send("GET", file, "/contents")
        assert response.status_code == 200, response.headers
        return response.content


PUBLIC_URL = "https://wopi.example.test"  # as behind a TLS-terminating proxy: not the address the test calls


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture(scope="module")
def signed_host(tmp_path_factory: pytest.TempPathFactory, keys: KeyPair) -> Iterator[SignedClient]:
    with DiscoveryServer(samples.office(keys)) as server:
        base = Path(tmp_path_factory.mktemp("proof-host"))
        with WopiHost(base, WOPI_DISCOVERY_URL=server.url, WOPI_PUBLIC_URL=PUBLIC_URL) as host:
            yield SignedClient(host, keys.signer, PUBLIC_URL)


def test_a_signed_request_passes(signed_host: SignedClient) -> None:
    file = mint(signed_host.host, "signed.wopitest")
    response = signed_host.send("GET", file)
    assert response.status_code == 200, response.headers
    assert response.json()["BaseFileName"] == "signed.wopitest"


def test_the_three_accepted_combinations(signed_host: SignedClient, keys: KeyPair) -> None:
    """Proof with the current key; ProofOld with the current key (the client rotated first); Proof with the old
    key (this host rotated first). ProofOld with the old key alone is refused."""
    file = mint(signed_host.host, "combinations.wopitest")
    cases = {  # which signature goes where: "current" (Proof as signed), "old" (ProofOld as signed), or INVALID
        "proof valid, old invalid": (("current", INVALID), 200),
        "proof invalid, old signed with the current key": ((INVALID, "current"), 200),
        "proof signed with the old key, old invalid": (("old", INVALID), 200),
        "proof invalid, old signed with the old key": ((INVALID, "old"), 500),
        "both invalid": ((INVALID, INVALID), 500),
    }
    for name, (placed, expected) in cases.items():
        signed = signed_host.proofs(file)  # a fresh timestamp each time, as a client signs: no replay
        by_name = {"current": signed["X-WOPI-Proof"], "old": signed["X-WOPI-ProofOld"]}
        proof, proof_old = (by_name.get(value, value) for value in placed)
        proofs = {"X-WOPI-Proof": proof, "X-WOPI-ProofOld": proof_old, "X-WOPI-TimeStamp": signed["X-WOPI-TimeStamp"]}
        response = signed_host.send("GET", file, proofs=proofs)
        assert response.status_code == expected, name


def test_requests_without_proofs_are_refused(signed_host: SignedClient) -> None:
    file = mint(signed_host.host, "unsigned.wopitest")
    url = f"{signed_host.host.url}{file['wopi_src'].removeprefix(PUBLIC_URL)}"
    response = httpx.get(url, params={"access_token": file["access_token"]})
    assert response.status_code == 500
    assert "X-WOPI-Proof" in response.headers["X-WOPI-ServerError"]
    bad_timestamp = signed_host.send("GET", file, proofs={"X-WOPI-TimeStamp": "yesterday"})
    assert bad_timestamp.status_code == 500


def test_forged_stale_or_replayed_proofs_change_nothing(signed_host: SignedClient, keys: KeyPair) -> None:
    """A PutFile whose proof is forged, stale, or made for another URL gets 500, and the file is untouched."""
    client = signed_host
    file = mint(client.host, "guarded.wopitest")
    assert (
        client.send("POST", file, "/contents", headers={"X-WOPI-Override": "PUT"}, content=b"original").status_code
        == 200
    )
    version = client.send("GET", file).json()["Version"]
    put = {"X-WOPI-Override": "PUT"}
    forger = KeyPair.generate().signer
    stolen_url = f"{PUBLIC_URL}{file['wopi_src'].removeprefix(PUBLIC_URL)}/contents?access_token={file['access_token']}"
    attempts = {
        "forged": lambda: SignedClient(client.host, forger, PUBLIC_URL).send(
            "POST", file, "/contents", headers=put, content=b"x"
        ),
        "stale": lambda: client.send(
            "POST", file, "/contents", headers=put, content=b"x", timestamp=time.time() - 21 * 60
        ),
        # a proof captured from a GetFile (its URL has no access_token_ttl), replayed on a PutFile
        "replayed": lambda: client.send("POST", file, "/contents", headers=put, content=b"x", signed_url=stolen_url),
        # signed for the address the front-end listens on, not the public URL the client was given
        "internal URL": lambda: client.send(
            "POST", file, "/contents", headers=put, content=b"x", signed_url=client.host.url + "/wopi/files/x"
        ),
    }
    for name, attempt in attempts.items():
        response = attempt()
        assert response.status_code == 500, name
        assert response.headers["X-WOPI-ServerError"].startswith("proof check failed"), name
    assert client.contents(file) == b"original"
    assert client.send("GET", file).json()["Version"] == version
    log = client.host.log_tail()
    assert "refused" in log and file["access_token"] not in log


def test_a_proof_is_accepted_once(signed_host: SignedClient) -> None:
    """A signed CheckFileInfo replayed, within its 20 minutes, as a Lock or a DeleteFile on the same URL (they
    share it): refused as a proof failure, and the file stays as it was. Swapping the two signatures (both sign
    the same bytes) is the same replay. A freshly signed Lock passes."""
    client = signed_host
    file = mint(client.host, "replayed.wopitest")
    assert client.send("POST", file, "/contents", headers={"X-WOPI-Override": "PUT"}, content=b"kept").status_code == (
        200
    )
    captured = client.proofs(file)
    info = client.send("GET", file, proofs=captured)
    assert info.status_code == 200, info.headers
    swapped = {**captured, "X-WOPI-Proof": captured["X-WOPI-ProofOld"], "X-WOPI-ProofOld": INVALID}
    replays = {
        "as a Lock": ("POST", captured, {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": "attacker"}),
        "CheckFileInfo again": ("GET", captured, {}),
        "as a Lock, signatures swapped": ("POST", swapped, {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": "attacker"}),
        "as a DeleteFile": ("POST", captured, {"X-WOPI-Override": "DELETE"}),
    }
    for name, (method, proofs, headers) in replays.items():
        response = client.send(method, file, proofs=proofs, headers=headers)
        assert response.status_code == 500, name
        assert response.headers["X-WOPI-ServerError"] == (
            "proof check failed: this proof was accepted before: a replayed request"
        ), name
    get_lock = client.send("POST", file, headers={"X-WOPI-Override": "GET_LOCK"})
    assert get_lock.status_code == 200 and get_lock.headers["X-WOPI-Lock"] == ""
    assert client.send("GET", file).json()["Version"] == info.json()["Version"]
    assert client.contents(file) == b"kept"
    # The client's next request is signed afresh: accepted.
    lock = client.send("POST", file, headers={"X-WOPI-Override": "LOCK", "X-WOPI-Lock": "client"})
    assert lock.status_code == 200, lock.headers
    log = client.host.log_tail()
    assert "replayed request" in log and file["access_token"] not in log


def test_a_request_without_a_token_is_checked_with_the_empty_token(signed_host: SignedClient, keys: KeyPair) -> None:
    """WOPI signs the empty token like any other: a signed request that carries no access_token passes the proof
    check and gets the token check's 401, not a proof failure's 500."""
    file = mint(signed_host.host, "tokenless.wopitest")
    path = file["wopi_src"].removeprefix(PUBLIC_URL)
    for suffix in ("", "/contents"):
        proofs = keys.signer.headers("", PUBLIC_URL + path + suffix, proof_keys.unix_to_ticks(time.time()))
        response = httpx.get(signed_host.host.url + path + suffix, headers=proofs, timeout=30)
        assert response.status_code == 401, (suffix, response.headers)
    # Signed with some token while sending none is still a proof failure.
    proofs = keys.signer.headers("guess", PUBLIC_URL + path, proof_keys.unix_to_ticks(time.time()))
    assert httpx.get(signed_host.host.url + path, headers=proofs, timeout=30).status_code == 500


def test_proof_checks_can_be_switched_off(tmp_path: Path, keys: KeyPair) -> None:
    server = DiscoveryServer(samples.office(keys))
    with server, WopiHost(tmp_path, WOPI_DISCOVERY_URL=server.url, WOPI_PROOF_KEYS="false") as host:
        file = mint(host, "unchecked.wopitest")
        assert httpx.get(file["wopi_src"], params={"access_token": file["access_token"]}).status_code == 200


def test_a_discovery_without_proof_keys_means_no_checks(tmp_path: Path) -> None:
    with DiscoveryServer(samples.onlyoffice()) as server, WopiHost(tmp_path, WOPI_DISCOVERY_URL=server.url) as host:
        file = mint(host, "no-keys.wopitest")
        assert httpx.get(file["wopi_src"], params={"access_token": file["access_token"]}).status_code == 200


# ---- rotation, in-process ----------------------------------------------------------------------------------


def test_rotated_keys_are_read_again_and_accepted() -> None:
    """The client rotates twice (neither key is known here): the first request fails the check, the discovery
    is read again at once, and the request passes with the new keys. A proof that passes only with a rotated
    key schedules a refresh too. Refreshes stay rate-limited."""
    first, second = KeyPair.generate(), KeyPair.generate()
    settings = FrontendSettings(public_url=PUBLIC_URL, token_key="k" * 32, discovery_url="http://unused/")
    reached: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> None:
        with DiscoveryServer(samples.office(first)) as server:
            service = DiscoveryService(server.url, refresh_interval=3600, min_refresh_gap=0)
            context = WopiContext(settings, None, None, service)  # type: ignore[arg-type]
            transport = httpx.ASGITransport(app=ProofKeyCheck(app, context))
            await service.start()
            try:
                async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:

                    async def call(signer: Signer) -> int:
                        url = f"{PUBLIC_URL}/wopi/files/f?access_token=t"
                        headers = signer.headers("t", url, proof_keys.unix_to_ticks(time.time()))
                        return (await client.get("/wopi/files/f?access_token=t", headers=headers)).status_code

                    assert await call(first.signer) == 200
                    server.document = samples.office(second)
                    assert await call(second.signer) == 200  # refreshed at once, then accepted
                    assert server.fetches == 2
                    # Signed with the old key of the new set: accepted, and a refresh is scheduled.
                    assert await call(Signer(second.old, second.current)) == 200
                    await asyncio.sleep(0.2)
                    assert server.fetches == 3
                    assert await call(KeyPair.generate().signer) == 500
                    assert reached == ["/wopi/files/f"] * 3
                    # Outside /wopi/ nothing is checked.
                    assert (await client.get("/healthz")).status_code == 200
            finally:
                await service.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


# ---- replays, in-process -----------------------------------------------------------------------------------


def test_the_replay_memory_forgets_a_proof_only_once_it_is_stale() -> None:
    memory = ProofReplayMemory(capacity=2)
    assert memory.admit(b"a", stale_after=100.0, now=0.0) is Admission.FIRST_USE
    assert memory.admit(b"a", stale_after=100.0, now=100.0) is Admission.REPLAY  # fresh up to and at its end
    assert memory.admit(b"b", stale_after=50.0, now=1.0) is Admission.FIRST_USE
    # Full: the proof that goes stale first ("b") is forgotten to make room for a newer one, and from then on
    # anything as old as "b" is refused, so forgetting it early opens no window for its replay.
    assert memory.admit(b"c", stale_after=200.0, now=2.0) is Admission.FIRST_USE
    assert memory.low_water_mark == 50.0
    assert memory.admit(b"b", stale_after=50.0, now=2.0) is Admission.TOO_OLD
    assert memory.admit(b"old", stale_after=40.0, now=2.0) is Admission.TOO_OLD  # never seen, but as old
    assert memory.admit(b"a", stale_after=100.0, now=2.0) is Admission.REPLAY
    # A proof older than all a full memory holds is refused, and nothing is forgotten for it.
    assert memory.admit(b"d", stale_after=60.0, now=3.0) is Admission.TOO_OLD
    assert memory.admit(b"a", stale_after=100.0, now=3.0) is Admission.REPLAY
    assert memory.admit(b"c", stale_after=200.0, now=51.0) is Admission.REPLAY
    assert len(memory) == 2
    with pytest.raises(ValueError):
        ProofReplayMemory(capacity=0)


def test_the_replay_memory_costs_what_the_docs_say() -> None:
    """The figure in the README and settings.py (about 210 bytes an entry, 250 at most)."""
    count = 50_000
    messages = [index.to_bytes(8, "big") * 30 for index in range(count)]
    memory = ProofReplayMemory(capacity=count)
    tracemalloc.start()
    try:
        for index, message in enumerate(messages):
            memory.admit(message, stale_after=1000.0 + index, now=0.0)
        used, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(memory) == count
    assert used / count <= APPROXIMATE_BYTES_PER_ENTRY


def test_copies_of_one_request_racing_pass_once_and_a_full_memory_refuses() -> None:
    """Copies of one signed request sent together: exactly one reaches the app (check and record are one step).
    With room for two proofs, a third fresh one is refused until the first two are stale (an injected clock)."""
    pair = KeyPair.generate()
    settings = FrontendSettings(
        public_url=PUBLIC_URL, token_key="k" * 32, discovery_url="http://unused/", proof_replay_capacity=2
    )
    reached: list[str] = []
    now = [time.time()]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> None:
        with DiscoveryServer(samples.office(pair)) as server:
            service = DiscoveryService(server.url, refresh_interval=3600, min_refresh_gap=0)
            context = WopiContext(settings, None, None, service)  # type: ignore[arg-type]
            transport = httpx.ASGITransport(app=ProofKeyCheck(app, context, clock=lambda: now[0]))
            await service.start()
            try:
                async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:

                    def signed(path: str) -> dict[str, str]:
                        url = f"{PUBLIC_URL}{path}?access_token=t"
                        return pair.signer.headers("t", url, proof_keys.unix_to_ticks(now[0]))

                    async def call(path: str, headers: dict[str, str]) -> httpx.Response:
                        return await client.post(f"{path}?access_token=t", headers=headers)

                    first = signed("/wopi/files/f")
                    answers = await asyncio.gather(*(call("/wopi/files/f", first) for _ in range(8)))
                    assert sorted(answer.status_code for answer in answers) == [200] + [500] * 7
                    assert reached == ["/wopi/files/f"]
                    assert (await call("/wopi/files/g", signed("/wopi/files/g"))).status_code == 200
                    full = await call("/wopi/files/h", signed("/wopi/files/h"))
                    assert full.status_code == 500
                    assert "WOPI_PROOF_REPLAY_CAPACITY" in full.headers["X-WOPI-ServerError"]
                    now[0] += proof_keys.MAX_AGE_SECONDS + 1  # the first two proofs are stale: room again
                    assert (await call("/wopi/files/h", signed("/wopi/files/h"))).status_code == 200
                    assert reached == ["/wopi/files/f", "/wopi/files/g", "/wopi/files/h"]
            finally:
                await service.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
