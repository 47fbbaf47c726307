"""The storage adapter's domain types: what backends take and return, independent of the wire format.

Read this module first. `servicer.py` converts between these types and the `wopi_proto` messages; backends
see only these.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NewType

FileId = NewType("FileId", str)
ContainerId = NewType("ContainerId", str)
LockId = NewType("LockId", str)
Version = NewType("Version", str)


@dataclass(frozen=True)
class Principal:
    """The end user on whose behalf a change is made (from request metadata)."""

    user_id: str = ""
    display_name: str = ""
    # Group memberships from `x-wopi-principal-groups`: whose grants apply (access.py). Not stored with items.
    groups: frozenset[str] = frozenset()


ANONYMOUS = Principal()


@dataclass(frozen=True)
class Permissions:
    """What the calling principal may do with one item (proto `Permissions`; the model is `access.py`)."""

    read: bool = False
    write: bool = False
    lock: bool = False
    rename: bool = False
    delete: bool = False
    create_children: bool = False
    manage_sharing: bool = False


# What an adapter without access control reports for everyone: every permission that can apply.
UNRESTRICTED_FILE = Permissions(read=True, write=True, lock=True, rename=True, delete=True)
UNRESTRICTED_CONTAINER = dataclasses.replace(UNRESTRICTED_FILE, create_children=True)


@dataclass(frozen=True)
class LockState:
    lock_id: LockId
    expires_at: datetime
    locked_by: Principal = ANONYMOUS
    # When the lock was taken (or replaced by another lock id); None for a lock stored before this was kept.
    locked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        """An expired lock is no lock: every read of lock state goes through this."""
        return now < self.expires_at


@dataclass(frozen=True)
class FileMeta:
    file_id: FileId
    name: str
    size: int
    version: Version
    parent_id: ContainerId
    owner: Principal
    created_at: datetime
    modified_at: datetime
    modified_by: Principal = ANONYMOUS
    lock: LockState | None = None
    sha256: bytes = b""
    # The calling principal's, set by a backend with access control on what it answers.
    permissions: Permissions = UNRESTRICTED_FILE


@dataclass(frozen=True)
class ContainerMeta:
    container_id: ContainerId
    name: str
    parent_id: ContainerId | None
    owner: Principal
    created_at: datetime
    permissions: Permissions = UNRESTRICTED_CONTAINER


Item = FileMeta | ContainerMeta


@dataclass(frozen=True)
class VersionMeta:
    """An earlier version of a file, kept by backends with version history."""

    version: Version
    size: int
    modified_at: datetime
    modified_by: Principal
    sha256: bytes = b""


class WhenUnlocked(enum.Enum):
    ALLOW = "allow"
    REQUIRE_EMPTY = "require_empty"
    REJECT = "reject"


@dataclass(frozen=True)
class Preconditions:
    """What must hold for a change to a file to happen; checked atomically with the change.

    A locked file is always refused unless `lock_id` equals its lock.
    """

    lock_id: str = ""
    when_unlocked: WhenUnlocked = WhenUnlocked.ALLOW
    if_version: str = ""


NO_PRECONDITIONS = Preconditions()


class CommentAction(enum.IntEnum):
    """What was done to a comment; the values are the proto `CommentAction` numbers."""

    CREATED = 1
    UPDATED = 2
    DELETED = 3


@dataclass(frozen=True)
class ActivityPerson:
    """A person an activity concerns, as the WOPI client names them."""

    name: str = ""
    id: str = ""
    provider: str = ""
    mentioned: bool = False
    in_thread: bool = False
    replied_to: bool = False


@dataclass(frozen=True)
class CommentActivity:
    content_id: str
    action: CommentAction
    navigation_id: str = ""
    text: str = ""
    is_reply: bool = False


@dataclass(frozen=True)
class Activity:
    """Something that happened in a file (proto `Activity`; the rules are `activities.py`). `recorded_at` and
    `actor` are storage's: None and ANONYMOUS in what a caller asks to add, set once recorded."""

    activity_id: str
    comment: CommentActivity
    occurred_at: datetime | None = None
    people: tuple[ActivityPerson, ...] = ()
    recorded_at: datetime | None = None
    actor: Principal = ANONYMOUS


@dataclass(frozen=True)
class Capabilities:
    adapter_name: str
    adapter_version: str
    max_file_size: int = 0  # bytes; 0 = no limit
    max_chunk_size: int = 1024 * 1024
    max_lock_id_length: int = 1024
    max_lock_ttl: timedelta = timedelta(hours=24)
    max_name_length: int = 255  # UTF-8 bytes
    containers: bool = True
    version_history: bool = False
    max_versions_kept: int = 0
    sha256: bool = False
    case_insensitive_names: bool = False
    max_user_info_length: int = 1024
    free_name_variants: bool = False  # use_free_variant and FindFreeName (proto: "Name variants")
    max_container_depth: int = 0  # the root is at depth 0; 0 = no limit (the servicer enforces it)
    access_control: bool = False  # the backend enforces `access.py`'s model and implements the sharing methods
    activities: bool = False  # the backend implements add_activities and list_activities (`activities.py`)
    max_activities_per_file: int = 0  # the most recent kept per file; 0 without activities
    audit_trail: bool = False  # the backend records `audit.py`'s events and implements list_audit_events
    max_audit_events_per_item: int = 0  # the most recent kept per item's trail; 0 without an audit trail
    lock_administration: bool = False  # the backend implements list_locked_files and breaks locks (`breaking`)
