"""Conversions between domain types (`types.py`) and `wopi_proto` messages, both directions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from storage_adapter import principal as principal_metadata
from storage_adapter import validation
from storage_adapter.access import Grant, Grantee, GranteeKind, Role
from storage_adapter.audit import AuditEvent
from storage_adapter.errors import InvalidArgument
from storage_adapter.types import (
    Activity,
    Capabilities,
    ContainerMeta,
    FileMeta,
    Item,
    LockState,
    Permissions,
    Preconditions,
    Principal,
    VersionMeta,
    WhenUnlocked,
)
from wopi_proto.storage_v1 import storage_pb2 as pb

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)

_WHEN_UNLOCKED = {
    pb.WHEN_UNLOCKED_UNSPECIFIED: WhenUnlocked.ALLOW,
    pb.WHEN_UNLOCKED_ALLOW: WhenUnlocked.ALLOW,
    pb.WHEN_UNLOCKED_REQUIRE_EMPTY: WhenUnlocked.REQUIRE_EMPTY,
    pb.WHEN_UNLOCKED_REJECT: WhenUnlocked.REJECT,
}


def timestamp(value: datetime) -> Timestamp:
    """What `Timestamp.FromDatetime` gives (a naive time taken as UTC), in a few integer operations: its pure-Python
    version was a good part of every FileInfo's cost."""
    since_epoch = value - (_EPOCH if value.tzinfo is not None else _NAIVE_EPOCH)
    return Timestamp(seconds=since_epoch.days * 86400 + since_epoch.seconds, nanos=since_epoch.microseconds * 1000)


def duration(value: timedelta) -> Duration:
    message = Duration()
    message.FromTimedelta(value)
    return message


def principal(value: Principal) -> pb.Principal:
    return pb.Principal(user_id=value.user_id, display_name=value.display_name)


def lock_info(value: LockState | None) -> pb.LockInfo:
    if value is None:
        return pb.LockInfo()
    message = pb.LockInfo(
        lock_id=value.lock_id, expires_time=timestamp(value.expires_at), locked_by=principal(value.locked_by)
    )
    if value.locked_at is not None:
        message.locked_time.CopyFrom(timestamp(value.locked_at))
    return message


def file_info(meta: FileMeta) -> pb.FileInfo:
    return pb.FileInfo(
        file_id=meta.file_id,
        name=meta.name,
        size=meta.size,
        version=meta.version,
        owner=principal(meta.owner),
        created_time=timestamp(meta.created_at),
        modified_time=timestamp(meta.modified_at),
        modified_by=principal(meta.modified_by),
        parent_container_id=meta.parent_id,
        lock=lock_info(meta.lock),
        sha256=meta.sha256,
        permissions=permissions(meta.permissions),
    )


def permissions(value: Permissions) -> pb.Permissions:
    return pb.Permissions(
        read=value.read,
        write=value.write,
        lock=value.lock,
        rename=value.rename,
        delete=value.delete,
        create_children=value.create_children,
        manage_sharing=value.manage_sharing,
    )


def container_info(meta: ContainerMeta) -> pb.ContainerInfo:
    return pb.ContainerInfo(
        container_id=meta.container_id,
        name=meta.name,
        parent_container_id=meta.parent_id or "",
        owner=principal(meta.owner),
        created_time=timestamp(meta.created_at),
        permissions=permissions(meta.permissions),
    )


def item(value: Item) -> pb.Item:
    if isinstance(value, FileMeta):
        return pb.Item(file=file_info(value))
    return pb.Item(container=container_info(value))


def hidden_item(value: Item) -> pb.Item:
    """An item the principal may not read, as an answer may name it: its kind and nothing else."""
    if isinstance(value, FileMeta):
        return pb.Item(file=pb.FileInfo())
    return pb.Item(container=pb.ContainerInfo())


def file_version(value: VersionMeta) -> pb.FileVersion:
    return pb.FileVersion(
        version=value.version,
        size=value.size,
        modified_time=timestamp(value.modified_at),
        modified_by=principal(value.modified_by),
        sha256=value.sha256,
    )


def capabilities(value: Capabilities) -> pb.Capabilities:
    return pb.Capabilities(
        adapter_name=value.adapter_name,
        adapter_version=value.adapter_version,
        max_file_size=value.max_file_size,
        max_chunk_size=value.max_chunk_size,
        max_lock_id_length=value.max_lock_id_length,
        max_lock_ttl=duration(value.max_lock_ttl),
        max_name_length=value.max_name_length,
        containers=value.containers,
        version_history=value.version_history,
        max_versions_kept=value.max_versions_kept,
        sha256=value.sha256,
        case_insensitive_names=value.case_insensitive_names,
        max_user_info_length=value.max_user_info_length,
        free_name_variants=value.free_name_variants,
        max_container_depth=value.max_container_depth,
        access_control=value.access_control,
        activities=value.activities,
        max_activities_per_file=value.max_activities_per_file,
        audit_trail=value.audit_trail,
        max_audit_events_per_item=value.max_audit_events_per_item,
        lock_administration=value.lock_administration,
    )


