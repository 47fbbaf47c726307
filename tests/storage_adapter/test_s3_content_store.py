"""The S3 content store against a real S3-compatible object store (SeaweedFS, started once per test run).

Each test gets a bucket of its own and a store configured the way production configures it: credentials from
the standard AWS variables, path-style addressing. Tests are plain functions that run their own event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import os
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from storage_adapter.backends.content_store import StoredBlob
from storage_adapter.backends.s3 import S3ContentStore, create_s3_backend
from storage_adapter.errors import NotFound, Unavailable
from storage_adapter.types import Preconditions, Principal
from tests.infra.seaweedfs import SeaweedServer

T = TypeVar("T")
KiB = 1024
MiB = 1024 * KiB
PART = 5 * MiB  # S3's smallest part: multipart paths are reached with the least data


class S3:
    """One test's view of the server: a fresh bucket, AWS variables set, a boto3 client to look behind the store."""

    def __init__(self, server: SeaweedServer) -> None:
        self.server = server
        self.bucket = server.fresh_bucket()
        self.client = server.client()

    def store(self, **options: Any) -> S3ContentStore:
        return S3ContentStore(self.server.endpoint_url, self.bucket, **options)

    def keys(self, prefix: str = "") -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def pending_uploads(self) -> list[str]:
        return [u["Key"] for u in self.client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])]


@pytest.fixture
def s3(seaweedfs_server: SeaweedServer, monkeypatch: pytest.MonkeyPatch) -> S3:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in seaweedfs_server.aws_environ().items():
        monkeypatch.setenv(name, value)
    return S3(seaweedfs_server)


def run(store: S3ContentStore, test: Callable[[S3ContentStore], Awaitable[T]]) -> T:
    """Start `store`, run `test` with it, and close it whatever happens."""

    async def main() -> T:
        await store.start()
        try:
            return await test(store)
        finally:
            await store.close()

    return asyncio.run(main())


async def chunked(data: bytes, size: int = 256 * KiB) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(
    store: S3ContentStore, blob_id: str, offset: int = 0, length: int = 0, chunk: int = 64 * KiB
) -> bytes:
    parts = [part async for part in store.read(blob_id, offset, length, chunk)]
    assert all(0 < len(part) <= chunk for part in parts)
    return b"".join(parts)


# ---- round trips ----


@pytest.mark.parametrize("size", [0, 1000, 4 * PART], ids=["empty", "small", "multipart-20MiB"])
def test_round_trip(s3: S3, size: int) -> None:
    data = os.urandom(size)

    async def test(store: S3ContentStore) -> tuple[StoredBlob, bytes]:
        blob = await store.put(chunked(data))
        return blob, await read_all(store, blob.blob_id, chunk=256 * KiB)

    blob, back = run(s3.store(part_size=PART), test)
    assert back == data
    assert blob.size == size
    assert blob.sha256 == hashlib.sha256(data).digest()
    assert s3.keys() == [f"blobs/{blob.blob_id}"]
    etag = s3.client.head_object(Bucket=s3.bucket, Key=f"blobs/{blob.blob_id}")["ETag"]
    assert etag.endswith('-4"') if size == 4 * PART else "-" not in etag  # one part per 5 MiB, else one PutObject
    assert s3.pending_uploads() == []


def test_exactly_one_part_is_one_put_and_one_more_byte_is_two_parts(s3: S3) -> None:
    async def test(store: S3ContentStore) -> list[StoredBlob]:
        return [await store.put(chunked(os.urandom(size), MiB)) for size in (PART, PART + 1)]

    exact, over = run(s3.store(part_size=PART), test)
    assert "-" not in s3.client.head_object(Bucket=s3.bucket, Key=f"blobs/{exact.blob_id}")["ETag"]
    assert s3.client.head_object(Bucket=s3.bucket, Key=f"blobs/{over.blob_id}")["ETag"].endswith('-2"')


def test_chunks_larger_than_a_part_are_split(s3: S3) -> None:
    data = os.urandom(2 * PART + 3)

    async def test(store: S3ContentStore) -> tuple[StoredBlob, bytes]:
        blob = await store.put(chunked(data, 2 * PART + 1))  # one chunk spans two parts
        return blob, await read_all(store, blob.blob_id)

    blob, back = run(s3.store(part_size=PART), test)
    assert back == data and blob.size == len(data)


