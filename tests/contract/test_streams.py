"""The layout of the client streams of WriteFile and CreateFile: one header first, then data chunks, then one
ContentEnd with the byte count.

Every malformed stream is INVALID_ARGUMENT and changes nothing, even when valid data came before the bad
message; a write becomes visible only when its stream completes, and a cancelled one leaves the old contents.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf.message import Message

from tests.contract.client import StorageClient, assert_bad_request, expect_error, file_state
from tests.contract.conftest import Workspace
from wopi_proto.storage_v1 import storage_pb2 as pb

OLD = b"the old contents"
PARTIAL = b"partial write " * 64


@dataclass
class Target:
    """One of the two streaming RPCs, aimed at a file (WriteFile) or a free name (CreateFile)."""

    rpc: str
    header: Message
    data: Callable[[bytes], Message]
    empty: Callable[[], Message]
    end: Callable[[int], Message]
    unchanged: Callable[[], None]  # asserts that the stream changed nothing


# Malformed stream layouts: the messages sent (given the target and max_chunk_size), and the field the
# BadRequest detail names.
LAYOUTS: dict[str, tuple[Callable[[Target, int], list[Message]], str]] = {
    "data-first": (lambda t, limit: [t.data(PARTIAL)], "header"),
    "data-then-header": (lambda t, limit: [t.data(PARTIAL), t.header], "header"),
    "empty-first-message": (lambda t, limit: [t.empty(), t.data(PARTIAL)], "header"),
    "empty-stream": (lambda t, limit: [], "header"),
    "header-twice": (lambda t, limit: [t.header, t.header], "header"),
    "header-after-data": (lambda t, limit: [t.header, t.data(PARTIAL), t.data(PARTIAL), t.header], "header"),
    "chunk-over-max": (lambda t, limit: [t.header, t.data(b"x" * (limit + 1))], "data"),
    "chunk-over-max-after-data": (
        lambda t, limit: [t.header, t.data(PARTIAL), t.data(PARTIAL), t.data(b"x" * (limit + 1))],
        "data",
    ),
    "no-end": (lambda t, limit: [t.header, t.data(PARTIAL), t.data(PARTIAL)], "end"),
    "header-only": (lambda t, limit: [t.header], "end"),
    "end-size-too-large": (lambda t, limit: [t.header, t.data(PARTIAL), t.end(len(PARTIAL) + 1)], "size"),
    "end-size-too-small": (lambda t, limit: [t.header, t.data(PARTIAL), t.end(len(PARTIAL) - 1)], "size"),
    "data-after-end": (lambda t, limit: [t.header, t.data(PARTIAL), t.end(len(PARTIAL)), t.data(PARTIAL)], "end"),
    "end-twice": (lambda t, limit: [t.header, t.data(PARTIAL), t.end(len(PARTIAL)), t.end(len(PARTIAL))], "end"),
}


def make_target(client: StorageClient, workspace: Workspace, rpc: str, name: str = "target.txt") -> Target:
    """A file with old contents to write (WriteFile) or a free name to create (CreateFile)."""
    if rpc == "WriteFile":
        info = client.create_file(workspace.container_id, workspace.name(name), OLD)
        before = file_state(client, info.file_id)

        def file_unchanged() -> None:
            assert file_state(client, info.file_id) == before

        return Target(
            rpc,
            pb.WriteFileRequest(header=pb.WriteFileHeader(file_id=info.file_id)),
            lambda chunk: pb.WriteFileRequest(data=chunk),
            pb.WriteFileRequest,
            lambda size: pb.WriteFileRequest(end=pb.ContentEnd(size=size)),
            file_unchanged,
        )
    name = workspace.name(name)
    listed_before = our_children(client, workspace)

    def nothing_created() -> None:
        with expect_error(grpc.StatusCode.NOT_FOUND):
            client.call("LookupChild", pb.LookupChildRequest(container_id=workspace.container_id, name=name))
        assert our_children(client, workspace) == listed_before

    return Target(
        rpc,
        pb.CreateFileRequest(header=pb.CreateFileHeader(container_id=workspace.container_id, name=name)),
        lambda chunk: pb.CreateFileRequest(data=chunk),
        pb.CreateFileRequest,
        lambda size: pb.CreateFileRequest(end=pb.ContentEnd(size=size)),
        nothing_created,
    )


def our_children(client: StorageClient, workspace: Workspace) -> set[tuple[str, str]]:
    """The (kind, name) of the workspace's children that this test may have made (its names carry its prefix)."""
    listed = set()
    for item in client.children(workspace.container_id):
        kind = item.WhichOneof("item")
        name = getattr(item, kind).name  # type: ignore[arg-type]
        if name.startswith(workspace.prefix):
            listed.add((str(kind), name))
    return listed


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("rpc", ["WriteFile", "CreateFile"])
def test_malformed_stream_is_invalid_argument_and_changes_nothing(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, rpc: str, layout: str
) -> None:
    """No header, a header twice or after data, a chunk over max_chunk_size, no end, a wrong end size, or anything
    after the end: INVALID_ARGUMENT, nothing changed."""
    target = make_target(client, workspace, rpc)
    build, field = LAYOUTS[layout]
    messages = build(target, caps.max_chunk_size)
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.call(rpc, iter(messages))
    assert_bad_request(error, field)
    target.unchanged()


