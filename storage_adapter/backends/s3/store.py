"""File contents as immutable objects in an S3-compatible object store (AWS S3, MinIO, SeaweedFS, R2, Ceph...).

Every `put` writes a new object under a fresh random key and never overwrites one: the database that holds the
metadata swaps a file's pointer to the new blob in the transaction that checks the lock and the version, so
the object store needs no conditional writes, no locking and no read-after-write consistency beyond "an object
that was written can be read". See `docs/backends.md` for the design and what a crash leaves behind.

Contents stream in bounded memory: a put holds one part buffer (at most `part_size`, reused for every part)
plus one incoming chunk, a read at most one chunk. Blocking boto3 calls run on a small thread pool of the store's own.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from storage_adapter.backends.content_store import ContentStore, StoredBlob
from storage_adapter.backends.s3.errors import describe, is_not_found, is_transient, status_and_code, unavailable
from storage_adapter.errors import NotFound, TooLarge, Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * MiB
MAX_PARTS = 10_000  # S3's limit per multipart upload: the largest blob is MAX_PARTS * part_size
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
BLOB_ID = re.compile(r"[0-9a-f]{32}")  # 128 random bits; the object key is `prefix + blob_id`


@dataclass
class _Upload:
    """What one `put` has created so far, so that a failure (or a cancellation) can undo it."""

    key: str
    upload_id: str | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    # The S3 call running on a worker thread right now. It keeps running when the task awaiting it is
    # cancelled, so cleanup waits for it before aborting: a part must not land after the abort.
    inflight: asyncio.Future[Any] | None = None
    inflight_operation: str = ""
    object_may_exist: bool = False


class S3ContentStore(ContentStore):
    """Blobs as objects `<prefix><blob_id>` in `bucket`.

    Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
    AWS_PROFILE and the shared config files, container and instance roles). `region` defaults to AWS_REGION /
    AWS_DEFAULT_REGION, then us-east-1 (which S3-compatible stores accept). Addressing is path-style
    (`endpoint/bucket/key`), which every S3-compatible store serves. `endpoint_url` "" means AWS's own endpoint.
    """

    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        *,
        prefix: str = "blobs/",
        region: str | None = None,
        part_size: int = 8 * MiB,
        create_bucket: bool = True,
        max_connections: int = 16,
        max_attempts: int = 3,
    ) -> None:
        if not bucket:
            raise ValueError("the S3 bucket name is empty")
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes (S3's limits)")
        if prefix.startswith("/"):
            raise ValueError("the key prefix must not start with '/'")
        if max_connections < 1 or max_attempts < 1:
            raise ValueError("max_connections and max_attempts must be at least 1")
        self.endpoint_url = endpoint_url
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.part_size = part_size
        self.create_bucket = create_bucket
        self.max_connections = max_connections
        self.max_attempts = max_attempts
        self._client: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._cleanups: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"S3ContentStore({self.endpoint_url or 'aws'!r}, {self.bucket!r}, prefix={self.prefix!r})"

    # ---- lifecycle ----

    async def start(self) -> None:
        """Create the client and check the bucket (creating it when missing and `create_bucket` is set).
        Raises RuntimeError with the reason when the store cannot be used."""
        self._executor = ThreadPoolExecutor(max_workers=self.max_connections, thread_name_prefix="s3-store")
        try:
            self._client = await self._await(self._submit(self._new_client), "create client")
            await self._ensure_bucket()
        except RuntimeError:
            await self.close()
            raise
        except Exception as error:
            await self.close()
            reason = error.__cause__ if isinstance(error, Unavailable) and error.__cause__ else error
            raise RuntimeError(f"{self!r}: cannot use the object store: {reason}") from error

    async def close(self) -> None:
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)
        client, executor = self._client, self._executor
        self._client = None
        self._executor = None
        if executor is not None:
            if client is not None:
                await asyncio.wrap_future(executor.submit(client.close))
            executor.shutdown(wait=False, cancel_futures=True)

    def _new_client(self) -> Any:
        session = boto3.session.Session(region_name=self.region)
        config = Config(
            region_name=session.region_name or "us-east-1",
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": self.max_attempts},
            max_pool_connections=self.max_connections,
            connect_timeout=10,
            read_timeout=60,
            tcp_keepalive=True,
        )
        return session.client("s3", endpoint_url=self.endpoint_url or None, config=config)

    async def _ensure_bucket(self) -> None:
        try:
            await self._call("head_bucket", Bucket=self.bucket)
            return
        except ClientError as error:
            if status_and_code(error)[0] != 404:
                raise RuntimeError(f"{self!r}: cannot use the bucket: {describe(error)}") from error
        if not self.create_bucket:
            raise RuntimeError(f"{self!r}: the bucket does not exist (create it, or enable bucket creation)")
        params: dict[str, Any] = {"Bucket": self.bucket}
        region = self._client.meta.region_name
        if region not in ("us-east-1", "auto"):  # AWS wants the region spelled out everywhere but us-east-1
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            await self._call("create_bucket", **params)
        except ClientError as error:
            if status_and_code(error)[1] != "BucketAlreadyOwnedByYou":  # another replica created it meanwhile
                raise RuntimeError(f"{self!r}: cannot create the bucket: {describe(error)}") from error
        log.info("created bucket %s", self.bucket)

    # ---- the ContentStore interface ----

    async def put(self, chunks: AsyncIterator[bytes]) -> StoredBlob:
        blob_id = secrets.token_hex(16)
        upload = _Upload(self.prefix + blob_id)
        sha256 = hashlib.sha256()
        size = 0
        # One part buffer, grown while the first part arrives (a small file needs no more than its size), sent
        # whole (botocore sends a bytearray without copying it), then filled again in place for the next part:
        # no part-sized allocation per part.
        part = bytearray()
        filled = 0
        try:
            async for chunk in chunks:
                sha256.update(chunk)
                size += len(chunk)
                rest = memoryview(chunk)
                while rest:
                    if filled == self.part_size:  # full, and more is coming: it is not the last part
                        await self._upload_part(upload, part)
                        filled = 0
                    taken = min(self.part_size - filled, len(rest))
                    if filled == len(part):  # the first part: the buffer grows
                        part += rest[:taken]
                    else:
                        part[filled : filled + taken] = rest[:taken]
                    filled += taken
                    rest = rest[taken:]
            del part[filled:]  # the last part (or the whole object): only what was filled
            if upload.upload_id is None:
                # Keys are random, so IfNoneMatch never fires in practice: it makes "never overwrite" explicit.
                await self._step(upload, "put_object", Bucket=self.bucket, Key=upload.key, Body=part, IfNoneMatch="*")
            else:
                await self._upload_part(upload, part)
                await self._step(
                    upload,
                    "complete_multipart_upload",
                    Bucket=self.bucket,
                    Key=upload.key,
                    UploadId=upload.upload_id,
                    MultipartUpload={"Parts": upload.parts},
                )
        except BaseException:
            await self._discard(upload)
            raise
        return StoredBlob(blob_id=blob_id, size=size, sha256=sha256.digest())

    async def read(self, blob_id: str, offset: int, length: int, chunk_size: int) -> AsyncIterator[bytes]:
        if chunk_size <= 0 or offset < 0 or length < 0:
            raise ValueError("chunk_size must be positive, offset and length not negative")
        if not BLOB_ID.fullmatch(blob_id):
            raise NotFound(f"no blob {blob_id!r}")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.prefix + blob_id}
        if offset or length:
            params["Range"] = f"bytes={offset}-{offset + length - 1}" if length else f"bytes={offset}-"
        try:
            response = await self._call("get_object", **params)
        except ClientError as error:
            if is_not_found(error):
                raise NotFound(f"no blob {blob_id!r}") from None
            if status_and_code(error)[1] == "InvalidRange":  # offset at (or past) the end: nothing to read
                return
            raise
        body = response["Body"]
        pending: asyncio.Future[bytes] | None = None
        try:
            while True:
                pending = self._submit(body.read, chunk_size)
                data = await self._await(pending, "GetObject (body)")
                pending = None
                if not data:
                    return
                yield data
        finally:
            if pending is not None and not pending.done():  # closed while a read runs: close after it
                pending.add_done_callback(lambda _: body.close())
            else:
                body.close()

    async def delete(self, blob_ids: Iterable[str]) -> None:
        keys = [self.prefix + blob_id for blob_id in dict.fromkeys(blob_ids) if BLOB_ID.fullmatch(blob_id)]
        await self._delete_keys(keys)

    async def collect_garbage(self, referenced: Iterable[str], older_than: datetime) -> int:
        """Delete unreferenced blobs last modified before `older_than`, and abort multipart uploads under the
        prefix started before it. `older_than` must leave a grace period longer than the longest upload: S3
        dates a multipart object by the *start* of its upload, and an upload still in flight looks stale."""
        if older_than.tzinfo is None:
            raise ValueError("older_than must be an aware datetime")
        keep = set(referenced)
        removed = 0
        listing: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        while True:
            page = await self._call("list_objects_v2", **listing)
            doomed = [
                item["Key"]
                for item in page.get("Contents", [])
                if BLOB_ID.fullmatch(blob_id := item["Key"][len(self.prefix) :])
                and blob_id not in keep
                and item["LastModified"] < older_than
            ]
            await self._delete_keys(doomed)
            removed += len(doomed)
            if not page.get("IsTruncated"):
                break
            listing["ContinuationToken"] = page["NextContinuationToken"]
        aborted = await self._abort_stale_uploads(older_than)
        if removed or aborted:
            log.info("garbage collection: %d blobs deleted, %d stale multipart uploads aborted", removed, aborted)
        return removed

    # ---- helpers ----

    async def _upload_part(self, upload: _Upload, body: bytearray) -> None:
        if upload.upload_id is None:
            created = await self._step(upload, "create_multipart_upload", Bucket=self.bucket, Key=upload.key)
            upload.upload_id = created["UploadId"]
        number = len(upload.parts) + 1
        if number > MAX_PARTS:
            raise TooLarge(f"the contents exceed {MAX_PARTS} parts of {self.part_size} bytes")
        response = await self._step(
            upload,
            "upload_part",
            Bucket=self.bucket,
            Key=upload.key,
            UploadId=upload.upload_id,
            PartNumber=number,
            Body=body,
        )
        part = {"PartNumber": number, "ETag": response["ETag"]}
        # Part checksums botocore computed (CRC32 by default) must be repeated when completing the upload.
        part.update({k: v for k, v in response.items() if k.startswith("Checksum") and k != "ChecksumType"})
        upload.parts.append(part)

    async def _step(self, upload: _Upload, operation: str, **params: Any) -> Any:
        """One S3 call of a put, remembered until it returns so that `_discard` can wait for it."""
        upload.inflight = self._submit(getattr(self._require_client(), operation), **params)
        upload.inflight_operation = operation
        if operation in ("put_object", "complete_multipart_upload"):
            upload.object_may_exist = True
        result = await self._await(upload.inflight, operation)
        upload.inflight = None
        return result

    async def _discard(self, upload: _Upload) -> None:
        """Undo a failed or cancelled put: abort its multipart upload, delete an object that may have been
        created. Runs shielded, so a second cancellation does not interrupt it; whatever still fails here is
        left to `collect_garbage` (nothing points to it)."""

        async def cleanup() -> None:
            if upload.inflight is not None:
                await asyncio.wait([upload.inflight])
                if (
                    upload.inflight_operation == "create_multipart_upload"
                    and not upload.inflight.cancelled()
                    and upload.inflight.exception() is None
                ):
                    upload.upload_id = upload.inflight.result()["UploadId"]
            try:
                if upload.upload_id is not None:
                    await self._call(
                        "abort_multipart_upload", Bucket=self.bucket, Key=upload.key, UploadId=upload.upload_id
                    )
                if upload.object_may_exist:
                    await self._delete_keys([upload.key])
            except Exception as error:
                log.warning(
                    "could not clean up the failed upload of %s (left for garbage collection): %s", upload.key, error
                )

        task = asyncio.ensure_future(cleanup())
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        await asyncio.shield(task)

    async def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            response = await self._call(
                "delete_objects",
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            failures = [e for e in response.get("Errors", []) if e.get("Code") != "NoSuchKey"]
            if failures:
                first = failures[0]
                message = (
                    f"object store: could not delete {len(failures)} objects ({first.get('Code')}: "
                    f"{first.get('Message')})"
                )
                if any(e.get("Code") in ("InternalError", "SlowDown", "ServiceUnavailable") for e in failures):
                    raise Unavailable(message)
                raise RuntimeError(message)

    async def _abort_stale_uploads(self, older_than: datetime) -> int:
        aborted = 0
        listing: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix}
        while True:
            page = await self._call("list_multipart_uploads", **listing)
            for upload in page.get("Uploads", []):
                # Some stores leave Initiated out (SeaweedFS did before 2026-09): such an upload's age is unknown.
                initiated = upload.get("Initiated")
                if initiated is not None and initiated < older_than:
                    try:
                        await self._call(
                            "abort_multipart_upload", Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted += 1
                    except ClientError as error:
                        if status_and_code(error)[1] != "NoSuchUpload":  # completed or aborted meanwhile
                            raise
            if not page.get("IsTruncated"):
                return aborted
            listing["KeyMarker"] = page.get("NextKeyMarker", "")
            listing["UploadIdMarker"] = page.get("NextUploadIdMarker", "")

    def _require_client(self) -> Any:
        if self._client is None:
            raise RuntimeError(f"{self!r} is not started (call start() first) or is closed")
        return self._client

    def _submit(self, function: Callable[..., T], *args: Any, **params: Any) -> asyncio.Future[T]:
        """Run a blocking call on the store's threads. The returned future completes when the call does, even
        if whoever awaits it is cancelled (see `_await`)."""
        if self._executor is None:
            raise RuntimeError(f"{self!r} is not started (call start() first) or is closed")
        future = asyncio.wrap_future(self._executor.submit(functools.partial(function, *args, **params)))
        # Nobody may be left to look at the outcome of a call whose caller was cancelled: mark it retrieved.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        return future

    async def _await(self, future: asyncio.Future[T], operation: str) -> T:
        """The call's result; transient failures become Unavailable. Shielded: cancelling the caller leaves
        the future running, so cleanup can wait for what the thread is still doing."""
        try:
            return await asyncio.shield(future)
        except Exception as error:
            if is_transient(error):
                raise unavailable(error, operation) from error
            raise

    async def _call(self, operation: str, **params: Any) -> Any:
        return await self._await(self._submit(getattr(self._require_client(), operation), **params), operation)
