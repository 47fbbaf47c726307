"""The filesystem backend's atomic sections: each public method is one check-and-change.

They are synchronous. The backend runs each one through `run()` in a worker thread while it holds its asyncio
lock, so sections never overlap: `run()` also takes a thread lock (a cancelled request releases the asyncio
lock while its thread still runs) and wraps the section in one catalogue transaction. A section that raises a
StorageError still commits what reconciliation learnt on the way (a file found gone stays forgotten); any
other error rolls everything back.

Writes arrive here already received into a `StagedFile`: the section checks the preconditions again, keeps the
current file as a history blob (a hard link: no copy), renames the temp file over it, fsyncs the directories
and records the new version. A crash at any point leaves the old contents, or the new ones noticed as a change
made outside; `StateDir.remove_leftovers` sweeps what was half done.

With access control, every section asks the gate (`gate.py`) for the principal of the call, in its own
transaction and before it changes anything: the check and the change are one step. A section that changes an item
records its audit event (`audit.py`) last, once nothing can refuse the change: a section that raises a StorageError
commits what reconciliation learnt, and must not commit an event of a change it refused.
"""

from __future__ import annotations

import copy
import dataclasses
import errno
import os
import secrets
import stat
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from storage_adapter import access, activities, audit, listing, locked_files, locks, name_variants
from storage_adapter.access import AccessPolicy, Grant, Grantee, Role
from storage_adapter.backends.base import Clock, FileContext, FileReader, file_context_of
from storage_adapter.backends.filesystem import racy
from storage_adapter.backends.filesystem.catalogue import Catalogue, Node
from storage_adapter.backends.filesystem.gate import Gate, Held, shown
from storage_adapter.backends.filesystem.state import StateDir
from storage_adapter.backends.filesystem.streams import FileChunks, StagedFile
from storage_adapter.backends.filesystem.tree import Tree, new_id, new_version, with_new_contents
from storage_adapter.errors import (
    ContainerNotEmpty,
    InvalidArgument,
    NotFound,
    OutOfRange,
    StorageError,
    TooLarge,
)
from storage_adapter.timestamps import to_us
from storage_adapter.types import (
    Activity,
    Capabilities,
    ContainerId,
    ContainerMeta,
    FileId,
    FileMeta,
    Item,
    Preconditions,
    Principal,
    Version,
    VersionMeta,
)

T = TypeVar("T")


