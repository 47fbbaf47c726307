"""An upload's early check (storage_adapter/backends/uploads.py): a long upload is checked before the backend
sees any of it, so a refused one is not received to its end; one that fits under the threshold is passed on
unchecked (its commit checks it), byte for byte either way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from storage_adapter.backends.uploads import checked_when_long

PIECE = 1000


async def pieces(count: int, pulled: list[int]) -> AsyncIterator[bytes]:
    for number in range(count):
        pulled.append(number)
        yield bytes([number % 256]) * PIECE


async def passed_on(count: int, threshold: int, check_error: Exception | None = None) -> tuple[bytes, int, int]:
    """What the backend received, how many checks ran, and how many pieces were pulled from the caller."""
    checks, pulled = [], []

    async def check() -> None:
        checks.append(len(pulled))
        if check_error is not None:
            raise check_error

    received = b"".join([chunk async for chunk in checked_when_long(pieces(count, pulled), check, threshold)])
    return received, len(checks), len(pulled)


def expected(count: int) -> bytes:
    return b"".join(bytes([number % 256]) * PIECE for number in range(count))


@pytest.mark.parametrize("count", [0, 1, 9])
def test_an_upload_under_the_threshold_is_passed_on_unchecked(count: int) -> None:
    assert asyncio.run(passed_on(count, 10 * PIECE)) == (expected(count), 0, count)


@pytest.mark.parametrize("count", [10, 11, 50])
def test_a_longer_upload_is_checked_once_then_passed_on_whole(count: int) -> None:
    assert asyncio.run(passed_on(count, 10 * PIECE)) == (expected(count), 1, count)


def test_a_refusing_check_ends_a_long_upload_before_the_backend_sees_any_of_it() -> None:
    async def refused() -> tuple[list[bytes], int]:
        seen: list[bytes] = []
        pulled: list[int] = []

        async def check() -> None:
            raise PermissionError("the lock is not the caller's")

        with pytest.raises(PermissionError):
            async for chunk in checked_when_long(pieces(1000, pulled), check, 10 * PIECE):
                seen.append(chunk)
        return seen, len(pulled)

    seen, pulled = asyncio.run(refused())
    assert seen == [] and pulled == 10  # the caller's 990 other pieces were never asked for
