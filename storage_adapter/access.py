"""The access-control model of the storage contract (proto "Access control"), in one place.

Roles and their permissions, the effective permissions of a principal on an item, which RPC needs which
permission, and the refusal that follows (NOT_FOUND for an item the principal may not read, PERMISSION_DENIED
naming the missing permission otherwise). A backend that enforces access control gathers the facts about an
item (its owner, the grants on it and on every container above it) inside its own atomic step and calls
`check`; no backend holds permission logic of its own.

The principal of the current call reaches backends through `current_principal()`, bound once per RPC by the
interceptor, so that the `StorageBackend` methods keep their signatures for backends that do not enforce.
"""

from __future__ import annotations

import contextvars
import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage_adapter import page_tokens
from storage_adapter.errors import InvalidArgument, NotFound, PermissionDenied
from storage_adapter.principal import PRINCIPAL_ID_KEY
from storage_adapter.types import ANONYMOUS, Permissions, Principal


class Permission(enum.StrEnum):
    """The `Permissions` fields; the value is the field name, as a `PermissionDenied` detail names it."""

    READ = "read"
    WRITE = "write"
    LOCK = "lock"
    RENAME = "rename"
    DELETE = "delete"
    CREATE_CHILDREN = "create_children"
    MANAGE_SHARING = "manage_sharing"


EVERY_PERMISSION = frozenset(Permission)


class Role(enum.IntEnum):
    """The roles a grant gives; the values are the proto `Role` numbers."""

    VIEWER = 1
    EDITOR = 2
    MANAGER = 3


_EDITOR = frozenset(
    {
        Permission.READ,
        Permission.WRITE,
        Permission.LOCK,
        Permission.RENAME,
        Permission.DELETE,
        Permission.CREATE_CHILDREN,
    }
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.EDITOR: _EDITOR,
    Role.MANAGER: _EDITOR | {Permission.MANAGE_SHARING},
}

# What every identified principal may do with the root container (grants on the root may add more).
ROOT_PERMISSIONS = frozenset({Permission.READ, Permission.CREATE_CHILDREN})

# The permission each RPC needs on the item it names (proto "Access control"); None: an identified principal.
REQUIRED: dict[str, Permission | None] = {
    "StatFile": Permission.READ,
    "GetFileContext": Permission.READ,
    "ReadFile": Permission.READ,
    "GetLock": Permission.READ,
    "ListVersions": Permission.READ,
    "LookupChild": Permission.READ,
    "ListChildren": Permission.READ,
    "ListChildrenPage": Permission.READ,  # the backends check it as ListChildren: one listing, read a page at a time
    "GetContainer": Permission.READ,
    "GetAncestors": Permission.READ,
    "ListGrants": Permission.READ,
    "ListActivities": Permission.READ,
    "ListAuditEvents": Permission.READ,
    "WriteFile": Permission.WRITE,
    "RestoreVersion": Permission.WRITE,
    "AddActivities": Permission.WRITE,
    "Lock": Permission.LOCK,
    "RefreshLock": Permission.LOCK,
    "Unlock": Permission.LOCK,
    "UnlockAndRelock": Permission.LOCK,
    "RenameFile": Permission.RENAME,
    "RenameContainer": Permission.RENAME,
    "DeleteFile": Permission.DELETE,
    "DeleteContainer": Permission.DELETE,
    "CreateFile": Permission.CREATE_CHILDREN,
    "CreateContainer": Permission.CREATE_CHILDREN,
    "FindFreeName": Permission.CREATE_CHILDREN,
    "GrantAccess": Permission.MANAGE_SHARING,
    "RevokeAccess": Permission.MANAGE_SHARING,
    # Breaking someone else's lock is a decision about who may work on the document: whoever manages its sharing
    # (its owner, a manager, an administrator), not any editor, who could otherwise take over anyone's session.
    "BreakLock": Permission.MANAGE_SHARING,
    "GetRootContainer": None,
    "GetUserInfo": None,
    "SetUserInfo": None,
    "ListSharedWithMe": None,
    "ListLockedFiles": None,  # and an administrator (`require_admin`): no item's permission allows a whole-store list
}

# What a PermissionDenied names for the RPCs only an administrator may call (ListLockedFiles; BreakLock where no
# principal can hold manage_sharing): no item's permissions can allow them.
ADMINISTRATOR = "administrator"

# Bounds that keep every sharing answer's cost bounded (proto: ListGrants, GrantAccess, ListSharedWithMe).
MAX_GRANTS_PER_ITEM = 256
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class UnownedAccess(enum.StrEnum):
    """Who may use an item without an owner (setting `unowned_access`): every identified principal as an
    editor (the default: what an adapter without access control allows), as a viewer, or nobody (only
    administrators and grants)."""

    EDITOR = "editor"
    VIEWER = "viewer"
    NONE = "none"

    @property
    def role(self) -> Role | None:
        return {UnownedAccess.EDITOR: Role.EDITOR, UnownedAccess.VIEWER: Role.VIEWER}.get(self)


@dataclass(frozen=True)
class AccessPolicy:
    """The adapter's settings of the model: administrators' principal ids, and the unowned-items rule."""

    admins: frozenset[str] = frozenset()
    unowned: UnownedAccess = UnownedAccess.EDITOR


DEFAULT_POLICY = AccessPolicy()


class GranteeKind(enum.IntEnum):
    """Users sort before groups (the order of ListGrants and ListSharedWithMe)."""

    USER = 0
    GROUP = 1


@dataclass(frozen=True, order=True)
class Grantee:
    kind: GranteeKind
    id: str


