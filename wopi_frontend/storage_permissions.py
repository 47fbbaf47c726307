"""What storage lets a user do with a file, in the token's terms: the one place storage's `Permissions` become
the front-end's `Permission`s.

A token is an upper bound: what a user may do is what the token grants AND what storage allows. Storage's answer
counts only when it enforces access control (`Capabilities.access_control`); without it, storage allows
everything and the token alone decides (as before access control existed).
"""

from __future__ import annotations

from collections.abc import Iterable

from wopi_frontend.types import Permission
from wopi_proto.storage_v1 import storage_pb2 as pb


def from_storage(file_permissions: pb.Permissions, parent_permissions: pb.Permissions | None) -> frozenset[Permission]:
    """The token permissions that storage's permissions on a file (and on its folder, for CREATE) back.
    EDIT needs both write and lock: editing in WOPI is saving under a lock."""
    allowed = set()
    if file_permissions.read:
        allowed.add(Permission.VIEW)
    if file_permissions.write and file_permissions.lock:
        allowed.add(Permission.EDIT)
    if file_permissions.rename:
        allowed.add(Permission.RENAME)
    if file_permissions.delete:
        allowed.add(Permission.DELETE)
    if parent_permissions is not None and parent_permissions.create_children:
        allowed.add(Permission.CREATE)
    return frozenset(allowed)


def effective(
    granted: Iterable[Permission],
    caps: pb.Capabilities,
    info: pb.FileInfo,
    parent: pb.ContainerInfo | None = None,
) -> frozenset[Permission]:
    """`granted` (a token's permissions) limited to what storage allows on `info` (and `parent`, for CREATE;
    None: CREATE is not backed). Without access control: `granted` as it is."""
    granted = frozenset(granted)
    if not caps.access_control:
        return granted
    return granted & from_storage(info.permissions, parent.permissions if parent is not None else None)
