"""Races: every change evaluates its preconditions and happens in one atomic step, as seen by every caller.

Each racer is a thread with a gRPC channel (and connection) of its own to the adapter, as separate front-ends
would have; all racers of a round are released together by a barrier. Races that could pass by luck run for
several rounds. Two tests interleave a write stream with another change deterministically instead.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from tests.contract.client import (
    ErrorInfo,
    StorageClient,
    chunked,
    conflicting_lock,
    connect,
    error_info,
    expect_error,
    lock_precondition,
    ttl,
)
from tests.contract.conftest import AdapterAddress, Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

RACERS = 16
ROUNDS = 5
CONFLICT = grpc.StatusCode.FAILED_PRECONDITION
EXISTS = grpc.StatusCode.ALREADY_EXISTS


@dataclass
class Outcome:
    """What one racer got: a response, or the unpacked error of a failed call."""

    value: Any = None
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Racers:
    """A fixed set of clients, each on its own channel, that run one call each at the same moment."""

    def __init__(self, address: AdapterAddress, count: int) -> None:
        self.channels: list[grpc.Channel] = []
        self.clients: list[StorageClient] = []
        for _ in range(count):
            channel, racer = connect(address.target, address.secret)
            self.channels.append(channel)
            self.clients.append(racer)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()

    def run(self, work: Callable[[int, StorageClient], Any], count: int | None = None) -> list[Outcome]:
        """Run `work(index, client)` on `count` racers released together; return their outcomes by index."""
        clients = self.clients[: count or len(self.clients)]
        barrier = threading.Barrier(len(clients))
        outcomes: list[Outcome | None] = [None] * len(clients)
        crashes: list[BaseException] = []

        def race(index: int, client: StorageClient) -> None:
            try:
                barrier.wait(timeout=30)
                outcomes[index] = Outcome(value=work(index, client))
            except grpc.RpcError as error:
                outcomes[index] = Outcome(error=error_info(error))
            except BaseException as crash:
                crashes.append(crash)

        threads = [
            threading.Thread(target=race, args=(index, client), name=f"racer-{index}", daemon=True)
            for index, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a racer did not finish"
        if crashes:
            raise crashes[0]
        assert all(outcome is not None for outcome in outcomes)
        return outcomes  # type: ignore[return-value]


@pytest.fixture
def racers(adapter_address: AdapterAddress) -> Iterator[Racers]:
    opened = Racers(adapter_address, RACERS)
    try:
        yield opened
    finally:
        opened.close()


def winner_of(outcomes: list[Outcome]) -> int:
    """The index of the one racer that succeeded; fails unless there is exactly one."""
    winners = [index for index, outcome in enumerate(outcomes) if outcome.ok]
    codes = Counter(str(outcome.error.code) for outcome in outcomes if outcome.error is not None)
    assert len(winners) == 1, f"expected exactly one winner, got {len(winners)} (losers: {dict(codes)})"
    return winners[0]


def losers(outcomes: list[Outcome], code: grpc.StatusCode) -> list[ErrorInfo]:
    errors = [outcome.error for outcome in outcomes if outcome.error is not None]
    assert all(error.code == code for error in errors), f"expected every loser to get {code}, got {errors}"
    return errors  # type: ignore[return-value]


def lock_request(file_id: str, lock_id: str, seconds: float = 1800) -> pb.LockRequest:
    return pb.LockRequest(file_id=file_id, lock_id=lock_id, ttl=ttl(seconds))


# ---------------------------------------------------------------------------------------------------------
# Exactly one winner


def test_concurrent_locks_with_different_ids_have_one_winner(
    client: StorageClient, workspace: Workspace, racers: Racers
) -> None:
    """Of concurrent Locks with different ids on one file, exactly one wins; the others' conflict names it."""
    for round_ in range(ROUNDS):
        file = client.create_file(workspace.container_id, workspace.name(f"lock-race-{round_}.docx"), b"x")
        ids = [f"lock-{round_}-{index}" for index in range(RACERS)]

        def take(index: int, racer: StorageClient, file_id: str = file.file_id, ids: list[str] = ids) -> object:
            return racer.call("Lock", lock_request(file_id, ids[index]))

        outcomes = racers.run(take)
        winner = ids[winner_of(outcomes)]
        assert next(outcome for outcome in outcomes if outcome.ok).value.file.lock.lock_id == winner
        for error in losers(outcomes, CONFLICT):
            assert conflicting_lock(error).lock_id == winner
        assert client.get_lock(file.file_id) == winner


