"""The CheckFileInfo document: a pure function of the file, the token, and what storage can do.

It must validate against the validator's CsppCheckFileInfoSchema: no `null` anywhere, booleans as booleans,
every URL absolute, and none of the WOPI+ co-authoring properties (SharingStatus, SupportsCoauth, ...).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from wopi_frontend.blank_documents import BLANK_EXTENSIONS
from wopi_frontend.client_profiles import extra_check_file_info
from wopi_frontend.context import WopiContext
from wopi_frontend.names import split_extension
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import Permission
from wopi_proto.storage_v1 import storage_pb2 as pb

MAX_FILE_NAME_LENGTH = 250  # WOPI's default FileNameMaxLength; excludes the extension
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def last_modified(info: pb.FileInfo) -> str:
    """UTC, ISO 8601 round-trip form with 7 fractional digits, as .NET writes it (2009-06-15T13:45:30.0000000Z)."""
    moment = modified_at(info) or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def modified_at(info: pb.FileInfo) -> datetime | None:
    """The file's modification time at the precision `last_modified` writes (microseconds); None if unknown.
    What `Timestamp.ToDatetime(tzinfo=UTC)` gives (nanos are never negative), without its pure-Python detour."""
    if not info.HasField("modified_time"):
        return None
    return _EPOCH + timedelta(seconds=info.modified_time.seconds, microseconds=info.modified_time.nanos // 1000)


def parse_last_modified(text: str) -> datetime | None:
    """A LastModifiedTime as a client echoes it (X-COOL-WOPI-Timestamp): ISO 8601 in UTC, up to 7 fractional
    digits (more precision than Python keeps: the 7th is always 0 in what `last_modified` writes). None if it
    is not one."""
    value = text.strip()
    if not value.endswith("Z") or not value.isascii():
        return None
    main, _, fraction = value[:-1].partition(".")
    if len(fraction) > 7 or (fraction and not fraction.isdigit()):
        return None
    try:
        moment = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.replace(microsecond=int((fraction + "000000")[:6]) if fraction else 0)


def check_file_info(
    context: WopiContext,
    info: pb.FileInfo,
    token: AccessToken,
    user_info: str,
    caps: pb.Capabilities,
    allowed: frozenset[Permission] | None = None,
) -> dict[str, Any]:
    """`allowed`: what the user may do, the token's permissions limited by storage's (storage_permissions.py);
    None: the token's own."""
    allowed = token.permissions if allowed is None else allowed
    stem, extension = split_extension(info.name)
    can_write = Permission.EDIT in allowed
    can_rename = Permission.RENAME in allowed
    name_room = caps.max_name_length - len(extension.encode()) if caps.max_name_length else MAX_FILE_NAME_LENGTH
    ancestors_url = context.browser_url(info.parent_container_id)
    edit_url = context.host_page_url(info.file_id, "edit")
    owner_id = info.owner.user_id or "storage"
    document: dict[str, Any] = {
        # required
        "BaseFileName": info.name,
        "OwnerId": owner_id,
        "Size": info.size,
        "UserId": token.user.user_id,
        "Version": info.version,
        # user
        "UserFriendlyName": token.user.display_name or token.user.user_id,
        "UserInfo": user_info,
        "IsAnonymousUser": False,
        "IsEduUser": False,
        "LicenseCheckForEditIsEnabled": False,
        # permissions: the token's, limited by storage's when it enforces access control
        "ReadOnly": not can_write,
        "UserCanWrite": can_write,
        "UserCanRename": can_rename,
        "UserCanNotWriteRelative": Permission.CREATE not in allowed,
        # what this host implements
        "SupportsLocks": True,
        "SupportsGetLock": True,
        "SupportsExtendedLockLength": caps.max_lock_id_length >= 1024,
        "SupportsUpdate": True,
        "SupportsRename": True,
        "SupportsDeleteFile": True,
        "SupportsUserInfo": True,
        "SupportsAddActivities": caps.activities,
        "SupportsContainers": context.settings.containers,
        "SupportsEcosystem": context.settings.containers,
        "SupportsFolders": False,
        "SupportedShareUrlTypes": ["ReadOnly", "ReadWrite"],
        # file
        "FileExtension": extension,
        "FileNameMaxLength": max(1, min(MAX_FILE_NAME_LENGTH, name_room)),
        "LastModifiedTime": last_modified(info),
        # where the person goes
        "HostViewUrl": context.host_page_url(info.file_id, "view"),
        "HostEditUrl": edit_url,
        "BreadcrumbBrandName": context.settings.brand_name,
        "BreadcrumbBrandUrl": context.browser_url(),
        "BreadcrumbDocName": stem,
        "BreadcrumbFolderUrl": ancestors_url,
        "CloseUrl": ancestors_url,  # back to the folder the file is in
        "DownloadUrl": context.download_url(info.file_id),
        "FileUrl": context.file_url(token),  # GetFile without the access token, for a few minutes
        "FileSharingUrl": edit_url,  # what GetShareUrl(ReadWrite) gives
        # The host page (same origin as this host's public URL) handles these messages itself; without
        # PostMessageOrigin the client sends none and ignores the page's.
        "PostMessageOrigin": context.origin,
        "ClosePostMessage": True,
        "EditModePostMessage": True,
        "EditNotificationPostMessage": True,
        "FileSharingPostMessage": True,
        "FileVersionPostMessage": True,
    }
    profile = context.client_profile
    document.update(extra_check_file_info(profile, is_owner=owner_id == token.user.user_id, can_write=can_write))
    if info.size == 0 and profile.template_source and can_write and extension.lower() in BLANK_EXTENSIONS:
        document["TemplateSource"] = context.blank_document_url(extension.lower())
    if info.sha256:
        document["SHA256"] = base64.b64encode(info.sha256).decode("ascii")
    if not extension:
        del document["FileExtension"]
    return document
