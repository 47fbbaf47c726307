"""When a backend checks an upload's preconditions before receiving it.

Every write is checked by its commit, atomically with making the contents visible: that check decides. A check
before the upload only saves receiving contents that would be refused, and costs a read of the catalogue (a
thread hop, a database round trip) on every write. So it is made only for an upload longer than
`EARLY_CHECK_BYTES`: a refused 100 MiB upload is answered after its first 2 MiB, while an editor's save, a few
KiB that come in one piece, is checked once, by its commit. Either way the answer is the same and nothing is
left changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

EARLY_CHECK_BYTES = 2 * 1024 * 1024


async def checked_when_long(
    chunks: AsyncIterator[bytes], check: Callable[[], Awaitable[object]], threshold: int = EARLY_CHECK_BYTES
) -> AsyncIterator[bytes]:
    """`chunks` as they come, except that the first `threshold` bytes are held back until either the upload
    ends (then `check` is never called) or it turns out longer: then `check()` is awaited first, and its error
    ends the upload before the backend has seen any of it. Holds at most `threshold` bytes and one chunk."""
    held: list[bytes] = []
    size = 0
    async for chunk in chunks:
        held.append(chunk)
        size += len(chunk)
        if size >= threshold:
            await check()
            break
    else:  # the whole upload fitted: the commit's check is the only one
        for chunk in held:
            yield chunk
        return
    for chunk in held:
        yield chunk
    del held
    async for chunk in chunks:
        yield chunk
