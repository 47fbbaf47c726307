"""The HTTP/1.1 protocol the front-end serves: uvicorn's httptools protocol plus the two time limits it lacks.

What uvicorn (0.55, httptools) does on its own: its keep-alive timeout (`timeout_keep_alive`) is armed only once
a response is complete, and cancelled by any byte received. So a connection that sends nothing, or half a
request head (or drips one byte at a time), stays open for as long as the peer likes; and `send` waits, without
a limit, for a peer that stops reading a response to read again, holding the response's buffers (for GetFile,
the gRPC stream from storage) meanwhile.

- The head timeout: a request head (request line and headers) must be complete within `header_timeout`
  seconds of the connection opening, or of the first byte of a later request on a kept-alive connection.
  Otherwise the connection is closed (with a 408 when part of a head arrived).
- The write timeout: a response that the peer does not read for `write_timeout` seconds (the transport's
  buffer stays full) ends the connection at once with a TCP reset (a plain close would wait forever to flush).
  The application then sees the disconnect, and GetFile cancels its storage stream.

Request bodies that stall are bounded where they are read (`requests.body_chunks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import Any

from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("wopi_frontend.http")

_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
LISTEN_BACKLOG = 2048  # connections the kernel queues before uvicorn accepts them (uvicorn's default, explicit)
MAX_REQUEST_HEAD_BYTES = 64 * 1024  # for uvicorn's h11 protocol only; httptools has its own limit (80 KiB)


class BoundedFlowControl(FlowControl):
    """uvicorn's flow control, whose `drain` (a response waiting for the peer to read) gives up after
    `write_timeout` seconds by aborting the connection."""

    def __init__(self, transport: asyncio.Transport, write_timeout: float) -> None:
        super().__init__(transport)
        self._write_timeout = write_timeout

    async def drain(self) -> None:
        try:
            async with asyncio.timeout(self._write_timeout):
                await super().drain()
        except TimeoutError:
            logger.info("closing a connection that read nothing of its response for %g s", self._write_timeout)
            reset(self._transport)


def reset(transport: asyncio.Transport) -> None:
    """End the connection at once with a TCP reset. A plain close would leave the unsent response in the
    kernel, which keeps offering it to a peer that does not read (and the peer would see no end)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()  # calls connection_lost, which marks the request disconnected


class TimedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    write_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_started = False  # a byte of the current request head has arrived

    @classmethod
    def with_timeouts(cls, *, header_timeout: float, write_timeout: float) -> type[TimedHttpToolsProtocol]:
        """The protocol class to give uvicorn (`Config(http=...)`), with these limits in seconds."""
        return type(cls.__name__, (cls,), {"header_timeout": header_timeout, "write_timeout": write_timeout})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = BoundedFlowControl(transport, self.write_timeout)
        self._arm_head_timer()

    def on_message_begin(self) -> None:
        if self._head_timer is None:  # a later request on a kept-alive connection (or pipelined)
            self._arm_head_timer()
        self._head_started = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._head_started = False
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()