class Sections:
    def __init__(self, root: Path, capabilities: Capabilities, clock: Clock, policy: AccessPolicy | None) -> None:
        """Take the root for this process, open (or create, or migrate) the catalogue, sweep crash leftovers.
        `policy`: access control's, None when it is not enforced."""
        self.capabilities = capabilities
        self.clock = clock
        self._thread_lock = threading.Lock()
        self._doomed: list[str] = []  # history blobs to remove once the current transaction commits
        self.state = StateDir(root)
        self.state.open()
        try:
            self.catalogue = Catalogue(self.state.catalogue)
        except BaseException:
            self.state.close()
            raise
        try:
            self.catalogue.migrate()
            window = racy.window_ns(root, self.state.tmp)
            self.tree = Tree(root, self.catalogue, capabilities, self._doomed.extend, window)
            self.gate = Gate(self.catalogue, policy)
            with self.catalogue.transaction():
                self.root_id = self.tree.ensure_root(clock()).id
            self.state.remove_leftovers(self.catalogue.blobs())
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with self._thread_lock:
            self.catalogue.close()
            self.state.close()  # releases the root for another process

    def read_only(self) -> Sections:
        """These sections over a second, read-only connection to the catalogue, for reads outside the lock
        (inline.py): the same code answers, and whatever it would have to write, SQLite refuses."""
        view = copy.copy(self)  # the same root, state and settings; its own catalogue connection, tree and gate
        view.catalogue = Catalogue(self.state.catalogue, read_only=True)
        view.tree = Tree(self.tree.root, view.catalogue, self.capabilities, _removes_nothing, self.tree.racy_window_ns)
        view.gate = Gate(view.catalogue, self.gate.policy)
        return view

    def run(self, section: Callable[..., T], *args: Any, durable: bool = True) -> T:
        """`durable` False: what the section commits need survive only a crash of the process (a lock record),
        not a power cut (`Catalogue.transaction`)."""
        with self._thread_lock:
            self._doomed.clear()
            try:
                with self.catalogue.transaction(commit_on=(StorageError,), durable=durable):
                    result = section(*args)
            except StorageError:
                self.state.remove_blobs(self._doomed)
                raise
            # Any other error rolled back: the blobs are still recorded, so they stay.
            self.state.remove_blobs(self._doomed)
            return result

    def consume(self, staged: StagedFile, section: Callable[..., T], *args: Any) -> T:
        """Run a commit `section` of `staged`; the temp file is removed whatever happens."""
        staged.claimed = True
        try:
            return section(staged, *args)
        finally:
            staged.discard()

    def root_container(self) -> ContainerMeta:
        self.gate.identify()
        root = self.tree.container(self.root_id)
        return shown(root.container_meta(), self.gate.held(root))

    def get_container(self, container_id: ContainerId) -> ContainerMeta:
        node, held = self._container_for(container_id, "GetContainer")
        return shown(node.container_meta(), held)

    def container_depth(self, container_id: ContainerId) -> int:
        """Every container above counts, readable or not."""
        node, _ = self._container_for(container_id, "GetContainer")
        return len(self.catalogue.ancestors(node.id))

    def stat_file(self, file_id: FileId) -> FileMeta:
        node, held = self._file_for(file_id, "StatFile")
        return shown(node.file_meta(self.clock()), held)

    def get_user_info(self, user_id: str) -> str:
        return self.catalogue.user_info(user_id)

    def file_context(self, file_id: FileId, user_id: str, with_container: bool) -> FileContext:
        """StatFile, GetUserInfo and the permissions on the file's container, in one section: one hop to the
        worker thread and one catalogue transaction instead of three (CheckFileInfo's every storage need)."""
        meta = self.stat_file(file_id)
        user_info = self.get_user_info(user_id) if user_id else ""
        return file_context_of(meta, user_info, self.get_container if with_container else None)

    def set_user_info(self, user_id: str, user_info: str) -> None:
        self.catalogue.set_user_info(user_id, user_info)

    def list_children_page(
        self, container_id: ContainerId, extensions: frozenset[str], size: int, token: str
    ) -> listing.Page:
        """One page from the catalogue's index, each child on it checked with one lstat; the whole directory is
        reconciled first only if it changed since it last was (`Tree.listed_folder`)."""
        parent, _ = self._container_for(container_id, "ListChildren")
        after = listing.decode_token(token, container_id)
        parent, folder = self.tree.listed_folder(parent)
        now = self.clock()

        def resolve(item_id: str) -> listing.ChildKey | None:
            node = self.catalogue.get(item_id)
            return listing.key_of(node.is_file, node.name) if node is not None and node.parent_id == parent.id else None

        def children_after(key: listing.ChildKey | None, limit: int) -> list[listing.Child[Node]]:
            nodes = self.catalogue.children_after(parent.id, key, limit)
            return [listing.Child(listing.key_of(node.is_file, node.name), node.id, node) for node in nodes]

        def shown(batch: Sequence[listing.Child[Node]]) -> list[Item | None]:
            current: list[tuple[Node, Item]] = []
            for child in batch:
                if listing.wanted(child.row.is_file, child.row.name, extensions):
                    node = self.tree.listed_child(folder, child.row)
                    if node is not None:
                        current.append((node, _item(node, now)))
            visible = self.gate.children(parent, current)  # only those the principal may read
            return [visible.get(child.item_id) for child in batch]

        return listing.read_page(container_id, after, size, resolve, children_after, shown)

    def lookup_child(self, container_id: ContainerId, name: str) -> Item:
        parent, _ = self._container_for(container_id, "LookupChild")
        node = self.tree.entry(parent, name)
        seen = None if node is None else self.gate.readable(node, _item(node, self.clock()))
        if seen is None:  # an unreadable child is not found either
            raise NotFound("no item of this name in the container")
        return seen

    def find_free_name(self, container_id: ContainerId, name: str, rpc: str = "FindFreeName") -> str:
        parent, _ = self._container_for(container_id, rpc)
        chosen = self.free_variant(parent, name)
        self.require_free_by_id(container_id, chosen)  # raises only when every candidate is taken
        return chosen

    def check_create(self, container_id: ContainerId, name: str, use_free_variant: bool) -> None:
        """CreateFile's early check, before the upload (a free variant is chosen only in the commit section)."""
        if use_free_variant:
            self.find_free_name(container_id, name, "CreateFile")
        else:
            self._container_for(container_id, "CreateFile")
            self.require_free_by_id(container_id, name)

    def create_container(self, parent_id: ContainerId, name: str, principal: Principal) -> ContainerMeta:
        self._container_for(parent_id, "CreateContainer")
        parent = self.require_free_by_id(parent_id, name)
        path = self.tree.path(parent) / name
        try:
            os.mkdir(path, 0o777)
        except FileExistsError:
            raise _taken_by_unserved(name) from None
        _fsync_dir(path.parent)
        st = os.lstat(path)
        node = Node(new_id(), parent.id, name, False, principal, self.clock(), st.st_dev, st.st_ino)
        self.catalogue.insert(node)
        self._record(audit.created(node.container_meta(), node.created_at))
        return self.gate.owned(node.container_meta())  # the creator owns it

    def rename_container(self, container_id: ContainerId, new_name: str) -> ContainerMeta:
        node = self._non_root(container_id)
        held = self.gate.check(node, "RenameContainer")
        if new_name == node.name:
            return shown(node.container_meta(), held)
        assert node.parent_id is not None
        self.require_free_by_id(ContainerId(node.parent_id), new_name)
        renamed = self._rename(node, new_name).container_meta()
        self._record(audit.renamed(renamed, node.name, self.clock()))
        return shown(renamed, held)

    def delete_container(self, container_id: ContainerId) -> None:
        node = self._non_root(container_id)
        self.gate.check(node, "DeleteContainer")
        if self.tree.scan(node):
            raise ContainerNotEmpty(container_id)
        path = self.tree.path(node)
        try:
            os.rmdir(path)
        except OSError as error:
            if error.errno in (errno.ENOTEMPTY, errno.EEXIST):  # holds only what we do not serve (a link)
                raise ContainerNotEmpty(container_id) from None
            raise
        _fsync_dir(path.parent)
        self.tree.vanish(node)
        self._record(audit.deleted(node.container_meta(), self.clock()))

    def ancestors(self, item: str, is_file: bool) -> list[ContainerMeta]:
        node, _ = self._item_for(item, is_file, "GetAncestors")
        above = [ancestor.container_meta() for ancestor in reversed(self.catalogue.ancestors(node.id))]
        return self.gate.ancestors(node, above)  # those the principal may not read are left out

    def open_file(self, file_id: FileId, offset: int, length: int, version: Version | None) -> FileReader:
        node, held = self._file_for(file_id, "ReadFile")
        if version is not None and version != node.version:
            found = self.catalogue.find_version(node.id, version)
            if found is None:
                raise NotFound("no such version")
            old, blob = found
            meta = node.file_meta(self.clock())
            meta = dataclasses.replace(meta, version=old.version, size=old.size, sha256=old.sha256)
            fd = _open_no_follow(self.state.blob(blob))
        else:
            fd = _open_no_follow(self.tree.path(node))
            try:  # the descriptor decides which bytes are read: describe that inode, should it be a new one
                meta = self.tree.refreshed(node, os.fstat(fd)).file_meta(self.clock())
            except BaseException:
                os.close(fd)
                raise
        if offset > meta.size:
            os.close(fd)
            raise OutOfRange("the offset is past the end of the file")
        end = meta.size if length == 0 else min(meta.size, offset + length)
        return FileReader(shown(meta, held), FileChunks(fd, offset, end, self.capabilities.max_chunk_size))

    def check_preconditions(
        self, file_id: FileId, preconditions: Preconditions, rpc: str = "WriteFile"
    ) -> tuple[Node, Held]:
        """The file and the principal's permissions, once `rpc` is allowed and the preconditions hold."""
        node, held = self._file_for(file_id, rpc)
        now = self.clock()
        locks.check_preconditions(node.file_meta(now), preconditions, now)
        return node, held

    def commit_write(
        self,
        staged: StagedFile,
        file_id: FileId,
        preconditions: Preconditions,
        principal: Principal,
        restored: Version | None = None,
    ) -> FileMeta:
        """A WriteFile, or with `restored` a RestoreVersion (of that version, received as `staged`)."""
        node, held = self.check_preconditions(
            file_id, preconditions, "WriteFile" if restored is None else "RestoreVersion"
        )
        path = self.tree.path(node)
        blob = secrets.token_hex(16)
        # The current contents become a history blob by a second name for the same inode: no copy.
        os.link(path, self.state.blob(blob), follow_symlinks=False)
        try:
            os.chmod(staged.path, stat.S_IMODE(os.lstat(path).st_mode))
            os.replace(staged.path, path)
        except BaseException:
            os.unlink(self.state.blob(blob))
            raise
        _fsync_dir(path.parent)
        _fsync_dir(self.state.versions)
        self.catalogue.add_version(node.id, node.history_entry(), blob)
        if self.capabilities.max_versions_kept:  # 0: no limit
            self._doomed.extend(self.catalogue.prune_versions(node.id, self.capabilities.max_versions_kept))
        now = self.clock()
        updated = with_new_contents(node, staged.fingerprint, now, principal, staged.sha256)
        self.catalogue.update(updated)
        meta = updated.file_meta(now)
        self._record(audit.written(meta, now, restored=restored))
        return shown(meta, held)

    def commit_create(
        self, staged: StagedFile, container_id: ContainerId, name: str, principal: Principal, use_free_variant: bool
    ) -> FileMeta:
        container, _ = self._container_for(container_id, "CreateFile")
        if use_free_variant:
            name = self.free_variant(container, name)
        parent = self.require_free_by_id(container_id, name)
        target = self.tree.path(parent) / name
        try:
            os.link(staged.path, target, follow_symlinks=False)  # never replaces: exclusive on disk too
        except FileExistsError:
            raise _taken_by_unserved(name) from None
        _fsync_dir(target.parent)
        now = self.clock()
        seen = staged.fingerprint
        node = Node(
            new_id(), parent.id, name, True, principal, now, seen.dev, seen.ino, seen.size, seen.mtime_ns,
            new_version(), now, principal, staged.sha256,
        )  # fmt: skip
        self.catalogue.insert(node)
        self._record(audit.created(node.file_meta(now), now))
        return self.gate.owned(node.file_meta(now))  # the creator owns it

    def rename_file(
        self, file_id: FileId, new_name: str, preconditions: Preconditions, use_free_variant: bool = False
    ) -> FileMeta:
        node, held = self.check_preconditions(file_id, preconditions, "RenameFile")
        assert node.parent_id is not None
        if use_free_variant:
            new_name = self.free_variant(self.tree.container(node.parent_id), new_name, own_name=node.name)
        if new_name != node.name:
            self.require_free_by_id(ContainerId(node.parent_id), new_name)
            old_name, node = node.name, self._rename(node, new_name)
            self._record(audit.renamed(node.file_meta(self.clock()), old_name, self.clock()))
        return shown(node.file_meta(self.clock()), held)

    def delete_file(self, file_id: FileId, preconditions: Preconditions) -> None:
        node, _ = self.check_preconditions(file_id, preconditions, "DeleteFile")
        path = self.tree.path(node)
        os.unlink(path)
        _fsync_dir(path.parent)
        self.tree.vanish(node)
        now = self.clock()
        self._record(audit.deleted(node.file_meta(now), now))

    def update_lock(self, file_id: FileId, transition: locks.LockTransition, breaking: str | None = None) -> FileMeta:
        """Every lock RPC needs the lock permission; a BreakLock (`breaking`: its reason) manage_sharing."""
        node, held = self._file_for(file_id, "Lock" if breaking is None else "BreakLock")
        now = self.clock()
        before = locks.live(node.lock, now)
        updated = dataclasses.replace(node, lock=transition(before, now))
        self.catalogue.update(updated)
        self._record(audit.lock_changed(FileId(node.id), before, updated.lock, now, breaking=breaking))
        return shown(updated.file_meta(now), held)

    def list_versions(self, file_id: FileId) -> list[VersionMeta]:
        node, _ = self._file_for(file_id, "ListVersions")
        return [version for version, _ in self.catalogue.versions(node.id)]

    def open_version(self, file_id: FileId, version: Version, preconditions: Preconditions) -> FileChunks:
        node, _ = self._file_for(file_id, "RestoreVersion")
        found = self.catalogue.find_version(node.id, version)
        if found is None:
            raise NotFound("no such version")
        now = self.clock()
        locks.check_preconditions(node.file_meta(now), preconditions, now)  # fail early, before the copy
        old, blob = found
        fd = _open_no_follow(self.state.blob(blob))  # read even if the version is pruned meanwhile
        return FileChunks(fd, 0, old.size, self.capabilities.max_chunk_size)

    # ---- activities ----

    def add_activities(self, file_id: FileId, requested: list[Activity], principal: Principal) -> list[Activity]:
        node, _ = self._file_for(file_id, "AddActivities")
        recorded = self.catalogue.recorded_activities(node.id, [wanted.activity_id for wanted in requested])
        recording = activities.record(requested, recorded, principal, self.clock())
        self.catalogue.add_activities(node.id, recording.new, self.capabilities.max_activities_per_file)
        return recording.answers

    def list_activities(self, file_id: FileId, size: int, before: int | None) -> activities.Page:
        node, _ = self._file_for(file_id, "ListActivities")
        return activities.page_of(self.catalogue.activities_before(node.id, before, size + 1), size)

    # ---- sharing ----

    def list_grants(self, item: str, is_file: bool) -> list[Grant]:
        node, _ = self._item_for(item, is_file, "ListGrants")
        return self.gate.grants(node)

    def grant_access(self, item: str, is_file: bool, grantee: Grantee, role: Role, principal: Principal) -> Grant:
        node, _ = self._item_for(item, is_file, "GrantAccess")
        if grantee == Grantee(access.GranteeKind.USER, node.owner.user_id):
            raise InvalidArgument("grantee", "the owner has every permission already; ownership is never granted")
        own = self.catalogue.access_chain(node.id)[0].grants
        existing = next((grant for grant in own if grant.grantee == grantee), None)
        if existing is not None and existing.role == role:
            return existing  # idempotent: nothing changes
        if existing is None and len(own) >= access.MAX_GRANTS_PER_ITEM:
            raise TooLarge(f"an item has at most {access.MAX_GRANTS_PER_ITEM} grants")
        grant = Grant(node.id, node.is_file, grantee, role, principal, self.clock())
        self.catalogue.put_grant(grant)
        self._record(audit.granted(grant))
        return grant

    def revoke_access(self, item: str, is_file: bool, grantee: Grantee) -> None:
        node, _ = self._item_for(item, is_file, "RevokeAccess")
        if self.catalogue.delete_grant(node.id, grantee):  # revoking no grant changes nothing: nothing to record
            self._record(audit.revoked(node.id, node.is_file, grantee, self.clock()))

    def list_shared_with_me(self, size: int, token: str) -> tuple[list[tuple[Item, Grant]], str]:
        principal = access.current_principal()
        access.require_identified(principal)
        after = access.shared_page_after(token)
        grantees = access.grantees_of(principal)
        page: list[tuple[Item, Grant]] = []
        while True:  # one batch is enough unless items were found gone on disk: those are skipped (and forgotten)
            batch = self.catalogue.shared_with(grantees, principal.user_id, after, size + 1)
            for grant in batch:
                after = (grant.item_id, int(grant.grantee.kind), grant.grantee.id)
                try:
                    node = self.tree.file(grant.item_id) if grant.on_file else self.tree.container(grant.item_id)
                except NotFound:
                    continue
                if len(page) == size:  # one more entry exists: the page ends here
                    return page, access.shared_page_token(page[-1][1])
                seen = self.gate.readable(node, _item(node, self.clock()))
                assert seen is not None  # the grant itself lets the principal read it
                page.append((seen, grant))
            if len(batch) < size + 1:
                return page, ""

    # ---- audit trail and lock administration ----

    def _record(self, event: audit.AuditEvent | None) -> None:
        """Store a change's event in this section's transaction: committed with the change, or not at all."""
        if event is not None:
            self.catalogue.record(event, self.capabilities.max_audit_events_per_item)

    def list_audit_events(self, item: str, is_file: bool, size: int, before: int | None) -> audit.Page:
        node, _ = self._item_for(item, is_file, "ListAuditEvents")
        sees_children = node.is_file or self.gate.reads_children(node)

        def fetch(cursor: int | None, limit: int) -> list[tuple[int, audit.AuditEvent]]:
            return self.catalogue.audit_before(node.id, cursor, limit)

        return audit.read_page(fetch, size, before, audit.shown_to(access.current_principal(), sees_children))

    def list_locked_files(self, size: int, after: locked_files.Key | None) -> locked_files.Page:
        """One range of the index of locks; each file on it checked on disk (one lstat), and left out if another
        program removed it."""
        now = self.clock()

        def shown(node: Node) -> FileMeta | None:
            try:
                current = self.tree.file(node.id)
            except NotFound:
                return None
            item = self.gate.readable(current, current.file_meta(now))
            return item if isinstance(item, FileMeta) else None

        def fetch(key: locked_files.Key | None, limit: int) -> list[Node]:
            return self.catalogue.locked_after(to_us(now), key, limit)

        return locked_files.read_page(fetch, _lock_key, shown, size, after)

    # ---- access: the gate's check for the principal of the call, in this section's transaction ----

    def _file_for(self, file_id: str, rpc: str) -> tuple[Node, Held]:
        """The (reconciled) file and the principal's permissions, once `rpc` is allowed."""
        self.gate.identify()  # before the file is looked up: fail closed, reveal nothing
        node = self.tree.file(file_id)
        return node, self.gate.check(node, rpc)

    def _container_for(self, container_id: str, rpc: str) -> tuple[Node, Held]:
        self.gate.identify()
        node = self.tree.container(container_id)
        return node, self.gate.check(node, rpc)

    def _item_for(self, item: str, is_file: bool, rpc: str) -> tuple[Node, Held]:
        return self._file_for(item, rpc) if is_file else self._container_for(item, rpc)

    # ---- helpers ----

    def require_free_by_id(self, container_id: ContainerId, name: str) -> Node:
        """The container, if `name` is free in it: NameConflict (with the item, or only its kind if the
        principal may not read it) otherwise."""
        parent = self.tree.container(container_id)
        self.tree.check_reserved(parent, name)
        existing = self.tree.entry(parent, name)
        if existing is not None:
            raise self.gate.conflict(container_id, name, existing, _item(existing, self.clock()))
        if self.tree.occupied(parent, name):
            raise _taken_by_unserved(name)
        return parent

    def free_variant(self, parent: Node, name: str, own_name: str | None = None) -> str:
        """The first candidate nothing on disk has (one lstat each, at most MAX_NAME_VARIANT, all inside this
        section), or `name` itself when all are taken, so that the caller's exclusive step reports the conflict."""
        self.tree.check_reserved(parent, name)
        candidates = name_variants.candidates(name, self.capabilities.max_name_length)
        free = name_variants.first_free(
            candidates, lambda candidate: candidate != own_name and self.tree.occupied(parent, candidate)
        )
        return name if free is None else free

    def _rename(self, node: Node, new_name: str) -> Node:
        source = self.tree.path(node)
        os.rename(source, source.parent / new_name)
        _fsync_dir(source.parent)
        renamed = dataclasses.replace(node, name=new_name)
        self.catalogue.update(renamed)
        return renamed

    def _non_root(self, container_id: ContainerId) -> Node:
        self.gate.identify()
        node = self.tree.container(container_id)
        if node.parent_id is None:
            raise InvalidArgument("container_id", "the root container cannot be renamed or deleted")
        return node


def _lock_key(node: Node) -> locked_files.Key:
    assert node.lock is not None
    return (to_us(node.lock.expires_at), node.id)


def _item(node: Node, now: datetime) -> Item:
    return node.file_meta(now) if node.is_file else node.container_meta()


def _removes_nothing(blobs: list[str]) -> None:
    """The read-only view's tree never forgets an item: its catalogue refuses the delete before this is called."""
    raise AssertionError(f"a read-only section deleted history blobs {blobs}")


def _taken_by_unserved(name: str) -> InvalidArgument:
    return InvalidArgument("name", f"'{name}' is taken on disk by an entry that is not a file or a folder")


def _open_no_follow(path: Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound("no such file") from None
    except OSError as error:
        if error.errno == errno.ELOOP:  # a symbolic link took the file's place: never followed
            raise NotFound("no such file") from None
        raise


def _fsync_dir(path: Path) -> None:
    """Make a rename or link in this directory durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
