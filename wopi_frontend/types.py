"""Types shared by the front-end's modules. Read this module first."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NewType

FileId = NewType("FileId", str)
ContainerId = NewType("ContainerId", str)
LockId = NewType("LockId", str)


class Permission(enum.StrEnum):
    """What an access token lets its user do with its one file."""

    VIEW = "view"  # CheckFileInfo, GetFile, GetLock, EnumerateAncestors, PutUserInfo, GetShareUrl(ReadOnly)
    EDIT = "edit"  # PutFile and the lock operations; GetShareUrl(ReadWrite)
    RENAME = "rename"  # RenameFile
    DELETE = "delete"  # DeleteFile
    CREATE = "create"  # PutRelativeFile: new files beside this one


# The permission sets a person asks for by name (`--permission view|edit`, the sessions API).
PERMISSION_SETS: dict[str, frozenset[Permission]] = {
    "view": frozenset({Permission.VIEW}),
    "edit": frozenset(Permission),
}


@dataclass(frozen=True)
class Principal:
    """The end user, as the access token names them: storage decides what they may do from the id and the
    groups (grants to a group apply to its members)."""

    user_id: str
    display_name: str = ""
    groups: tuple[str, ...] = ()
