"""Refusing a proof that was already accepted: the memory of recently signed requests.

A proof (X-WOPI-Proof / X-WOPI-ProofOld over token, URL and X-WOPI-TimeStamp) stays fresh for 20 minutes either
side of its timestamp, and WOPI operations on one file share a URL (CheckFileInfo, Lock, PutRelativeFile and
DeleteFile are all `/wopi/files/<id>`): without this memory, one captured CheckFileInfo could be replayed as a
DeleteFile. WOPI clients sign every request with a fresh timestamp, so any second use of a signed message is a
replay and is refused, whatever the method (a replayed GetFile would still hand out the document).

What is remembered is a SHA-256 digest of the bytes the client signed (`proof_keys.signed_bytes`), not the
signature: the client sends two signatures of the same bytes (current and old key), and either one alone
passes, so keying on a signature would let a replay swap them.

The memory is per process (each front-end replica has its own: a replay sent to another replica within the
window is not caught unless the WOPI client's requests for a file are routed to one replica), bounded in
entries, and lives in the event loop: `admit` checks and records in one synchronous step, so two copies of one
request racing each other cannot both pass.

When the memory is full, the entry that goes stale first is forgotten, and its end becomes a low-water mark:
from then on, a proof that goes stale at or before that mark is refused as too old to be checked, whether it
was seen or not. So no replay ever gets through (anything the memory could have forgotten is refused outright),
and a busy host keeps accepting fresh requests: what it refuses under load are only proofs much older than the
newest ones, which a client with a sound clock does not send (it signs each request as it makes it). The mark
rises with load: with capacity C and R signed requests a second it trails the newest proofs by about C / R
seconds (100,000 at 1,000 requests a second: 100 s, so a client whose clock lags more than 100 s behind the
newest signer's would be refused until the load falls). The capacity is a setting (`proof_replay_capacity`).
"""

from __future__ import annotations

import enum
import hashlib
import heapq

# What one entry costs at most: a 32-byte digest (65 bytes as a bytes object), its expiry (a float), a heap item
# (a tuple and a list slot) and a dict slot. Measured with tracemalloc on CPython 3.11: 170-212 bytes depending
# on how full the dict's table is, up to 242 while it grows; tests/frontend/test_proof_keys.py checks the bound.
APPROXIMATE_BYTES_PER_ENTRY = 250


class Admission(enum.Enum):
    FIRST_USE = "first use"  # recorded: the request may go on
    REPLAY = "replay"  # the same signed message was accepted before and is still fresh
    TOO_OLD = "too old"  # older than what a full memory had to forget: it cannot be told from a replay


class ProofReplayMemory:
    """Digests of accepted signed messages until their proofs go stale, at most `capacity` of them."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("the proof replay memory needs room for at least one entry")
        self.capacity = capacity
        self._expiry: dict[bytes, float] = {}
        self._by_expiry: list[tuple[float, bytes]] = []  # a heap: the next entry to expire first
        # Proofs that go stale at or before this were (or may have been) forgotten early: refused.
        self.low_water_mark = float("-inf")

    def __len__(self) -> int:
        return len(self._expiry)

    def admit(self, signed: bytes, *, stale_after: float, now: float) -> Admission:
        """Record `signed` (the bytes the client signed) as used until `stale_after` (when its timestamp stops
        being fresh), unless it was used already or is older than what a full memory forgot. Synchronous: check
        and record are one step in the event loop."""
        self._forget_stale(now)
        if stale_after <= self.low_water_mark:
            return Admission.TOO_OLD
        digest = hashlib.sha256(signed).digest()
        if digest in self._expiry:
            return Admission.REPLAY
        if len(self._expiry) >= self.capacity:
            if stale_after <= self._by_expiry[0][0]:
                # Older than all it holds: refused, nothing forgotten. Its replay stays refused, since every
                # entry held outlives it, so room appears only once it is stale itself.
                return Admission.TOO_OLD
            forgotten, oldest = heapq.heappop(self._by_expiry)
            del self._expiry[oldest]
            self.low_water_mark = forgotten
        self._expiry[digest] = stale_after
        heapq.heappush(self._by_expiry, (stale_after, digest))
        return Admission.FIRST_USE

    def _forget_stale(self, now: float) -> None:
        # An entry is kept while `now <= stale_after`: until then the freshness check still accepts its proof.
        while self._by_expiry and self._by_expiry[0][0] < now:
            _, digest = heapq.heappop(self._by_expiry)
            del self._expiry[digest]