@dataclass(frozen=True)
class Grant:
    """A role on one item (`item_id`, a file when `on_file`) for one grantee."""

    item_id: str
    on_file: bool
    grantee: Grantee
    role: Role
    granted_by: Principal
    granted_at: datetime


@dataclass(frozen=True)
class ItemFacts:
    """What the model needs about one item, gathered by a backend in its atomic step: the owner's user id
    (empty: unowned), the owners of the containers above it, every grant on the item and on each container
    above it, and whether it is the root."""

    owner_id: str
    grants: Iterable[Grant]
    owners_above: Iterable[str] = ()
    is_root: bool = False


def grantees_of(principal: Principal) -> frozenset[Grantee]:
    """The grantees whose grants apply to `principal`: its user id and each of its groups."""
    groups = {Grantee(GranteeKind.GROUP, group) for group in principal.groups}
    return frozenset({Grantee(GranteeKind.USER, principal.user_id), *groups})


def effective_permissions(facts: ItemFacts, principal: Principal, policy: AccessPolicy) -> frozenset[Permission]:
    """The union of: everything for administrators and for the owner of the item or of a container above it; the
    root rule or the unowned rule for the item itself (neither is inherited); the role of every applicable grant
    on the item or above it. No deny rules."""
    user_id = principal.user_id
    if not user_id:
        return frozenset()
    if user_id in policy.admins or user_id == facts.owner_id or user_id in facts.owners_above:
        return EVERY_PERMISSION
    held: set[Permission] = set()
    if facts.is_root:
        held |= ROOT_PERMISSIONS
    elif not facts.owner_id and policy.unowned.role is not None:
        held |= ROLE_PERMISSIONS[policy.unowned.role]
    mine = grantees_of(principal)
    for grant in facts.grants:
        if grant.grantee in mine:
            held |= ROLE_PERMISSIONS[grant.role]
    return frozenset(held)


def require_identified(principal: Principal) -> None:
    """Fail closed: with access control, every RPC but GetCapabilities needs the principal."""
    if not principal.user_id:
        raise InvalidArgument(PRINCIPAL_ID_KEY, "this adapter enforces access control: send the principal's user id")


def check(
    rpc: str, facts: ItemFacts, principal: Principal, policy: AccessPolicy, *, what: str
) -> frozenset[Permission]:
    """The principal's permissions on the item, after refusing `rpc` if they do not allow it: NotFound (`what`
    names the kind of item, "file" or "container") when the principal may not read the item, else
    PermissionDenied naming the permission `REQUIRED[rpc]` that is missing."""
    require_identified(principal)
    held = effective_permissions(facts, principal, policy)
    if Permission.READ not in held:
        raise NotFound(f"no such {what}")
    needed = REQUIRED[rpc]
    if needed is not None and needed not in held:
        raise PermissionDenied(needed.value)
    return held


def require_admin(principal: Principal, policy: AccessPolicy) -> None:
    """The RPCs for operators (proto "Lock administration"), on every adapter, enforcing access control or not:
    INVALID_ARGUMENT without a principal, PERMISSION_DENIED naming "administrator" for one that is not."""
    require_identified(principal)
    if principal.user_id not in policy.admins:
        raise PermissionDenied(ADMINISTRATOR)


def reads_children(facts: ItemFacts, principal: Principal, policy: AccessPolicy) -> bool:
    """Whether the principal may read every child of the container `facts` describes, whatever the children's own
    grants: what it holds there comes from what children inherit (ownership of it or above it, administration,
    grants on it or above it), not from the root's or the unowned-items rule, which they do not."""
    inherited = effective_permissions(
        dataclasses.replace(facts, is_root=False), principal, dataclasses.replace(policy, unowned=UnownedAccess.NONE)
    )
    return Permission.READ in inherited


def as_permissions(held: frozenset[Permission], *, is_file: bool) -> Permissions:
    """The `Permissions` an answer carries; a file has no children to create."""
    fields = {permission.value: permission in held for permission in Permission}
    permissions = Permissions(**fields)
    return dataclasses.replace(permissions, create_children=False) if is_file else permissions


def page_size(requested: int) -> int:
    """ListSharedWithMe's page size: 0 is the default, above the maximum is the maximum."""
    if requested < 0:
        raise InvalidArgument("page_size", "the page size cannot be negative")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


# ListSharedWithMe's order, and its page tokens: every backend pages the same way.
SharedPageKey = tuple[str, int, str]  # (item id, grantee kind, grantee id)


def shared_page_key(grant: Grant) -> SharedPageKey:
    """Where `grant` stands in ListSharedWithMe's order."""
    return (grant.item_id, int(grant.grantee.kind), grant.grantee.id)


def shared_page_token(last: Grant) -> str:
    """The token of the page after the one that ends with `last`; opaque to callers."""
    return page_tokens.encode(list(shared_page_key(last)))


def shared_page_after(token: str) -> SharedPageKey | None:
    """The key after which the page of `token` starts (None: the first page); INVALID_ARGUMENT for a token that
    no page of this adapter handed out."""
    if not token:
        return None
    try:
        item_id, kind, grantee_id = page_tokens.decode(token)
        return (str(item_id), int(GranteeKind(kind)), str(grantee_id))
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "not a page token of this adapter") from None


# ---- the principal of the current call ----

_CURRENT_PRINCIPAL: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal", default=ANONYMOUS)


def bind_principal(principal: Principal) -> None:
    """Called once per RPC, by the interceptor, in the RPC's own task (so it never leaks to another call)."""
    _CURRENT_PRINCIPAL.set(principal)


def current_principal() -> Principal:
    return _CURRENT_PRINCIPAL.get()
