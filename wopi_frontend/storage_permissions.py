"""What storage lets a user do with a file, in the token's terms: the one place storage's `Permissions` become
the front-end's `Permission`s.

A token is an upper bound: what a user may do is what the token grants AND what storage allows. Storage's answer
counts only when it enforces access control (`Capabilities.access_control`); without it, storage allows
everything and the token alone decides (as before access control existed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import grpc

from wopi_frontend.storage_client import StorageCallError, StorageClient
from wopi_frontend.types import Permission, Principal
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


def of_container(granted: Iterable[Permission], caps: pb.Capabilities, info: pb.ContainerInfo) -> frozenset[Permission]:
    """A container token's permissions (`granted`) limited to what storage allows on the container: VIEW reads it
    (its info, children, ancestors), CREATE makes files and containers in it, RENAME and DELETE the container
    itself, EDIT writes into it (a read-write share). Without access control: `granted` as it is."""
    granted = frozenset(granted)
    if not caps.access_control:
        return granted
    backed = {
        Permission.VIEW: info.permissions.read,
        Permission.CREATE: info.permissions.create_children,
        Permission.RENAME: info.permissions.rename,
        Permission.DELETE: info.permissions.delete,
        Permission.EDIT: info.permissions.write,
    }
    return frozenset(permission for permission in granted if backed.get(permission, False))


def needs_folder(granted: Iterable[Permission], caps: pb.Capabilities) -> bool:
    """Whether what storage allows of `granted` depends on the file's folder as well as on the file: only CREATE
    is about the folder (a new file goes next to this one), and only storage with access control decides it."""
    return caps.access_control and Permission.CREATE in granted


def _limited(
    granted: Iterable[Permission],
    caps: pb.Capabilities,
    file_permissions: pb.Permissions,
    folder_permissions: pb.Permissions | None,
) -> frozenset[Permission]:
    granted = frozenset(granted)
    if not caps.access_control:
        return granted
    return granted & from_storage(file_permissions, folder_permissions)


def effective(
    granted: Iterable[Permission],
    caps: pb.Capabilities,
    info: pb.FileInfo,
    parent: pb.ContainerInfo | None = None,
) -> frozenset[Permission]:
    """`granted` (a token's permissions) limited to what storage allows on `info` (and `parent`, for CREATE;
    None: CREATE is not backed). Without access control: `granted` as it is."""
    return _limited(granted, caps, info.permissions, parent.permissions if parent is not None else None)


def effective_in(
    granted: Iterable[Permission], caps: pb.Capabilities, context: pb.FileContext
) -> frozenset[Permission]:
    """`effective`, from a GetFileContext answer: its file, and for CREATE the folder permissions it carries
    (unset: not asked for, or a folder the user may not read, and then CREATE is not backed)."""
    folder = context.container_permissions if context.HasField("container_permissions") else None
    return _limited(granted, caps, context.file.permissions, folder)


async def allowed(
    storage: StorageClient, granted: Iterable[Permission], user: Principal, info: pb.FileInfo
) -> frozenset[Permission]:
    """`granted` limited to what storage lets `user` do with the file `info` (read as that user). CREATE is about
    the file's folder, so it costs one more call, made only when `needs_folder`; a folder the user may not read
    (a file shared on its own) backs no CREATE."""
    granted = frozenset(granted)
    caps = await storage.capabilities()
    parent = await readable_folder(storage, user, info) if needs_folder(granted, caps) else None
    return effective(granted, caps, info, parent)


async def readable_folder(storage: StorageClient, user: Principal, info: pb.FileInfo) -> pb.ContainerInfo | None:
    """The file's folder as `user` sees it (with their permissions there); None where they may not read it."""
    try:
        return await storage.get_container(info.parent_container_id, user)
    except StorageCallError as error:
        if error.code != grpc.StatusCode.NOT_FOUND:  # a file shared on its own: its folder stays unseen
            raise
        return None


@dataclass(frozen=True)
class BrowserActions:
    """What the file browser offers a user for one file or folder: the one place its pages decide which links,
    menus and forms to show. Storage still checks every action; this only keeps refused ones out of sight."""

    edit: bool  # a file: open it for editing (a save needs write and lock)
    rename: bool
    delete: bool
    create: bool  # a folder: upload and new documents
    new_folder: bool  # a folder: new folders (create and the adapter's containers)
    see_sharing: bool  # the Share dialog: who has access (read-only without manage_sharing)
    manage_sharing: bool  # add, change and remove grants


def actions_for(caps: pb.Capabilities, permissions: pb.Permissions, *, is_container: bool) -> BrowserActions:
    """The actions on an item with storage's `permissions` for the user. Without access control storage allows
    everything but sharing, whatever `permissions` says (an older adapter leaves it unset), and its sharing RPCs
    are UNIMPLEMENTED, so there is no Share dialog. Folders are renamed, deleted and made only where the adapter
    has containers."""
    if not caps.access_control:
        permissions = pb.Permissions(
            read=True, write=True, lock=True, rename=True, delete=True, create_children=is_container
        )
    folders = caps.containers or not is_container
    return BrowserActions(
        edit=not is_container and permissions.write and permissions.lock,
        rename=folders and permissions.rename,
        delete=folders and permissions.delete,
        create=is_container and permissions.create_children,
        new_folder=is_container and caps.containers and permissions.create_children,
        see_sharing=caps.access_control and permissions.read,
        manage_sharing=caps.access_control and permissions.manage_sharing,
    )
