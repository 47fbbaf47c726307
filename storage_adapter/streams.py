"""Validation of client-streamed contents (WriteFile, CreateFile) before any byte reaches a backend.

The layout is: one header message first, then data messages, then one `ContentEnd` stating the byte count.
Anything else is INVALID_ARGUMENT, raised from the chunk iterator the backend is consuming, so the backend
discards its partial write. The end message matters: when a caller cancels, grpc.aio ends the request
iterator as if the caller had half-closed, so without it a cancelled upload would look complete.

Each message must arrive within `idle_timeout` seconds of the previous one (of the call's start, for the header):
a caller that stalls mid-upload gets `StreamIdle` raised from the same iterator, so the backend removes its temp
file and the caller's descriptor is freed instead of held until the caller goes away.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Generic, Protocol, TypeVar

from storage_adapter.errors import InvalidArgument, TooLarge
from storage_adapter.types import Capabilities

Header = TypeVar("Header")
DEFAULT_IDLE_TIMEOUT = 30.0  # seconds


class StreamIdle(Exception):
    """The caller sent no message for the idle timeout: the servicer answers DEADLINE_EXCEEDED."""


class StreamEnd(Protocol):
    size: int


class StreamMessage(Protocol[Header]):  # the shape shared by WriteFileRequest and CreateFileRequest
    header: Header
    data: bytes
    end: StreamEnd

    def WhichOneof(self, oneof_group: str) -> str | None: ...


class ContentStream(Generic[Header]):
    def __init__(
        self,
        messages: AsyncIterator[StreamMessage[Header]],
        capabilities: Capabilities,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self._messages = messages
        self._max_chunk = capabilities.max_chunk_size
        self._max_size = capabilities.max_file_size
        self._idle_timeout = idle_timeout

    async def _next(self) -> StreamMessage[Header]:
        """The next message; StopAsyncIteration at the end; StreamIdle when none comes in time."""
        try:
            async with asyncio.timeout(self._idle_timeout):
                return await anext(self._messages)
        except TimeoutError:
            raise StreamIdle(f"no message arrived for {self._idle_timeout:g} seconds: upload abandoned") from None

    async def _all(self) -> AsyncIterator[StreamMessage[Header]]:
        while True:
            try:
                yield await self._next()
            except StopAsyncIteration:
                return

    async def header(self) -> Header:
        """The first message's header. INVALID_ARGUMENT if the stream is empty or starts with data."""
        try:
            first = await self._next()
        except StopAsyncIteration:
            raise InvalidArgument("header", "the stream is empty: the first message must carry the header") from None
        if first.WhichOneof("message") != "header":
            raise InvalidArgument("header", "the first message must carry the header, not data")
        return first.header

    async def chunks(self) -> AsyncIterator[bytes]:
        """The data that follows the header, checked message by message; it ends only after a valid end."""
        total = 0
        ended = False
        async for message in self._all():
            kind = message.WhichOneof("message")
            if ended:
                raise InvalidArgument("end", "nothing may follow the end message")
            if kind == "header":
                raise InvalidArgument("header", "the header may only be sent once, in the first message")
            if kind == "end":
                if message.end.size != total:
                    raise InvalidArgument("end.size", f"the end message says {message.end.size} bytes, {total} arrived")
                ended = True
                continue
            if kind != "data":
                raise InvalidArgument("message", "a message must carry the header, data, or the end")
            chunk = message.data
            if len(chunk) > self._max_chunk:
                raise InvalidArgument("data", f"a chunk is larger than max_chunk_size ({self._max_chunk} bytes)")
            total += len(chunk)
            if self._max_size and total > self._max_size:
                raise TooLarge(f"the contents are larger than max_file_size ({self._max_size} bytes)")
            if chunk:
                yield chunk
        if not ended:
            raise InvalidArgument("end", "the stream stopped before its end message: the upload is incomplete")

    async def drain(self) -> None:
        """Read and drop whatever the caller is still sending. Called before answering an error mid-stream:
        a status sent while the client is still writing can reach it as INTERNAL instead of the real error.
        A caller that stalls is not waited for beyond the idle timeout: the error is answered anyway."""
        try:
            async for _ in self._all():
                pass
        except StreamIdle:
            pass