def test_concurrent_exclusive_creates_of_one_name_have_one_winner(
    client: StorageClient, workspace: Workspace, racers: Racers, caps: pb.Capabilities
) -> None:
    """Of concurrent CreateFiles of one name, exactly one wins; the others get ALREADY_EXISTS naming it."""
    chunk = min(caps.max_chunk_size, 32 * 1024)
    for round_ in range(ROUNDS):
        name = workspace.name(f"create-race-{round_}.docx")
        contents = [bytes([index]) * (3 * chunk) + f"racer {index}".encode() for index in range(RACERS)]

        def create(index: int, racer: StorageClient, name: str = name, contents: list[bytes] = contents) -> pb.FileInfo:
            return racer.create_file(workspace.container_id, name, chunked(contents[index], chunk))

        outcomes = racers.run(create)
        winner = winner_of(outcomes)
        created: pb.FileInfo = outcomes[winner].value
        for error in losers(outcomes, EXISTS):
            conflict = error.detail(pb.NameConflict)
            assert conflict.existing.file.file_id == created.file_id  # type: ignore[attr-defined]
        assert client.read_file(created.file_id)[1] == contents[winner]
        found = client.call("LookupChild", pb.LookupChildRequest(container_id=workspace.container_id, name=name))
        assert found.file.file_id == created.file_id  # type: ignore[attr-defined]
        named = [item for item in client.children(workspace.container_id) if item.file.name == name]
        assert len(named) == 1, "exactly one item may have the name"


def test_concurrent_creates_with_free_variant_all_win_with_distinct_names(
    client: StorageClient, workspace: Workspace, racers: Racers, caps: pb.Capabilities
) -> None:
    """Concurrent CreateFiles of one taken name with use_free_variant all succeed, each under its own variant
    (the name is chosen in the same atomic step as the create), each with its own contents."""
    requires(caps, "free_name_variants")
    for round_ in range(ROUNDS):
        name = workspace.name(f"variant-race-{round_}.docx")
        client.create_file(workspace.container_id, name, b"taken")

        def create(index: int, racer: StorageClient, name: str = name) -> pb.FileInfo:
            return racer.create_file(workspace.container_id, name, f"racer {index}".encode(), use_free_variant=True)

        outcomes = racers.run(create)
        assert all(outcome.ok for outcome in outcomes), [outcome.error for outcome in outcomes if not outcome.ok]
        created: list[pb.FileInfo] = [outcome.value for outcome in outcomes]
        stem = name.removesuffix(".docx")
        assert sorted(info.name for info in created) == sorted(f"{stem} ({n}).docx" for n in range(2, RACERS + 2))
        for index, info in enumerate(created):
            assert client.read_file(info.file_id)[1] == f"racer {index}".encode()


def test_concurrent_creates_of_files_and_containers_have_one_winner(
    client: StorageClient, workspace: Workspace, racers: Racers, caps: pb.Capabilities
) -> None:
    """CreateFile and CreateContainer racing for one name: exactly one wins, the rest name it in NameConflict."""
    requires(caps, "containers")
    for round_ in range(ROUNDS):
        name = workspace.name(f"mixed-race-{round_}")

        def create(index: int, racer: StorageClient, name: str = name) -> str:
            if index % 2:
                return racer.create_file(workspace.container_id, name, b"file").file_id
            request = pb.CreateContainerRequest(parent_container_id=workspace.container_id, name=name)
            return racer.call("CreateContainer", request).container_id  # type: ignore[attr-defined,no-any-return]

        outcomes = racers.run(create)
        winner_id = outcomes[winner_of(outcomes)].value
        for error in losers(outcomes, EXISTS):
            existing = error.detail(pb.NameConflict).existing  # type: ignore[attr-defined]
            assert winner_id in (existing.file.file_id, existing.container.container_id)


