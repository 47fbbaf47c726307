import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_VIEWER: _ClassVar[Role]
    ROLE_EDITOR: _ClassVar[Role]
    ROLE_MANAGER: _ClassVar[Role]

class WhenUnlocked(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WHEN_UNLOCKED_UNSPECIFIED: _ClassVar[WhenUnlocked]
    WHEN_UNLOCKED_ALLOW: _ClassVar[WhenUnlocked]
    WHEN_UNLOCKED_REQUIRE_EMPTY: _ClassVar[WhenUnlocked]
    WHEN_UNLOCKED_REJECT: _ClassVar[WhenUnlocked]

class CommentAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMENT_ACTION_UNSPECIFIED: _ClassVar[CommentAction]
    COMMENT_ACTION_CREATED: _ClassVar[CommentAction]
    COMMENT_ACTION_UPDATED: _ClassVar[CommentAction]
    COMMENT_ACTION_DELETED: _ClassVar[CommentAction]

class AuditAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_ACTION_UNSPECIFIED: _ClassVar[AuditAction]
    AUDIT_ACTION_CREATED: _ClassVar[AuditAction]
    AUDIT_ACTION_WRITTEN: _ClassVar[AuditAction]
    AUDIT_ACTION_RENAMED: _ClassVar[AuditAction]
    AUDIT_ACTION_DELETED: _ClassVar[AuditAction]
    AUDIT_ACTION_VERSION_RESTORED: _ClassVar[AuditAction]
    AUDIT_ACTION_LOCKED: _ClassVar[AuditAction]
    AUDIT_ACTION_RELOCKED: _ClassVar[AuditAction]
    AUDIT_ACTION_UNLOCKED: _ClassVar[AuditAction]
    AUDIT_ACTION_LOCK_BROKEN: _ClassVar[AuditAction]
    AUDIT_ACTION_GRANTED: _ClassVar[AuditAction]
    AUDIT_ACTION_REVOKED: _ClassVar[AuditAction]
ROLE_UNSPECIFIED: Role
ROLE_VIEWER: Role
ROLE_EDITOR: Role
ROLE_MANAGER: Role
WHEN_UNLOCKED_UNSPECIFIED: WhenUnlocked
WHEN_UNLOCKED_ALLOW: WhenUnlocked
WHEN_UNLOCKED_REQUIRE_EMPTY: WhenUnlocked
WHEN_UNLOCKED_REJECT: WhenUnlocked
COMMENT_ACTION_UNSPECIFIED: CommentAction
COMMENT_ACTION_CREATED: CommentAction
COMMENT_ACTION_UPDATED: CommentAction
COMMENT_ACTION_DELETED: CommentAction
AUDIT_ACTION_UNSPECIFIED: AuditAction
AUDIT_ACTION_CREATED: AuditAction
AUDIT_ACTION_WRITTEN: AuditAction
AUDIT_ACTION_RENAMED: AuditAction
AUDIT_ACTION_DELETED: AuditAction
AUDIT_ACTION_VERSION_RESTORED: AuditAction
AUDIT_ACTION_LOCKED: AuditAction
AUDIT_ACTION_RELOCKED: AuditAction
AUDIT_ACTION_UNLOCKED: AuditAction
AUDIT_ACTION_LOCK_BROKEN: AuditAction
AUDIT_ACTION_GRANTED: AuditAction
AUDIT_ACTION_REVOKED: AuditAction

class Principal(_message.Message):
    __slots__ = ("user_id", "display_name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    display_name: str
    def __init__(self, user_id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class LockInfo(_message.Message):
    __slots__ = ("lock_id", "expires_time", "locked_by", "locked_time")
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCKED_BY_FIELD_NUMBER: _ClassVar[int]
    LOCKED_TIME_FIELD_NUMBER: _ClassVar[int]
    lock_id: str
    expires_time: _timestamp_pb2.Timestamp
    locked_by: Principal
    locked_time: _timestamp_pb2.Timestamp
    def __init__(self, lock_id: _Optional[str] = ..., expires_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., locked_by: _Optional[_Union[Principal, _Mapping]] = ..., locked_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FileInfo(_message.Message):
    __slots__ = ("file_id", "name", "size", "version", "owner", "created_time", "modified_time", "modified_by", "parent_container_id", "lock", "sha256", "permissions")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_TIME_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_BY_FIELD_NUMBER: _ClassVar[int]
    PARENT_CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    LOCK_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    name: str
    size: int
    version: str
    owner: Principal
    created_time: _timestamp_pb2.Timestamp
    modified_time: _timestamp_pb2.Timestamp
    modified_by: Principal
    parent_container_id: str
    lock: LockInfo
    sha256: bytes
    permissions: Permissions
    def __init__(self, file_id: _Optional[str] = ..., name: _Optional[str] = ..., size: _Optional[int] = ..., version: _Optional[str] = ..., owner: _Optional[_Union[Principal, _Mapping]] = ..., created_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_by: _Optional[_Union[Principal, _Mapping]] = ..., parent_container_id: _Optional[str] = ..., lock: _Optional[_Union[LockInfo, _Mapping]] = ..., sha256: _Optional[bytes] = ..., permissions: _Optional[_Union[Permissions, _Mapping]] = ...) -> None: ...

class ContainerInfo(_message.Message):
    __slots__ = ("container_id", "name", "parent_container_id", "owner", "created_time", "permissions")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    name: str
    parent_container_id: str
    owner: Principal
    created_time: _timestamp_pb2.Timestamp
    permissions: Permissions
    def __init__(self, container_id: _Optional[str] = ..., name: _Optional[str] = ..., parent_container_id: _Optional[str] = ..., owner: _Optional[_Union[Principal, _Mapping]] = ..., created_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., permissions: _Optional[_Union[Permissions, _Mapping]] = ...) -> None: ...

class Permissions(_message.Message):
    __slots__ = ("read", "write", "lock", "rename", "delete", "create_children", "manage_sharing")
    READ_FIELD_NUMBER: _ClassVar[int]
    WRITE_FIELD_NUMBER: _ClassVar[int]
    LOCK_FIELD_NUMBER: _ClassVar[int]
    RENAME_FIELD_NUMBER: _ClassVar[int]
    DELETE_FIELD_NUMBER: _ClassVar[int]
    CREATE_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    MANAGE_SHARING_FIELD_NUMBER: _ClassVar[int]
    read: bool
    write: bool
    lock: bool
    rename: bool
    delete: bool
    create_children: bool
    manage_sharing: bool
    def __init__(self, read: _Optional[bool] = ..., write: _Optional[bool] = ..., lock: _Optional[bool] = ..., rename: _Optional[bool] = ..., delete: _Optional[bool] = ..., create_children: _Optional[bool] = ..., manage_sharing: _Optional[bool] = ...) -> None: ...

class Grantee(_message.Message):
    __slots__ = ("user_id", "group_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    group_id: str
    def __init__(self, user_id: _Optional[str] = ..., group_id: _Optional[str] = ...) -> None: ...

class Grant(_message.Message):
    __slots__ = ("file_id", "container_id", "grantee", "role", "granted_by", "granted_time")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    GRANTEE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    GRANTED_BY_FIELD_NUMBER: _ClassVar[int]
    GRANTED_TIME_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    container_id: str
    grantee: Grantee
    role: Role
    granted_by: Principal
    granted_time: _timestamp_pb2.Timestamp
    def __init__(self, file_id: _Optional[str] = ..., container_id: _Optional[str] = ..., grantee: _Optional[_Union[Grantee, _Mapping]] = ..., role: _Optional[_Union[Role, str]] = ..., granted_by: _Optional[_Union[Principal, _Mapping]] = ..., granted_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Item(_message.Message):
    __slots__ = ("file", "container")
    FILE_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    file: FileInfo
    container: ContainerInfo
    def __init__(self, file: _Optional[_Union[FileInfo, _Mapping]] = ..., container: _Optional[_Union[ContainerInfo, _Mapping]] = ...) -> None: ...

class LockPrecondition(_message.Message):
    __slots__ = ("lock_id", "when_unlocked")
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    WHEN_UNLOCKED_FIELD_NUMBER: _ClassVar[int]
    lock_id: str
    when_unlocked: WhenUnlocked
    def __init__(self, lock_id: _Optional[str] = ..., when_unlocked: _Optional[_Union[WhenUnlocked, str]] = ...) -> None: ...

class Preconditions(_message.Message):
    __slots__ = ("lock", "if_version")
    LOCK_FIELD_NUMBER: _ClassVar[int]
    IF_VERSION_FIELD_NUMBER: _ClassVar[int]
    lock: LockPrecondition
    if_version: str
    def __init__(self, lock: _Optional[_Union[LockPrecondition, _Mapping]] = ..., if_version: _Optional[str] = ...) -> None: ...

class LockConflict(_message.Message):
    __slots__ = ("current_lock", "reason")
    CURRENT_LOCK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    current_lock: LockInfo
    reason: str
    def __init__(self, current_lock: _Optional[_Union[LockInfo, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ContainerNotEmpty(_message.Message):
    __slots__ = ("container_id",)
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    def __init__(self, container_id: _Optional[str] = ...) -> None: ...

class VersionConflict(_message.Message):
    __slots__ = ("current_version",)
    CURRENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    current_version: str
    def __init__(self, current_version: _Optional[str] = ...) -> None: ...

class NameConflict(_message.Message):
    __slots__ = ("container_id", "name", "existing")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    name: str
    existing: Item
    def __init__(self, container_id: _Optional[str] = ..., name: _Optional[str] = ..., existing: _Optional[_Union[Item, _Mapping]] = ...) -> None: ...

class PermissionDenied(_message.Message):
    __slots__ = ("permission",)
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    permission: str
    def __init__(self, permission: _Optional[str] = ...) -> None: ...

class GetCapabilitiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Capabilities(_message.Message):
    __slots__ = ("adapter_name", "adapter_version", "max_file_size", "max_chunk_size", "max_lock_id_length", "max_lock_ttl", "max_name_length", "containers", "version_history", "max_versions_kept", "sha256", "case_insensitive_names", "max_user_info_length", "free_name_variants", "max_container_depth", "access_control", "file_context", "paged_listing", "activities", "max_activities_per_file", "audit_trail", "max_audit_events_per_item", "lock_administration")
    ADAPTER_NAME_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_FILE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_LOCK_ID_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_LOCK_TTL_FIELD_NUMBER: _ClassVar[int]
    MAX_NAME_LENGTH_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    VERSION_HISTORY_FIELD_NUMBER: _ClassVar[int]
    MAX_VERSIONS_KEPT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CASE_INSENSITIVE_NAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_USER_INFO_LENGTH_FIELD_NUMBER: _ClassVar[int]
    FREE_NAME_VARIANTS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONTAINER_DEPTH_FIELD_NUMBER: _ClassVar[int]
    ACCESS_CONTROL_FIELD_NUMBER: _ClassVar[int]
    FILE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    PAGED_LISTING_FIELD_NUMBER: _ClassVar[int]
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVITIES_PER_FILE_FIELD_NUMBER: _ClassVar[int]
    AUDIT_TRAIL_FIELD_NUMBER: _ClassVar[int]
    MAX_AUDIT_EVENTS_PER_ITEM_FIELD_NUMBER: _ClassVar[int]
    LOCK_ADMINISTRATION_FIELD_NUMBER: _ClassVar[int]
    adapter_name: str
    adapter_version: str
    max_file_size: int
    max_chunk_size: int
    max_lock_id_length: int
    max_lock_ttl: _duration_pb2.Duration
    max_name_length: int
    containers: bool
    version_history: bool
    max_versions_kept: int
    sha256: bool
    case_insensitive_names: bool
    max_user_info_length: int
    free_name_variants: bool
    max_container_depth: int
    access_control: bool
    file_context: bool
    paged_listing: bool
    activities: bool
    max_activities_per_file: int
    audit_trail: bool
    max_audit_events_per_item: int
    lock_administration: bool
    def __init__(self, adapter_name: _Optional[str] = ..., adapter_version: _Optional[str] = ..., max_file_size: _Optional[int] = ..., max_chunk_size: _Optional[int] = ..., max_lock_id_length: _Optional[int] = ..., max_lock_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_name_length: _Optional[int] = ..., containers: _Optional[bool] = ..., version_history: _Optional[bool] = ..., max_versions_kept: _Optional[int] = ..., sha256: _Optional[bool] = ..., case_insensitive_names: _Optional[bool] = ..., max_user_info_length: _Optional[int] = ..., free_name_variants: _Optional[bool] = ..., max_container_depth: _Optional[int] = ..., access_control: _Optional[bool] = ..., file_context: _Optional[bool] = ..., paged_listing: _Optional[bool] = ..., activities: _Optional[bool] = ..., max_activities_per_file: _Optional[int] = ..., audit_trail: _Optional[bool] = ..., max_audit_events_per_item: _Optional[int] = ..., lock_administration: _Optional[bool] = ...) -> None: ...

class StatFileRequest(_message.Message):
    __slots__ = ("file_id",)
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    def __init__(self, file_id: _Optional[str] = ...) -> None: ...

class GetFileContextRequest(_message.Message):
    __slots__ = ("file_id", "include_container_permissions")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CONTAINER_PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    include_container_permissions: bool
    def __init__(self, file_id: _Optional[str] = ..., include_container_permissions: _Optional[bool] = ...) -> None: ...

class FileContext(_message.Message):
    __slots__ = ("file", "user_info", "container_permissions")
    FILE_FIELD_NUMBER: _ClassVar[int]
    USER_INFO_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    file: FileInfo
    user_info: str
    container_permissions: Permissions
    def __init__(self, file: _Optional[_Union[FileInfo, _Mapping]] = ..., user_info: _Optional[str] = ..., container_permissions: _Optional[_Union[Permissions, _Mapping]] = ...) -> None: ...

class ReadFileRequest(_message.Message):
    __slots__ = ("file_id", "offset", "length", "version")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    offset: int
    length: int
    version: str
    def __init__(self, file_id: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ..., version: _Optional[str] = ...) -> None: ...

class ReadFileResponse(_message.Message):
    __slots__ = ("file", "data")
    FILE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    file: FileInfo
    data: bytes
    def __init__(self, file: _Optional[_Union[FileInfo, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class WriteFileHeader(_message.Message):
    __slots__ = ("file_id", "preconditions")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    PRECONDITIONS_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    preconditions: Preconditions
    def __init__(self, file_id: _Optional[str] = ..., preconditions: _Optional[_Union[Preconditions, _Mapping]] = ...) -> None: ...

class ContentEnd(_message.Message):
    __slots__ = ("size",)
    SIZE_FIELD_NUMBER: _ClassVar[int]
    size: int
    def __init__(self, size: _Optional[int] = ...) -> None: ...

class WriteFileRequest(_message.Message):
    __slots__ = ("header", "data", "end")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    header: WriteFileHeader
    data: bytes
    end: ContentEnd
    def __init__(self, header: _Optional[_Union[WriteFileHeader, _Mapping]] = ..., data: _Optional[bytes] = ..., end: _Optional[_Union[ContentEnd, _Mapping]] = ...) -> None: ...

class CreateFileHeader(_message.Message):
    __slots__ = ("container_id", "name", "use_free_variant")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    USE_FREE_VARIANT_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    name: str
    use_free_variant: bool
    def __init__(self, container_id: _Optional[str] = ..., name: _Optional[str] = ..., use_free_variant: _Optional[bool] = ...) -> None: ...

class CreateFileRequest(_message.Message):
    __slots__ = ("header", "data", "end")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    header: CreateFileHeader
    data: bytes
    end: ContentEnd
    def __init__(self, header: _Optional[_Union[CreateFileHeader, _Mapping]] = ..., data: _Optional[bytes] = ..., end: _Optional[_Union[ContentEnd, _Mapping]] = ...) -> None: ...

class RenameFileRequest(_message.Message):
    __slots__ = ("file_id", "new_name", "preconditions", "use_free_variant")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_NAME_FIELD_NUMBER: _ClassVar[int]
    PRECONDITIONS_FIELD_NUMBER: _ClassVar[int]
    USE_FREE_VARIANT_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    new_name: str
    preconditions: Preconditions
    use_free_variant: bool
    def __init__(self, file_id: _Optional[str] = ..., new_name: _Optional[str] = ..., preconditions: _Optional[_Union[Preconditions, _Mapping]] = ..., use_free_variant: _Optional[bool] = ...) -> None: ...

class DeleteFileRequest(_message.Message):
    __slots__ = ("file_id", "preconditions")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    PRECONDITIONS_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    preconditions: Preconditions
    def __init__(self, file_id: _Optional[str] = ..., preconditions: _Optional[_Union[Preconditions, _Mapping]] = ...) -> None: ...

class DeleteFileResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LookupChildRequest(_message.Message):
    __slots__ = ("container_id", "name")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    name: str
    def __init__(self, container_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class FindFreeNameRequest(_message.Message):
    __slots__ = ("container_id", "name")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    name: str
    def __init__(self, container_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class FindFreeNameResponse(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class LockRequest(_message.Message):
    __slots__ = ("file_id", "lock_id", "ttl")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    lock_id: str
    ttl: _duration_pb2.Duration
    def __init__(self, file_id: _Optional[str] = ..., lock_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RefreshLockRequest(_message.Message):
    __slots__ = ("file_id", "lock_id", "ttl")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    lock_id: str
    ttl: _duration_pb2.Duration
    def __init__(self, file_id: _Optional[str] = ..., lock_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class UnlockRequest(_message.Message):
    __slots__ = ("file_id", "lock_id")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    lock_id: str
    def __init__(self, file_id: _Optional[str] = ..., lock_id: _Optional[str] = ...) -> None: ...

class UnlockAndRelockRequest(_message.Message):
    __slots__ = ("file_id", "old_lock_id", "lock_id", "ttl")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    old_lock_id: str
    lock_id: str
    ttl: _duration_pb2.Duration
    def __init__(self, file_id: _Optional[str] = ..., old_lock_id: _Optional[str] = ..., lock_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetLockRequest(_message.Message):
    __slots__ = ("file_id",)
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    def __init__(self, file_id: _Optional[str] = ...) -> None: ...

class LockResponse(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: FileInfo
    def __init__(self, file: _Optional[_Union[FileInfo, _Mapping]] = ...) -> None: ...

class GetRootContainerRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetContainerRequest(_message.Message):
    __slots__ = ("container_id",)
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    def __init__(self, container_id: _Optional[str] = ...) -> None: ...

class ListChildrenRequest(_message.Message):
    __slots__ = ("container_id", "file_extensions")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    file_extensions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, container_id: _Optional[str] = ..., file_extensions: _Optional[_Iterable[str]] = ...) -> None: ...

class ListChildrenPageRequest(_message.Message):
    __slots__ = ("container_id", "file_extensions", "page_size", "page_token")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    file_extensions: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    def __init__(self, container_id: _Optional[str] = ..., file_extensions: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChildrenPageResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Item]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateContainerRequest(_message.Message):
    __slots__ = ("parent_container_id", "name")
    PARENT_CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    parent_container_id: str
    name: str
    def __init__(self, parent_container_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RenameContainerRequest(_message.Message):
    __slots__ = ("container_id", "new_name")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_NAME_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    new_name: str
    def __init__(self, container_id: _Optional[str] = ..., new_name: _Optional[str] = ...) -> None: ...

class DeleteContainerRequest(_message.Message):
    __slots__ = ("container_id",)
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    def __init__(self, container_id: _Optional[str] = ...) -> None: ...

class DeleteContainerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAncestorsRequest(_message.Message):
    __slots__ = ("file_id", "container_id")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    container_id: str
    def __init__(self, file_id: _Optional[str] = ..., container_id: _Optional[str] = ...) -> None: ...

class GetAncestorsResponse(_message.Message):
    __slots__ = ("ancestors",)
    ANCESTORS_FIELD_NUMBER: _ClassVar[int]
    ancestors: _containers.RepeatedCompositeFieldContainer[ContainerInfo]
    def __init__(self, ancestors: _Optional[_Iterable[_Union[ContainerInfo, _Mapping]]] = ...) -> None: ...

class GetUserInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetUserInfoRequest(_message.Message):
    __slots__ = ("user_info",)
    USER_INFO_FIELD_NUMBER: _ClassVar[int]
    user_info: str
    def __init__(self, user_info: _Optional[str] = ...) -> None: ...

class UserInfo(_message.Message):
    __slots__ = ("user_info",)
    USER_INFO_FIELD_NUMBER: _ClassVar[int]
    user_info: str
    def __init__(self, user_info: _Optional[str] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("file_id",)
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    def __init__(self, file_id: _Optional[str] = ...) -> None: ...

class FileVersion(_message.Message):
    __slots__ = ("version", "size", "modified_time", "modified_by", "sha256")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_TIME_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_BY_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    version: str
    size: int
    modified_time: _timestamp_pb2.Timestamp
    modified_by: Principal
    sha256: bytes
    def __init__(self, version: _Optional[str] = ..., size: _Optional[int] = ..., modified_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., modified_by: _Optional[_Union[Principal, _Mapping]] = ..., sha256: _Optional[bytes] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[FileVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[FileVersion, _Mapping]]] = ...) -> None: ...

class RestoreVersionRequest(_message.Message):
    __slots__ = ("file_id", "version", "preconditions")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PRECONDITIONS_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    version: str
    preconditions: Preconditions
    def __init__(self, file_id: _Optional[str] = ..., version: _Optional[str] = ..., preconditions: _Optional[_Union[Preconditions, _Mapping]] = ...) -> None: ...

class ListGrantsRequest(_message.Message):
    __slots__ = ("file_id", "container_id")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    container_id: str
    def __init__(self, file_id: _Optional[str] = ..., container_id: _Optional[str] = ...) -> None: ...

class ListGrantsResponse(_message.Message):
    __slots__ = ("grants",)
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[Grant]
    def __init__(self, grants: _Optional[_Iterable[_Union[Grant, _Mapping]]] = ...) -> None: ...

class GrantAccessRequest(_message.Message):
    __slots__ = ("file_id", "container_id", "grantee", "role")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    GRANTEE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    container_id: str
    grantee: Grantee
    role: Role
    def __init__(self, file_id: _Optional[str] = ..., container_id: _Optional[str] = ..., grantee: _Optional[_Union[Grantee, _Mapping]] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class RevokeAccessRequest(_message.Message):
    __slots__ = ("file_id", "container_id", "grantee")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    GRANTEE_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    container_id: str
    grantee: Grantee
    def __init__(self, file_id: _Optional[str] = ..., container_id: _Optional[str] = ..., grantee: _Optional[_Union[Grantee, _Mapping]] = ...) -> None: ...

class RevokeAccessResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSharedWithMeRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SharedItem(_message.Message):
    __slots__ = ("item", "grant")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    item: Item
    grant: Grant
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ..., grant: _Optional[_Union[Grant, _Mapping]] = ...) -> None: ...

class ListSharedWithMeResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[SharedItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[SharedItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AddActivitiesRequest(_message.Message):
    __slots__ = ("file_id", "activities")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    activities: _containers.RepeatedCompositeFieldContainer[Activity]
    def __init__(self, file_id: _Optional[str] = ..., activities: _Optional[_Iterable[_Union[Activity, _Mapping]]] = ...) -> None: ...

class AddActivitiesResponse(_message.Message):
    __slots__ = ("activities",)
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    activities: _containers.RepeatedCompositeFieldContainer[Activity]
    def __init__(self, activities: _Optional[_Iterable[_Union[Activity, _Mapping]]] = ...) -> None: ...

class ListActivitiesRequest(_message.Message):
    __slots__ = ("file_id", "page_size", "page_token")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    page_size: int
    page_token: str
    def __init__(self, file_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListActivitiesResponse(_message.Message):
    __slots__ = ("activities", "next_page_token")
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    activities: _containers.RepeatedCompositeFieldContainer[Activity]
    next_page_token: str
    def __init__(self, activities: _Optional[_Iterable[_Union[Activity, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Activity(_message.Message):
    __slots__ = ("activity_id", "comment", "occurred_time", "recorded_time", "actor", "people")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_TIME_FIELD_NUMBER: _ClassVar[int]
    RECORDED_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    comment: CommentActivity
    occurred_time: _timestamp_pb2.Timestamp
    recorded_time: _timestamp_pb2.Timestamp
    actor: Principal
    people: _containers.RepeatedCompositeFieldContainer[ActivityPerson]
    def __init__(self, activity_id: _Optional[str] = ..., comment: _Optional[_Union[CommentActivity, _Mapping]] = ..., occurred_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[_Union[Principal, _Mapping]] = ..., people: _Optional[_Iterable[_Union[ActivityPerson, _Mapping]]] = ...) -> None: ...

class CommentActivity(_message.Message):
    __slots__ = ("content_id", "navigation_id", "action", "text", "is_reply")
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAVIGATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_REPLY_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    navigation_id: str
    action: CommentAction
    text: str
    is_reply: bool
    def __init__(self, content_id: _Optional[str] = ..., navigation_id: _Optional[str] = ..., action: _Optional[_Union[CommentAction, str]] = ..., text: _Optional[str] = ..., is_reply: _Optional[bool] = ...) -> None: ...

class ActivityPerson(_message.Message):
    __slots__ = ("name", "id", "provider", "mentioned", "in_thread", "replied_to")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MENTIONED_FIELD_NUMBER: _ClassVar[int]
    IN_THREAD_FIELD_NUMBER: _ClassVar[int]
    REPLIED_TO_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    provider: str
    mentioned: bool
    in_thread: bool
    replied_to: bool
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., provider: _Optional[str] = ..., mentioned: _Optional[bool] = ..., in_thread: _Optional[bool] = ..., replied_to: _Optional[bool] = ...) -> None: ...

class ListAuditEventsRequest(_message.Message):
    __slots__ = ("file_id", "container_id", "page_size", "page_token")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    container_id: str
    page_size: int
    page_token: str
    def __init__(self, file_id: _Optional[str] = ..., container_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuditEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AuditEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[AuditEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AuditEvent(_message.Message):
    __slots__ = ("action", "file_id", "container_id", "actor", "time", "name", "old_name", "version", "restored_version", "lock_expires_time", "lock_holder", "reason", "grantee", "role")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OLD_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RESTORED_VERSION_FIELD_NUMBER: _ClassVar[int]
    LOCK_EXPIRES_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCK_HOLDER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    GRANTEE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    action: AuditAction
    file_id: str
    container_id: str
    actor: Principal
    time: _timestamp_pb2.Timestamp
    name: str
    old_name: str
    version: str
    restored_version: str
    lock_expires_time: _timestamp_pb2.Timestamp
    lock_holder: Principal
    reason: str
    grantee: Grantee
    role: Role
    def __init__(self, action: _Optional[_Union[AuditAction, str]] = ..., file_id: _Optional[str] = ..., container_id: _Optional[str] = ..., actor: _Optional[_Union[Principal, _Mapping]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ..., old_name: _Optional[str] = ..., version: _Optional[str] = ..., restored_version: _Optional[str] = ..., lock_expires_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lock_holder: _Optional[_Union[Principal, _Mapping]] = ..., reason: _Optional[str] = ..., grantee: _Optional[_Union[Grantee, _Mapping]] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class ListLockedFilesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLockedFilesResponse(_message.Message):
    __slots__ = ("files", "next_page_token")
    FILES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[FileInfo]
    next_page_token: str
    def __init__(self, files: _Optional[_Iterable[_Union[FileInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BreakLockRequest(_message.Message):
    __slots__ = ("file_id", "reason")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    reason: str
    def __init__(self, file_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
