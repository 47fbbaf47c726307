"""A folder of many files: how long storage takes to list it and the file browser to render it.

The files are made through gRPC CreateFile, many calls in flight at once (an operator cannot drop files into any
backend's storage behind its back; the filesystem backend keeps a catalogue of its own). Listing is timed as a
client sees it: the first page of ListChildrenPage (PAGE items), once right after the folder was filled (the
filesystem backend then reads the changed directory whole) and then on the settled folder; the old ListChildren
stream to its PAGE-th item and to its end, for comparison; and `GET /?container=ID` (one page of the file
browser) to its last byte."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import grpc
import httpx

from benchmarks.suite.hosts import USER, RunningHost
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

PAGE = 100  # what a first screen of a file browser needs
IN_FLIGHT = 16
# The filesystem backend does not trust a directory's ctime this recent (filesystem/racy.py: 100 ms on ext4 and
# its kind, 2 s on others): a folder is "settled" once this long has passed since its last change.
SETTLE_SECONDS = 2.5


@dataclass(frozen=True)
class Listing:
    files: int
    create_per_second: float
    changed_page_ms: float  # ListChildrenPage's first page, the first listing after the folder was filled
    first_page_ms: float  # ListChildrenPage's first page of the settled folder: median over the rounds
    stream_page_ms: float  # the ListChildren stream to its PAGE-th item
    whole_ms: float  # the ListChildren stream to its end
    render_ms: float
    render_bytes: int


async def _fill(host: RunningHost, count: int) -> tuple[str, float]:
    """A new folder with `count` empty files in it; its id, and files made per second."""
    metadata = (("authorization", f"Bearer {host.storage.secret}"), ("x-wopi-principal-id", USER))
    async with grpc.aio.insecure_channel(host.storage.target) as channel:
        stub = pb_grpc.StorageServiceStub(channel)
        root = await stub.GetRootContainer(pb.GetRootContainerRequest(), metadata=metadata, timeout=30)
        request = pb.CreateContainerRequest(parent_container_id=root.container_id, name=f"folder-of-{count}")
        folder = (await stub.CreateContainer(request, metadata=metadata, timeout=30)).container_id
        names = iter(range(count))
        started = time.perf_counter()

        async def worker() -> None:
            for number in names:
                messages = [
                    pb.CreateFileRequest(
                        header=pb.CreateFileHeader(container_id=folder, name=f"document {number:05}.docx")
                    ),
                    pb.CreateFileRequest(end=pb.ContentEnd(size=0)),
                ]
                await stub.CreateFile(iter(messages), metadata=metadata, timeout=60)

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return folder, count / (time.perf_counter() - started)


def _metadata(host: RunningHost) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {host.storage.secret}"), ("x-wopi-principal-id", USER))


def _first_page(host: RunningHost, folder: str, expected: int) -> float:
    """ms for ListChildrenPage's first page of PAGE items."""
    with grpc.insecure_channel(host.storage.target) as channel:
        stub = pb_grpc.StorageServiceStub(channel)
        request = pb.ListChildrenPageRequest(container_id=folder, page_size=PAGE)
        started = time.perf_counter()
        answer = stub.ListChildrenPage(request, metadata=_metadata(host), timeout=600)
        elapsed = time.perf_counter() - started
    if len(answer.items) != min(PAGE, expected):
        raise RuntimeError(
            f"{host.backend}: ListChildrenPage gave {len(answer.items)} items, not {min(PAGE, expected)}"
        )
    return elapsed * 1000


def _list(host: RunningHost, folder: str, expected: int) -> tuple[float, float]:
    """ms to the PAGE-th item and to the end of one ListChildren stream."""
    with grpc.insecure_channel(host.storage.target) as channel:
        stub = pb_grpc.StorageServiceStub(channel)
        first_page = 0.0
        started = time.perf_counter()
        seen = 0
        request = pb.ListChildrenRequest(container_id=folder)
        for _item in stub.ListChildren(request, metadata=_metadata(host), timeout=600):
            seen += 1
            if seen == min(PAGE, expected):
                first_page = time.perf_counter() - started
        whole = time.perf_counter() - started
    if seen != expected:
        raise RuntimeError(f"{host.backend}: ListChildren gave {seen} items, not {expected}")
    return first_page * 1000, whole * 1000


def _render(host: RunningHost, folder: str) -> tuple[float, int]:
    """ms from sending `GET /?container=ID` to its last byte, and the page's size."""
    with httpx.Client(timeout=600) as http:
        started = time.perf_counter()
        response = http.get(f"{host.url}/", params={"container": folder})
        elapsed = time.perf_counter() - started
    if response.status_code != 200 or "document 00000.docx" not in response.text:
        raise RuntimeError(f"{host.backend}: the file browser answered {response.status_code}: {response.text[:300]}")
    return elapsed * 1000, len(response.content)


def make_folder(host: RunningHost, count: int) -> float:
    """Fill the host's big folder; files made per second."""
    host.files.container, rate = asyncio.run(_fill(host, count))
    return rate


def measure(host: RunningHost, count: int, create_rate: float, rounds: int) -> Listing:
    folder = host.files.container
    changed = _first_page(host, folder, count)  # right after the fill: the changed folder is read whole once
    time.sleep(SETTLE_SECONDS)
    _first_page(host, folder, count)  # the one full read the settled folder's ctime calls for
    firsts = [_first_page(host, folder, count) for _ in range(max(rounds, 3))]
    lists = [_list(host, folder, count) for _ in range(rounds)]
    renders = [_render(host, folder) for _ in range(rounds)]
    return Listing(
        files=count,
        create_per_second=create_rate,
        changed_page_ms=changed,
        first_page_ms=statistics.median(firsts),
        stream_page_ms=statistics.median(first for first, _ in lists),
        whole_ms=statistics.median(whole for _, whole in lists),
        render_ms=statistics.median(ms for ms, _ in renders),
        render_bytes=renders[0][1],
    )