def test_concurrent_renames_to_one_name_have_one_winner(
    client: StorageClient, workspace: Workspace, racers: Racers
) -> None:
    """Of concurrent RenameFiles of different files to one name, exactly one wins; the others keep their names."""
    for round_ in range(ROUNDS):
        target = workspace.name(f"rename-race-{round_}.docx")
        files = [
            client.create_file(workspace.container_id, workspace.name(f"rename-{round_}-{index}.docx"), b"r")
            for index in range(RACERS)
        ]

        def rename(index: int, racer: StorageClient, target: str = target, files: list[pb.FileInfo] = files) -> object:
            return racer.call("RenameFile", pb.RenameFileRequest(file_id=files[index].file_id, new_name=target))

        outcomes = racers.run(rename)
        winner = files[winner_of(outcomes)]
        for error in losers(outcomes, EXISTS):
            assert error.detail(pb.NameConflict).existing.file.file_id == winner.file_id  # type: ignore[attr-defined]
        for file in files:
            expected = target if file.file_id == winner.file_id else file.name
            assert client.stat(file.file_id).name == expected


def test_concurrent_deletes_of_one_file_have_one_winner(
    client: StorageClient, workspace: Workspace, racers: Racers
) -> None:
    """Of concurrent DeleteFiles of one file, exactly one succeeds; the others find it gone (NOT_FOUND)."""
    for round_ in range(ROUNDS):
        file = client.create_file(workspace.container_id, workspace.name(f"delete-race-{round_}.docx"), b"d")
        request = pb.DeleteFileRequest(file_id=file.file_id)
        outcomes = racers.run(lambda index, racer, request=request: racer.call("DeleteFile", request))
        winner_of(outcomes)
        losers(outcomes, grpc.StatusCode.NOT_FOUND)
        with expect_error(grpc.StatusCode.NOT_FOUND):
            client.stat(file.file_id)


def test_concurrent_relocks_from_one_lock_have_one_winner(
    client: StorageClient, workspace: Workspace, racers: Racers
) -> None:
    """Of concurrent UnlockAndRelocks from the held id to different ids, exactly one wins and its lock stays."""
    file = client.create_file(workspace.container_id, workspace.name("relock-race.docx"), b"x")
    held = "relock-start"
    client.lock(file.file_id, held)
    for round_ in range(ROUNDS):
        ids = [f"relock-{round_}-{index}" for index in range(RACERS)]

        def relock(index: int, racer: StorageClient, old: str = held, ids: list[str] = ids) -> object:
            request = pb.UnlockAndRelockRequest(
                file_id=file.file_id, old_lock_id=old, lock_id=ids[index], ttl=ttl(1800)
            )
            return racer.call("UnlockAndRelock", request)

        outcomes = racers.run(relock)
        winner = ids[winner_of(outcomes)]
        for error in losers(outcomes, CONFLICT):
            assert conflicting_lock(error).lock_id == winner
        assert client.get_lock(file.file_id) == winner
        with expect_error(CONFLICT) as error:
            client.call("Unlock", pb.UnlockRequest(file_id=file.file_id, lock_id=held))
        assert conflicting_lock(error).lock_id == winner
        held = winner


# ---------------------------------------------------------------------------------------------------------
# Lock storms end in a state some serial order explains


@dataclass(frozen=True)
class LockOp:
    rpc: str  # "Lock", "Unlock" or "RefreshLock"
    lock_id: str


STORM_IDS = ("storm-a", "storm-b")
STORM_OPS = [
    *(LockOp("Lock", lock_id) for lock_id in STORM_IDS for _ in range(3)),
    *(LockOp("Unlock", lock_id) for lock_id in STORM_IDS for _ in range(3)),
    *(LockOp("RefreshLock", lock_id) for lock_id in STORM_IDS for _ in range(2)),
]