def test_identical_contents_get_distinct_blobs(s3: S3) -> None:
    async def test(store: S3ContentStore) -> list[StoredBlob]:
        return [await store.put(chunked(b"same bytes")) for _ in range(2)]

    first, second = run(s3.store(), test)
    assert first.blob_id != second.blob_id and first.sha256 == second.sha256


def test_ranged_reads(s3: S3) -> None:
    data = os.urandom(3 * PART + 12345)
    size = len(data)
    ranges = [
        (0, 0),  # everything
        (0, 10),
        (1, 1),
        (PART - 3, 7),  # across a part boundary
        (PART, PART),  # exactly the second part
        (2 * PART + 5, 0),  # from inside to the end
        (size - 1, 0),  # the last byte
        (size - 10, 100),  # a length past the end stops at the end
        (size, 0),  # at the end: nothing
        (size, 5),
    ]

    async def test(store: S3ContentStore) -> list[bytes]:
        blob = await store.put(chunked(data, MiB))
        return [await read_all(store, blob.blob_id, offset, length, chunk=100 * KiB) for offset, length in ranges]

    results = run(s3.store(part_size=PART), test)
    for (offset, length), got in zip(ranges, results, strict=True):
        assert got == data[offset : offset + length if length else None], (offset, length)


def test_ranged_reads_of_an_empty_blob_are_empty(s3: S3) -> None:
    async def test(store: S3ContentStore) -> list[bytes]:
        blob = await store.put(chunked(b""))
        return [await read_all(store, blob.blob_id, offset, length) for offset, length in [(0, 0), (0, 5)]]

    assert run(s3.store(), test) == [b"", b""]


def test_reading_a_missing_blob_is_not_found(s3: S3) -> None:
    async def test(store: S3ContentStore) -> None:
        for blob_id in ("0" * 32, "not-a-blob-id", "../../etc/passwd", ""):
            with pytest.raises(NotFound):
                await read_all(store, blob_id)

    run(s3.store(), test)


def test_a_read_closed_early_releases_its_stream(s3: S3) -> None:
    data = os.urandom(3 * MiB)

    async def test(store: S3ContentStore) -> bytes:
        blob = await store.put(chunked(data))
        reader = store.read(blob.blob_id, 0, 0, 64 * KiB)
        first = await anext(reader)
        await reader.aclose()  # type: ignore[attr-defined]
        return first + await read_all(store, blob.blob_id, 64 * KiB)  # the store still works

    assert run(s3.store(max_connections=1), test) == data


# ---- failures leave nothing behind ----


def test_a_failing_iterator_mid_multipart_aborts_the_upload(s3: S3) -> None:
    async def failing() -> AsyncIterator[bytes]:
        for _ in range(12):  # two parts uploaded, a third gathered
            yield os.urandom(MiB)
        raise ValueError("the client went away")

    async def test(store: S3ContentStore) -> None:
        with pytest.raises(ValueError, match="went away"):
            await store.put(failing())

    run(s3.store(part_size=PART), test)
    assert s3.keys() == []
    assert s3.pending_uploads() == []


def test_a_failing_iterator_before_the_first_part_stores_nothing(s3: S3) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"some bytes"
        raise ValueError("the client went away")

    async def test(store: S3ContentStore) -> None:
        with pytest.raises(ValueError):
            await store.put(failing())

    run(s3.store(part_size=PART), test)
    assert s3.keys() == [] and s3.pending_uploads() == []


@pytest.mark.parametrize("moment", ["while-waiting-for-chunks", "while-a-part-uploads"])
def test_a_cancelled_put_aborts_the_upload(s3: S3, moment: str) -> None:
    async def test(store: S3ContentStore) -> None:
        handed_over = asyncio.Event()

        async def stalling() -> AsyncIterator[bytes]:
            for _ in range(10):  # part 1 uploaded, part 2 gathered
                yield os.urandom(MiB)
            handed_over.set()
            yield os.urandom(MiB)  # more is coming, so the put uploads part 2 now
            await asyncio.Event().wait()  # and then the client stalls forever
            yield b""

        task = asyncio.create_task(store.put(stalling()))
        await handed_over.wait()  # the test resumes when the put awaits its upload of part 2
        if moment == "while-waiting-for-chunks":
            while await _part_count(s3) < 2:  # noqa: ASYNC110 - polling the server, which sends no events
                await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(s3.store(part_size=PART), test)
    assert s3.keys() == []
    assert s3.pending_uploads() == []


