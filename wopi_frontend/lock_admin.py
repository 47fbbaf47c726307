"""`wopi-host admin`: the storage administrator's lock tools, over the front-end's storage client.

    wopi-host admin locks [--page-size N]               the files locked now, across the whole store
    wopi-host admin unlock FILE_ID --reason TEXT        break a file's lock; the reason goes into its history

Both act as the administrator named by `--admin-principal` or WOPI_ADMIN_PRINCIPAL: a principal id that the storage
service treats as an administrator (its own `--admin-principal` / WOPI_STORAGE_ADMIN_PRINCIPALS). Storage decides:
anyone else is refused (PERMISSION_DENIED), and it records who broke a lock, when and why. The listing is tab
separated (file id, name, holder, since, expires: times in UTC, ISO 8601), one file a line, read a page at a time
until the last; what people or editors named (file names, display names) is printed with its control and format
characters replaced, so that nothing stored can drive the terminal.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC
from typing import TextIO

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from wopi_frontend.identity import USER_ID
from wopi_frontend.storage_client import StorageCallError, StorageClient
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

ADMIN_PRINCIPAL_ENV = "WOPI_ADMIN_PRINCIPAL"
MAX_PAGE_SIZE = 1000  # storage's bound on ListLockedFiles
MAX_REASON = 500
_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")
HEADER = "FILE ID\tNAME\tLOCKED BY\tSINCE\tEXPIRES"


class AdminError(Exception):
    """What the person at the terminal is told, and the command's exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def administrator(principal_id: str | None) -> Principal:
    if not principal_id:
        raise AdminError(f"name the storage administrator with --admin-principal or {ADMIN_PRINCIPAL_ENV}", 2)
    if not USER_ID.fullmatch(principal_id):
        raise AdminError("an administrator's principal id is 1 to 256 printable ASCII characters, no spaces", 2)
    return Principal(principal_id)


def printable(text: str) -> str:
    """`text` with every control, format, separator-of-lines character replaced (U+FFFD): safe in a terminal and in
    one tab-separated column."""
    return "".join(
        "\ufffd" if unicodedata.category(character)[0] in "CZ" and character != " " else character for character in text
    )


def _time(moment: Timestamp) -> str:
    if not moment.seconds and not moment.nanos:
        return "-"
    return moment.ToDatetime(tzinfo=UTC).isoformat(timespec="seconds")


def line_of(info: pb.FileInfo) -> str:
    lock = info.lock
    holder = lock.locked_by.display_name or lock.locked_by.user_id or "-"
    holder_id = f" ({lock.locked_by.user_id})" if lock.locked_by.display_name and lock.locked_by.user_id else ""
    since = _time(lock.locked_time) if lock.HasField("locked_time") else "-"
    return "\t".join(
        [info.file_id, printable(info.name), printable(holder + holder_id), since, _time(lock.expires_time)]
    )


def _refusal(error: StorageCallError, admin: Principal) -> AdminError:
    if error.code == grpc.StatusCode.PERMISSION_DENIED:
        return AdminError(
            f"storage refused {admin.user_id!r}: it is not an administrator of the storage service "
            "(its --admin-principal)"
        )
    if error.code == grpc.StatusCode.UNIMPLEMENTED:
        return AdminError("this storage service has no lock administration")
    if error.code == grpc.StatusCode.NOT_FOUND:
        return AdminError("no such file")
    if error.code == grpc.StatusCode.FAILED_PRECONDITION:
        return AdminError("the file is not locked (or its lock has expired): nothing to unlock")
    return AdminError(f"storage: {error}")


async def locked_files(storage: StorageClient, admin: Principal, page_size: int) -> AsyncIterator[pb.FileInfo]:
    """Every file locked now, each once, page after page until the last (a lock refreshed while the pages are read
    moves later in storage's order and may come again: it is shown once)."""
    seen: set[str] = set()
    token = ""
    while True:
        files, token = await storage.list_locked_files(admin, page_size, token)
        for info in files:
            if info.file_id not in seen:
                seen.add(info.file_id)
                yield info
        if not token:
            return


async def print_locks(storage: StorageClient, admin: Principal, page_size: int, out: TextIO = sys.stdout) -> int:
    """Print the locked files; how many there were."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise AdminError(f"--page-size is 1 to {MAX_PAGE_SIZE}", 2)
    count = 0
    try:
        async for info in locked_files(storage, admin, page_size):
            if not count:
                print(HEADER, file=out)
            print(line_of(info), file=out, flush=True)
            count += 1
    except StorageCallError as error:
        raise _refusal(error, admin) from None
    return count


async def unlock(storage: StorageClient, admin: Principal, file_id: str, reason: str) -> pb.FileInfo:
    """Break the file's lock with `reason`; the file as it was before (with the lock that was broken)."""
    if not _FILE_ID.fullmatch(file_id):
        raise AdminError("a file id is 1 to 256 characters from A-Z, a-z, 0-9, _ and -", 2)
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON:
        raise AdminError(f"--reason is 1 to {MAX_REASON} characters of text", 2)
    try:
        before = await storage.stat_file(file_id, admin)
        await storage.break_lock(file_id, reason, admin)
    except StorageCallError as error:
        raise _refusal(error, admin) from None
    return before