def run_lock_op(racer: StorageClient, file_id: str, op: LockOp) -> pb.LockResponse:
    if op.rpc == "Unlock":
        return racer.call("Unlock", pb.UnlockRequest(file_id=file_id, lock_id=op.lock_id))  # type: ignore[return-value]
    message = pb.LockRequest if op.rpc == "Lock" else pb.RefreshLockRequest
    return racer.call(op.rpc, message(file_id=file_id, lock_id=op.lock_id, ttl=ttl(1800)))  # type: ignore[return-value]


def transitions(op: LockOp, outcome: Outcome) -> list[tuple[str, str]]:
    """The lock-state transitions (before, after; "" = unlocked) that could have produced this outcome.

    Checks on the way that the outcome itself is one the state table allows.
    """
    if outcome.error is not None:
        assert outcome.error.code == CONFLICT, f"{op} failed with {outcome.error.code}: {outcome.error.message}"
        current = conflicting_lock(outcome.error).lock_id
        assert current in ("", *STORM_IDS), f"{op} conflicted with an unknown lock {current!r}"
        assert current != op.lock_id, f"{op} was refused although its lock was held"
        if op.rpc == "Lock":
            assert current, f"{op} was refused although the file was unlocked"
        return [(current, current)]
    after = outcome.value.file.lock.lock_id
    if op.rpc == "Lock":
        assert after == op.lock_id
        return [("", op.lock_id), (op.lock_id, op.lock_id)]
    if op.rpc == "RefreshLock":
        assert after == op.lock_id
        return [(op.lock_id, op.lock_id)]
    assert after == "", f"{op} succeeded but the response still shows lock {after!r}"
    return [(op.lock_id, "")]


def has_serial_order(start: str, end: str, choices: list[list[tuple[str, str]]]) -> bool:
    """Whether the transitions (one chosen from each list) can be chained into one path from start to end.

    That is an Eulerian path in a multigraph of three lock states: every state's in- and out-degrees balance
    except at the ends, and every transition touches a state the path visits.
    """
    fixed = [options[0] for options in choices if len(options) == 1]
    flexible = [options for options in choices if len(options) > 1]
    for picked in itertools.product(*flexible):
        edges = fixed + list(picked)
        balance: Counter[str] = Counter()
        for before, after in edges:
            balance[before] += 1
            balance[after] -= 1
        expected: Counter[str] = Counter()
        if start != end:
            expected[start] += 1
            expected[end] -= 1
        if +balance != +expected or -balance != -expected:
            continue
        reached = {start}
        grew = True
        while grew:
            grew = False
            for before, after in edges:
                if (before in reached) != (after in reached):
                    reached |= {before, after}
                    grew = True
        if all(before in reached for before, _ in edges) and end in reached:
            return True
    return False


def test_lock_storm_ends_in_a_serial_state(client: StorageClient, workspace: Workspace, racers: Racers) -> None:
    """Concurrent Lock, Unlock and RefreshLock calls give outcomes and an end state that one serial order explains."""
    file = client.create_file(workspace.container_id, workspace.name("storm.docx"), b"x")
    client.lock(file.file_id, STORM_IDS[0])
    shuffle = random.Random(20240601)
    for _ in range(ROUNDS * 2):
        ops = STORM_OPS[:]
        shuffle.shuffle(ops)
        start = client.get_lock(file.file_id)
        outcomes = racers.run(lambda index, racer, ops=ops: run_lock_op(racer, file.file_id, ops[index]), len(ops))
        end = client.get_lock(file.file_id)
        choices = [transitions(op, outcome) for op, outcome in zip(ops, outcomes, strict=True)]
        summary = [(op.rpc, op.lock_id, outcome.ok) for op, outcome in zip(ops, outcomes, strict=True)]
        assert has_serial_order(start, end, choices), f"no serial order leads from {start!r} to {end!r}: {summary}"


def test_serial_order_checker_rejects_impossible_histories() -> None:
    """The storm's checker itself: it refuses a history where two Unlocks of one lock both succeeded."""
    unlock_a = [("storm-a", "")]
    assert has_serial_order("storm-a", "", [unlock_a])
    assert not has_serial_order("storm-a", "", [unlock_a, unlock_a])
    lock_a = [("", "storm-a"), ("storm-a", "storm-a")]
    assert has_serial_order("storm-a", "", [unlock_a, lock_a, unlock_a])
    assert not has_serial_order("", "storm-b", [lock_a])


