"""Access control in the filesystem backend: the facts of `access.py`'s model, read from the catalogue.

Every atomic section asks the gate inside its own transaction, before it changes anything, so that the check
and the change are one step. The gate holds no permission logic: it gathers an item's owner, the owners of the
containers above it and the grants on it and on each of them (`Catalogue.access_chain`: one query whatever the
depth) and asks `access.py`. An item that another program put in the folder has no owner, so the unowned-access
policy governs it. Without enforcement (the adapter setting `access_control` off) the gate allows everything
and leaves every answer's permissions as the contract says for adapters without access control.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from storage_adapter import access
from storage_adapter.access import AccessPolicy, Grant, ItemFacts, Permission
from storage_adapter.backends.filesystem.catalogue import Catalogue, Level, Node
from storage_adapter.errors import NameConflict
from storage_adapter.types import ContainerId, ContainerMeta, FileMeta, Item

# The principal's permissions on an item; None when the backend does not enforce (every answer unchanged).
Held = frozenset[Permission] | None

ItemT = TypeVar("ItemT", FileMeta, ContainerMeta)


class Gate:
    def __init__(self, catalogue: Catalogue, policy: AccessPolicy | None) -> None:
        """`policy` None: access control is not enforced."""
        self._catalogue = catalogue
        self.policy = policy

    def identify(self) -> None:
        """Fail closed: refuse a call without a principal before anything is looked up."""
        if self.policy is not None:
            access.require_identified(access.current_principal())

    def check(self, node: Node, rpc: str) -> Held:
        """The principal's permissions on the (reconciled) item, once `rpc` is allowed (`access.check`)."""
        if self.policy is None:
            return None
        what = "file" if node.is_file else "container"
        chain = self._catalogue.access_chain(node.id)
        return access.check(rpc, _facts(chain), access.current_principal(), self.policy, what=what)

    def held(self, node: Node) -> Held:
        """The principal's permissions on the item, refusing nothing."""
        if self.policy is None:
            return None
        chain = self._catalogue.access_chain(node.id)
        return access.effective_permissions(_facts(chain), access.current_principal(), self.policy)

    def reads_children(self, node: Node) -> bool:
        """Whether the principal may read every child of the container (`access.reads_children`): what decides
        whether its audit trail shows the children's deletions. Always, without enforcement."""
        if self.policy is None:
            return True
        chain = self._catalogue.access_chain(node.id)
        return access.reads_children(_facts(chain), access.current_principal(), self.policy)

    def readable(self, node: Node, item: Item) -> Item | None:
        """`item` (the answer for `node`) with the principal's permissions, or None if it may not read it."""
        held = self.held(node)
        if held is not None and Permission.READ not in held:
            return None
        return shown(item, held)

    def owned(self, item: Item) -> Item:
        """An item the principal just created: it owns it, so it holds every permission."""
        return shown(item, None if self.policy is None else access.EVERY_PERMISSION)

    def conflict(self, container_id: ContainerId, name: str, node: Node, item: Item) -> NameConflict:
        """The name is taken by `node`: the conflict tells only its kind if the principal may not read it."""
        seen = self.readable(node, item)
        return NameConflict(container_id, name, seen or item, hidden=seen is None)

    def children(self, parent: Node, children: list[tuple[Node, Item]]) -> dict[str, Item]:
        """Those of `children` (of `parent`; one page of a listing) that the principal may read, with its
        permissions, by node id: two queries, whatever their number or the number of `parent`'s other children."""
        if self.policy is None:
            return {node.id: item for node, item in children}
        chain = self._catalogue.access_chain(parent.id)
        grants_above = [grant for level in chain for grant in level.grants]
        owners_above = [level.owner_id for level in chain if level.owner_id]
        own = self._catalogue.grants_of_items([node.id for node, _ in children])
        principal = access.current_principal()
        visible: dict[str, Item] = {}
        for node, item in children:
            facts = ItemFacts(node.owner.user_id, [*own.get(node.id, ()), *grants_above], owners_above)
            held = access.effective_permissions(facts, principal, self.policy)
            if Permission.READ in held:
                visible[node.id] = shown(item, held)
        return visible

    def ancestors(self, node: Node, above: list[ContainerMeta]) -> list[ContainerMeta]:
        """The containers `above` the item (root first) that the principal may read, with its permissions."""
        if self.policy is None:
            return above
        chain = self._catalogue.access_chain(node.id)
        principal = access.current_principal()
        by_id = {level.node_id: index for index, level in enumerate(chain)}
        visible: list[ContainerMeta] = []
        for container in above:
            index = by_id.get(container.container_id)
            if index is None:
                continue
            held = access.effective_permissions(_facts(chain, index), principal, self.policy)
            if Permission.READ in held:
                visible.append(dataclasses.replace(container, permissions=access.as_permissions(held, is_file=False)))
        return visible

    def grants(self, node: Node) -> list[Grant]:
        """ListGrants: the item's own grants, then each container's above it up to the root (each users first,
        then by id: the order of `access_chain`)."""
        return [grant for level in self._catalogue.access_chain(node.id) for grant in level.grants]


def shown(item: ItemT, held: Held) -> ItemT:
    """The item as the principal sees it, with its permissions (unchanged when not enforcing)."""
    if held is None:
        return item
    return dataclasses.replace(item, permissions=access.as_permissions(held, is_file=isinstance(item, FileMeta)))


def _facts(chain: list[Level], at: int = 0) -> ItemFacts:
    """The model's facts about `chain[at]`, from the chain of the item at `chain[0]` (itself first, root last)."""
    level = chain[at]
    return ItemFacts(
        level.owner_id,
        [grant for each in chain[at:] for grant in each.grants],
        [each.owner_id for each in chain[at + 1 :] if each.owner_id],
        is_root=level.is_root and not level.is_file,
    )