@pytest.mark.parametrize("size", [4 * MiB, 12 * MiB], ids=["PutObject", "last-part"])
def test_a_put_cancelled_during_its_last_requests_leaves_nothing(s3: S3, size: int) -> None:
    async def test(store: S3ContentStore) -> None:
        exhausted = asyncio.Event()

        async def source() -> AsyncIterator[bytes]:
            for _ in range(size // MiB):
                yield os.urandom(MiB)
            exhausted.set()  # the put now sends what it holds: one PutObject, or the last part and Complete

        task = asyncio.create_task(store.put(source()))
        await exhausted.wait()
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(s3.store(part_size=PART), test)
    assert s3.keys() == []
    assert s3.pending_uploads() == []


async def _part_count(s3: S3) -> int:
    uploads = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    if not uploads:
        return 0
    upload = uploads[0]
    parts = s3.client.list_parts(Bucket=s3.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    return len(parts.get("Parts", []))


# ---- delete and garbage collection ----


def test_delete_removes_blobs_in_batches_and_ignores_unknown_ids(s3: S3) -> None:
    async def test(store: S3ContentStore) -> list[StoredBlob]:
        blobs = [await store.put(chunked(os.urandom(100))) for _ in range(3)]
        unknown = [os.urandom(16).hex() for _ in range(1000)]  # pushes the last real id into a second batch
        await store.delete([blobs[0].blob_id, *unknown, "not-an-id", blobs[1].blob_id, blobs[1].blob_id])
        with pytest.raises(NotFound):
            await read_all(store, blobs[1].blob_id)
        await store.delete([])
        return blobs

    blobs = run(s3.store(), test)
    assert s3.keys() == [f"blobs/{blobs[2].blob_id}"]


def test_garbage_collection(s3: S3) -> None:
    client, bucket = s3.client, s3.bucket

    async def test(store: S3ContentStore) -> tuple[int, dict[str, StoredBlob]]:
        blobs = {name: await store.put(chunked(os.urandom(1000))) for name in ("kept", "orphan1", "orphan2")}
        stale_upload = client.create_multipart_upload(Bucket=bucket, Key=f"blobs/{os.urandom(16).hex()}")
        client.put_object(Bucket=bucket, Key="blobs/not-a-blob", Body=b"x")  # not ours: never touched
        client.put_object(Bucket=bucket, Key="elsewhere/" + os.urandom(16).hex(), Body=b"x")
        await asyncio.sleep(1.5)  # S3 dates objects to the second
        cutoff = datetime.now(UTC)
        await asyncio.sleep(1.5)
        blobs["recent"] = await store.put(chunked(os.urandom(1000)))
        fresh_upload = client.create_multipart_upload(Bucket=bucket, Key=f"blobs/{os.urandom(16).hex()}")
        removed = await store.collect_garbage([blobs["kept"].blob_id, "unrelated"], older_than=cutoff)
        uploads = {u["UploadId"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}
        assert stale_upload["UploadId"] not in uploads
        assert fresh_upload["UploadId"] in uploads
        client.abort_multipart_upload(Bucket=bucket, Key=fresh_upload["Key"], UploadId=fresh_upload["UploadId"])
        assert await store.collect_garbage([blobs["kept"].blob_id], older_than=cutoff) == 0  # nothing left
        return removed, blobs

    removed, blobs = run(s3.store(), test)
    assert removed == 2
    assert set(s3.keys("blobs/")) == {
        f"blobs/{blobs['kept'].blob_id}",
        f"blobs/{blobs['recent'].blob_id}",
        "blobs/not-a-blob",
    }
    assert len(s3.keys("elsewhere/")) == 1


def test_garbage_collection_pages_through_listings(s3: S3) -> None:
    async def test(store: S3ContentStore) -> int:
        blobs = await asyncio.gather(*(store.put(chunked(b"x")) for _ in range(1100)))
        keep = [blob.blob_id for blob in blobs[::2]]
        return await store.collect_garbage(keep, older_than=datetime.now(UTC) + timedelta(minutes=1))

    assert run(s3.store(max_connections=16), test) == 550
    assert len(s3.keys()) == 550


# ---- bounded memory and concurrency ----


def test_memory_stays_bounded_for_64_MiB(s3: S3) -> None:
    total = 64 * MiB
    expected = hashlib.sha256()

    async def source() -> AsyncIterator[bytes]:
        for _ in range(total // MiB):
            chunk = os.urandom(MiB)
            expected.update(chunk)
            yield chunk

    async def test(store: S3ContentStore) -> tuple[StoredBlob, bytes, int, float, float]:
        tracemalloc.start()
        try:
            began = time.perf_counter()
            blob = await store.put(source())
            put_seconds = time.perf_counter() - began
            read_back = hashlib.sha256()
            began = time.perf_counter()
            async for chunk in store.read(blob.blob_id, 0, 0, MiB):
                assert len(chunk) <= MiB
                read_back.update(chunk)
            read_seconds = time.perf_counter() - began
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return blob, read_back.digest(), peak, put_seconds, read_seconds

    blob, digest, peak, put_seconds, read_seconds = run(s3.store(), test)  # the default 8 MiB parts
    print(f"\n64 MiB: put {put_seconds:.2f} s, read {read_seconds:.2f} s, traced peak {peak / MiB:.1f} MiB")
    assert blob.size == total
    assert blob.sha256 == digest == expected.digest()
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_concurrent_puts_are_distinct(s3: S3) -> None:
    contents = [os.urandom(size) for size in (0, 1, 1000, MiB, PART - 1, PART, PART + 1, 2 * PART + 7)]

    async def test(store: S3ContentStore) -> list[tuple[StoredBlob, bytes]]:
        blobs = await asyncio.gather(*(store.put(chunked(data)) for data in contents))
        return [(blob, await read_all(store, blob.blob_id)) for blob in blobs]

    results = run(s3.store(part_size=PART), test)
    assert len({blob.blob_id for blob, _ in results}) == len(contents)
    for data, (blob, back) in zip(contents, results, strict=True):
        assert back == data and blob.size == len(data) and blob.sha256 == hashlib.sha256(data).digest()
    assert len(s3.keys()) == len(contents) and s3.pending_uploads() == []


# ---- start-up and transient failures ----


def test_start_creates_a_missing_bucket(s3: S3) -> None:
    bucket = f"created-{os.urandom(4).hex()}"
    run(S3ContentStore(s3.server.endpoint_url, bucket), lambda store: store.delete([]))
    s3.client.head_bucket(Bucket=bucket)


def test_start_fails_with_the_reason(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = S3ContentStore(s3.server.endpoint_url, f"missing-{os.urandom(4).hex()}", create_bucket=False)
    with pytest.raises(RuntimeError, match="does not exist"):
        asyncio.run(missing.start())
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    with pytest.raises(RuntimeError, match="403"):
        asyncio.run(s3.store().start())


class _FlakyS3(http.server.BaseHTTPRequestHandler):
    """Answers HeadBucket, and 503 SlowDown to everything else: an overloaded store."""

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        self.do_GET()

    do_POST = do_PUT

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def flaky_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, http.server.ThreadingHTTPServer]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_transient_failures_are_unavailable(flaky_endpoint: tuple[str, http.server.ThreadingHTTPServer]) -> None:
    endpoint, server = flaky_endpoint

    async def test(store: S3ContentStore) -> None:
        for action in (
            lambda: store.put(chunked(b"data")),
            lambda: read_all(store, "0" * 32),
            lambda: store.delete(["0" * 32]),
            lambda: store.collect_garbage([], datetime.now(UTC)),
        ):
            with pytest.raises(Unavailable, match="503 SlowDown"):
                await action()
        server.shutdown()  # and now nobody answers at all
        server.server_close()
        with pytest.raises(Unavailable):
            await store.put(chunked(b"data"))
        with pytest.raises(Unavailable):
            await read_all(store, "0" * 32)

    run(S3ContentStore(endpoint, "bucket", max_attempts=1), test)


# ---- the s3 backend: the sql backend's metadata with this store's contents ----


def test_create_s3_backend_keeps_contents_in_the_bucket(s3: S3, tmp_path: Path) -> None:
    alice = Principal("alice", "Alice")
    backend = create_s3_backend(f"sqlite:///{tmp_path / 'metadata.db'}", s3.server.endpoint_url, s3.bucket)
    assert backend.capabilities.adapter_name == "s3"

    async def main() -> tuple[str, str, bytes]:
        await backend.start()
        try:
            root = await backend.root_container()
            created = await backend.create_file(root.container_id, "a.docx", chunked(b"first"), alice)
            written = await backend.write_file(created.file_id, Preconditions(), chunked(b"second"), alice)
            reader = await backend.open_file(created.file_id, 0, 0, None)
            return created.version, written.version, b"".join([chunk async for chunk in reader.chunks])
        finally:
            await backend.close()

    first_version, second_version, contents = asyncio.run(main())
    assert contents == b"second" and first_version != second_version
    assert len(s3.keys("blobs/")) == 2  # the current contents and the earlier version, kept as history