# ---------------------------------------------------------------------------------------------------------
# Concurrent writes and reads


def paced(data: bytes, chunk: int) -> Iterator[bytes]:
    """The chunks of `data`, a little apart, so that a write stream stays open while others commit and read."""
    for piece in chunked(data, chunk):
        yield piece
        time.sleep(0.002)


def test_concurrent_writes_under_a_lock_never_interleave(
    client: StorageClient, workspace: Workspace, racers: Racers, caps: pb.Capabilities
) -> None:
    """Concurrent writes of whole patterns never mix: every read and the end result is exactly one write."""
    writers, readers, repeats = 8, 4, 3
    chunk = min(caps.max_chunk_size, 128 * 1024)
    mib = 1024 * 1024
    original = random.Random(-1).randbytes(mib)
    patterns = [random.Random(index).randbytes(2 * mib + index * mib // 4) for index in range(writers)]
    if caps.max_file_size:
        assert caps.max_file_size >= max(map(len, patterns)), "the adapter must take files of a few MiB"
    known = {original: "original", **{pattern: f"writer {index}" for index, pattern in enumerate(patterns)}}
    file = client.create_file(workspace.container_id, workspace.name("interleave.bin"), chunked(original, chunk))
    client.lock(file.file_id, "writers-lock")
    finished = threading.Event()
    remaining = [writers]
    guard = threading.Lock()
    reads: list[tuple[str, str | None]] = []  # (version named by the read, whose contents it returned)

    def write_or_read(index: int, racer: StorageClient) -> object:
        if index >= writers:
            while not finished.is_set():
                info, data = racer.read_file(file.file_id)
                reads.append((info.version, known.get(data)))
            return None
        try:
            return [
                racer.write_file(file.file_id, paced(patterns[index], chunk), lock_precondition("writers-lock"))
                for _ in range(repeats)
            ]
        finally:
            with guard:
                remaining[0] -= 1
                if remaining[0] == 0:
                    finished.set()

    outcomes = racers.run(write_or_read, writers + readers)
    assert all(outcome.ok for outcome in outcomes), [outcome.error for outcome in outcomes if outcome.error]
    results = outcomes[:writers]
    writer_of = {info.version: f"writer {index}" for index, outcome in enumerate(results) for info in outcome.value}
    assert len(writer_of) == writers * repeats, "every write must give a new version"
    assert file.version not in writer_of, "every write must give a new version"
    writer_of[file.version] = "original"

    assert reads, "the readers made no read"
    mixed = [version for version, which in reads if which is None]
    assert not mixed, f"{len(mixed)} of {len(reads)} reads returned contents that no single write produced"
    for version, which in reads:
        assert writer_of.get(version) == which, f"a read named version {version!r} but returned {which}'s contents"

    info, final = client.read_file(file.file_id)
    assert final in patterns, "the final contents must be exactly one writer's pattern"
    assert writer_of[info.version] == known[final]
    last_commits = {outcome.value[-1].version for outcome in results}
    assert info.version in last_commits, "the final version must be one writer's last write"
    assert client.stat(file.file_id).size == len(final)


def test_writes_without_the_lock_never_land_after_it(
    client: StorageClient, workspace: Workspace, racers: Racers
) -> None:
    """Unlocked writes racing a Lock either land before it (the Lock reports their version) or are refused."""
    for round_ in range(ROUNDS):
        file = client.create_file(workspace.container_id, workspace.name(f"write-lock-race-{round_}.docx"), b"start")
        lock_id = f"race-lock-{round_}"

        def write_or_lock(index: int, racer: StorageClient, file: pb.FileInfo = file, lock_id: str = lock_id) -> Any:
            if index == 0:
                return racer.call("Lock", lock_request(file.file_id, lock_id))
            return racer.write_file(file.file_id, f"writer {index}".encode(), lock_precondition())

        outcomes = racers.run(write_or_lock)
        assert outcomes[0].ok, f"the Lock failed: {outcomes[0].error}"
        locked: pb.FileInfo = outcomes[0].value.file
        for outcome in outcomes[1:]:
            if outcome.error is not None:
                assert outcome.error.code == CONFLICT
                assert conflicting_lock(outcome.error).lock_id == lock_id
        stat = client.stat(file.file_id)
        assert stat.version == locked.version, "a write without the lock landed after the lock was taken"
        assert stat.lock.lock_id == lock_id


def test_locks_on_many_files_race_independently(client: StorageClient, workspace: Workspace, racers: Racers) -> None:
    """Concurrent Locks on different files all succeed: one file's lock never blocks another's."""
    files = [client.create_file(workspace.container_id, workspace.name(f"many-{i}.docx"), b"m") for i in range(RACERS)]
    outcomes = racers.run(lambda index, racer: racer.call("Lock", lock_request(files[index].file_id, "same-lock-id")))
    assert all(outcome.ok for outcome in outcomes), [outcome.error for outcome in outcomes if outcome.error]
    assert all(client.get_lock(file.file_id) == "same-lock-id" for file in files)


# ---------------------------------------------------------------------------------------------------------
# A change that happens while a write stream is open


class HeldStream:
    """The chunks of a write stream that sends its first chunk, then waits until released to send the rest."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self.chunks = list(chunked(data, chunk))
        self.started = threading.Event()
        self.release = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        yield self.chunks[0]
        self.started.set()
        assert self.release.wait(timeout=30), "the held write stream was never released"
        yield from self.chunks[1:]


def open_held_write(
    client: StorageClient, file_id: str, stream: HeldStream, preconditions: pb.Preconditions
) -> grpc.Future:
    header = pb.WriteFileRequest(header=pb.WriteFileHeader(file_id=file_id, preconditions=preconditions))
    end = pb.WriteFileRequest(end=pb.ContentEnd(size=sum(map(len, stream.chunks))))
    messages = itertools.chain([header], (pb.WriteFileRequest(data=chunk) for chunk in stream), [end])
    future = client.stub.WriteFile.future(messages, metadata=client.metadata(), timeout=30)
    assert stream.started.wait(timeout=10), "the write stream did not start"
    time.sleep(0.1)  # let the header and the first chunk reach the adapter
    return future


def test_lock_taken_during_an_open_write_refuses_it(
    client: StorageClient, workspace: Workspace, adapter_address: AdapterAddress
) -> None:
    """A write without the lock, still streaming when another caller locks the file, is refused and lands nothing."""
    original = b"original contents"
    file = client.create_file(workspace.container_id, workspace.name("held-write.docx"), original)
    channel, writer = connect(adapter_address.target, adapter_address.secret)
    with channel:
        stream = HeldStream(b"w" * 200_000, 50_000)
        future = open_held_write(writer, file.file_id, stream, lock_precondition())
        locked = client.lock(file.file_id, "late-lock")
        stream.release.set()
        with expect_error(CONFLICT) as error:
            future.result(timeout=30)
        assert conflicting_lock(error).lock_id == "late-lock"
    info, data = client.read_file(file.file_id)
    assert data == original
    assert info.version == file.version == locked.version


def test_write_committed_during_an_open_write_aborts_it(
    client: StorageClient, workspace: Workspace, adapter_address: AdapterAddress
) -> None:
    """A write with if_version, still streaming when another write commits, is ABORTED and lands nothing."""
    file = client.create_file(workspace.container_id, workspace.name("held-version.docx"), b"original")
    channel, writer = connect(adapter_address.target, adapter_address.secret)
    with channel:
        stream = HeldStream(b"s" * 200_000, 50_000)
        future = open_held_write(writer, file.file_id, stream, pb.Preconditions(if_version=file.version))
        winner = client.write_file(file.file_id, b"the write that committed first")
        stream.release.set()
        with expect_error(grpc.StatusCode.ABORTED) as error:
            future.result(timeout=30)
        assert error.detail(pb.VersionConflict).current_version == winner.version  # type: ignore[attr-defined]
    info, data = client.read_file(file.file_id)
    assert data == b"the write that committed first"
    assert info.version == winner.version