def activity(value: Activity) -> pb.Activity:
    """A recorded activity (`recorded_at` set) as AddActivities and ListActivities answer it."""
    comment = value.comment
    message = pb.Activity(
        activity_id=value.activity_id,
        comment=pb.CommentActivity(
            content_id=comment.content_id,
            navigation_id=comment.navigation_id,
            action=int(comment.action),  # type: ignore[arg-type]
            text=comment.text,
            is_reply=comment.is_reply,
        ),
        actor=principal(value.actor),
        people=[
            pb.ActivityPerson(
                name=person.name,
                id=person.id,
                provider=person.provider,
                mentioned=person.mentioned,
                in_thread=person.in_thread,
                replied_to=person.replied_to,
            )
            for person in value.people
        ],
    )
    if value.occurred_at is not None:
        message.occurred_time.CopyFrom(timestamp(value.occurred_at))
    if value.recorded_at is not None:
        message.recorded_time.CopyFrom(timestamp(value.recorded_at))
    return message


def preconditions(message: pb.Preconditions, caps: Capabilities, field: str) -> Preconditions:
    """Validated preconditions from a request; `field` is the request field's path, for error details."""
    when_unlocked = _WHEN_UNLOCKED.get(message.lock.when_unlocked)
    if when_unlocked is None:
        raise InvalidArgument(f"{field}.lock.when_unlocked", "unknown WhenUnlocked value")
    if len(message.if_version) > 256:
        raise InvalidArgument(f"{field}.if_version", "a version is at most 256 characters")
    return Preconditions(
        lock_id=validation.optional_lock_id(message.lock.lock_id, caps, f"{field}.lock.lock_id"),
        when_unlocked=when_unlocked,
        if_version=message.if_version,
    )


def grantee(message: pb.Grantee, field: str = "grantee") -> Grantee:
    """A validated grantee: a user id as `x-wopi-principal-id`, a group id as in `x-wopi-principal-groups`."""
    match message.WhichOneof("grantee"):
        case "user_id" if principal_metadata.is_user_id(message.user_id):
            return Grantee(GranteeKind.USER, message.user_id)
        case "group_id" if principal_metadata.is_group_id(message.group_id):
            return Grantee(GranteeKind.GROUP, message.group_id)
    raise InvalidArgument(field, "a grantee is a user id or a group id of 1-256 printable ASCII characters")


def role(value: int) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidArgument("role", "the role is ROLE_VIEWER, ROLE_EDITOR or ROLE_MANAGER") from None


def grant(value: Grant) -> pb.Grant:
    message = pb.Grant(
        role=int(value.role),  # type: ignore[arg-type]
        granted_by=principal(value.granted_by),
        granted_time=timestamp(value.granted_at),
    )
    if value.grantee.kind is GranteeKind.USER:
        message.grantee.user_id = value.grantee.id
    else:
        message.grantee.group_id = value.grantee.id
    if value.on_file:
        message.file_id = value.item_id
    else:
        message.container_id = value.item_id
    return message


def audit_event(value: AuditEvent) -> pb.AuditEvent:
    """An event as ListAuditEvents answers it: the details its action does not use stay unset."""
    message = pb.AuditEvent(
        action=int(value.action),  # type: ignore[arg-type]
        actor=principal(value.actor),
        time=timestamp(value.at),
        name=value.name,
        old_name=value.old_name,
        version=value.version,
        restored_version=value.restored_version,
        reason=value.reason,
    )
    if value.on_file:
        message.file_id = value.item_id
    else:
        message.container_id = value.item_id
    if value.lock_expires_at is not None:
        message.lock_expires_time.CopyFrom(timestamp(value.lock_expires_at))
    if value.lock_holder.user_id or value.lock_holder.display_name:
        message.lock_holder.CopyFrom(principal(value.lock_holder))
    if value.grantee is not None:
        if value.grantee.kind is GranteeKind.USER:
            message.grantee.user_id = value.grantee.id
        else:
            message.grantee.group_id = value.grantee.id
    if value.role is not None:
        message.role = int(value.role)  # type: ignore[assignment]
    return message
