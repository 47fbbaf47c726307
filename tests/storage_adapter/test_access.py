"""The access-control model (`storage_adapter/access.py`) on its own: the rules the contract suite cannot reach
over gRPC (items without an owner, as another program leaves them; each unowned-access setting), and the table of
what each RPC needs against the proto's list of RPCs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage_adapter import access, principal
from storage_adapter.access import (
    EVERY_PERMISSION,
    ROLE_PERMISSIONS,
    AccessPolicy,
    Grant,
    Grantee,
    GranteeKind,
    ItemFacts,
    Permission,
    Role,
    UnownedAccess,
)
from storage_adapter.errors import InvalidArgument, NotFound, PermissionDenied
from storage_adapter.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

ALICE = Principal("alice")
BOB = Principal("bob", groups=frozenset({"team"}))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def grant_to(grantee: Grantee, role: Role) -> Grant:
    return Grant("item", True, grantee, role, ALICE, NOW)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (UnownedAccess.EDITOR, ROLE_PERMISSIONS[Role.EDITOR]),
        (UnownedAccess.VIEWER, ROLE_PERMISSIONS[Role.VIEWER]),
        (UnownedAccess.NONE, frozenset()),
    ],
)
def test_unowned_items_follow_the_setting(setting: UnownedAccess, expected: frozenset[Permission]) -> None:
    """An item without an owner gives every identified principal the role the setting names (none: nothing)."""
    unowned = ItemFacts(owner_id="", grants=())
    assert access.effective_permissions(unowned, BOB, AccessPolicy(unowned=setting)) == expected


def test_the_unowned_rule_is_not_inherited_but_grants_still_apply() -> None:
    """Under `none`, an unowned item is reachable only through grants (on it or above it) and administrators;
    an owned item below an unowned container gets nothing from the unowned rule."""
    policy = AccessPolicy(admins=frozenset({"operator"}), unowned=UnownedAccess.NONE)
    shared = ItemFacts(owner_id="", grants=[grant_to(Grantee(GranteeKind.GROUP, "team"), Role.VIEWER)])
    assert access.effective_permissions(shared, BOB, policy) == ROLE_PERMISSIONS[Role.VIEWER]
    assert access.effective_permissions(shared, Principal("carol"), policy) == frozenset()
    assert access.effective_permissions(shared, Principal("operator"), policy) == EVERY_PERMISSION
    owned_below_unowned = ItemFacts(owner_id="alice", grants=())  # the unowned parent adds nothing
    editor_policy = AccessPolicy(unowned=UnownedAccess.EDITOR)
    assert access.effective_permissions(owned_below_unowned, BOB, editor_policy) == frozenset()


def test_owner_of_the_item_or_above_and_administrators_hold_everything() -> None:
    item = ItemFacts(owner_id="alice", grants=(), owners_above=["carol"])
    policy = AccessPolicy(admins=frozenset({"operator"}))
    for who in ("alice", "carol", "operator"):
        assert access.effective_permissions(item, Principal(who), policy) == EVERY_PERMISSION
    assert access.effective_permissions(item, BOB, policy) == frozenset()


def test_permissions_are_the_union_of_every_applicable_grant() -> None:
    """No deny rules: a user grant and a group grant add up; a grant to someone else counts for nothing."""
    grants = [
        grant_to(Grantee(GranteeKind.USER, "bob"), Role.VIEWER),
        grant_to(Grantee(GranteeKind.GROUP, "team"), Role.EDITOR),
        grant_to(Grantee(GranteeKind.USER, "carol"), Role.MANAGER),
    ]
    held = access.effective_permissions(ItemFacts("alice", grants), BOB, AccessPolicy())
    assert held == ROLE_PERMISSIONS[Role.EDITOR]


def test_the_root_is_readable_and_open_to_create_in_for_everyone_identified() -> None:
    root = ItemFacts(owner_id="", grants=(), is_root=True)
    for setting in UnownedAccess:
        assert access.effective_permissions(root, BOB, AccessPolicy(unowned=setting)) == access.ROOT_PERMISSIONS
    assert access.effective_permissions(root, Principal(), AccessPolicy()) == frozenset()


def test_check_refuses_in_the_documented_order() -> None:
    """No principal: INVALID_ARGUMENT; unreadable: NOT_FOUND; readable without the permission: PERMISSION_DENIED."""
    viewer = ItemFacts("alice", [grant_to(Grantee(GranteeKind.USER, "bob"), Role.VIEWER)])
    with pytest.raises(InvalidArgument):
        access.check("StatFile", viewer, Principal(), AccessPolicy(), what="file")
    with pytest.raises(NotFound):
        access.check("StatFile", viewer, Principal("carol"), AccessPolicy(), what="file")
    with pytest.raises(PermissionDenied) as denied:
        access.check("WriteFile", viewer, BOB, AccessPolicy(), what="file")
    assert denied.value.permission == "write"
    assert access.check("StatFile", viewer, BOB, AccessPolicy(), what="file") == ROLE_PERMISSIONS[Role.VIEWER]


def test_every_rpc_has_an_entry_in_the_permission_table() -> None:
    """The table covers every RPC of the service but GetCapabilities, and names only real permissions."""
    rpcs = set(pb.DESCRIPTOR.services_by_name["StorageService"].methods_by_name) - {"GetCapabilities"}
    assert set(access.REQUIRED) == rpcs
    assert {field.name for field in pb.Permissions.DESCRIPTOR.fields} == {p.value for p in Permission}
    assert {int(role) for role in Role} == set(pb.Role.values()) - {pb.ROLE_UNSPECIFIED}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", frozenset()), ("team", {"team"}), ("a,b,a", {"a", "b"}), (",".join(["g"] * 256), {"g"})],
)
def test_principal_groups_parse(raw: str, expected: set[str]) -> None:
    metadata = [(principal.PRINCIPAL_ID_KEY, "bob"), (principal.PRINCIPAL_GROUPS_KEY, raw)]
    assert principal.required(principal.from_metadata(metadata)).groups == expected


@pytest.mark.parametrize("raw", ["a b", "a,,b", ",", "a,", ",".join(["g"] * 257), "x" * 257, "é", b"team"])
def test_malformed_principal_groups_are_invalid_argument(raw: str | bytes) -> None:
    with pytest.raises(InvalidArgument) as error:
        principal.from_metadata([(principal.PRINCIPAL_GROUPS_KEY, raw)])
    assert error.value.field == principal.PRINCIPAL_GROUPS_KEY