@pytest.mark.parametrize("rpc", ["WriteFile", "CreateFile"])
def test_contents_over_max_file_size_are_resource_exhausted(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, rpc: str
) -> None:
    """Contents larger than Capabilities.max_file_size are RESOURCE_EXHAUSTED, and nothing is stored."""
    if not caps.max_file_size:
        pytest.skip("the adapter advertises no max_file_size")
    if caps.max_file_size > 256 * 1024 * 1024:
        pytest.skip(f"max_file_size {caps.max_file_size} is too large to exceed quickly")
    target = make_target(client, workspace, rpc)
    remaining = caps.max_file_size + 1

    def messages() -> Iterator[Message]:
        nonlocal remaining
        yield target.header
        while remaining:
            size = min(remaining, caps.max_chunk_size)
            remaining -= size
            yield target.data(b"x" * size)

    with expect_error(grpc.StatusCode.RESOURCE_EXHAUSTED):
        client.call(rpc, messages(), timeout=120)
    target.unchanged()


class HeldStream:
    """A request stream that sends the header and some data, then waits until released, then sends its end."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.sent = threading.Event()
        self.release = threading.Event()

    def __iter__(self) -> Iterator[Message]:
        yield self.target.header
        for _ in range(4):
            yield self.target.data(PARTIAL)
        self.sent.set()
        self.release.wait(30)
        yield self.target.end(4 * len(PARTIAL))


@pytest.mark.parametrize("rpc", ["WriteFile", "CreateFile"])
def test_write_is_invisible_until_its_stream_completes(client: StorageClient, workspace: Workspace, rpc: str) -> None:
    """A write becomes visible all at once when its stream completes: while it is open, readers see the old state."""
    target = make_target(client, workspace, rpc)
    stream = HeldStream(target)
    future = getattr(client.stub, rpc).future(iter(stream), metadata=client.metadata(), timeout=30)
    try:
        assert stream.sent.wait(10), "the client did not send the stream"
        target.unchanged()
    finally:
        stream.release.set()
    info = future.result()
    assert info.size == 4 * len(PARTIAL)
    assert client.read_file(info.file_id)[1] == 4 * PARTIAL


@pytest.mark.parametrize("rpc", ["WriteFile", "CreateFile"])
def test_cancelled_write_leaves_the_old_state(client: StorageClient, workspace: Workspace, rpc: str) -> None:
    """A write whose stream is cancelled before it completes leaves the old contents (or creates nothing)."""
    for attempt in range(5):  # the cancellation races with the adapter's reads: try a few times
        target = make_target(client, workspace, rpc, f"cancelled-{attempt}.txt")
        stream = HeldStream(target)
        future = getattr(client.stub, rpc).future(iter(stream), metadata=client.metadata(), timeout=30)
        try:
            assert stream.sent.wait(10), "the client did not send the stream"
            future.cancel()
        finally:
            stream.release.set()
        with pytest.raises(grpc.FutureCancelledError):
            future.result()
        # Calls made on the same connection after the cancellation reach the adapter after it: a few round trips
        # give an adapter that (wrongly) treats the cancellation as the end of the stream the time to commit.
        for _ in range(3):
            client.call("GetCapabilities", pb.GetCapabilitiesRequest())
        target.unchanged()
