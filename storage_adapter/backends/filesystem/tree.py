"""The tree on disk seen through the catalogue, reconciled on access.

Other programs may change the folder at any time, so every access compares what the catalogue recorded with
what the file system says now, and brings the catalogue up to date first:

- a file whose (dev, inode, size, mtime) changed was edited: it gets a new version (its SHA-256 is unknown);
- a file or directory nobody told us about gets an id when its parent is listed or its name looked up; if it is
  a catalogued item whose own path no longer holds it, it was moved: it keeps its id (`_moved_from`);
- an item that is gone (or is no longer a regular file or a directory) is removed with everything under it.

Paths come only from the catalogue's parent/name chains, never from an id. Symbolic links are never followed:
an item reached through one counts as gone, a link in a directory is ignored, and files are opened O_NOFOLLOW.
Everything here is synchronous and runs inside the backend's atomic section.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import stat
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from storage_adapter import validation
from storage_adapter.backends.filesystem import racy
from storage_adapter.backends.filesystem.catalogue import Catalogue, Node
from storage_adapter.backends.filesystem.state import STATE_DIR_NAME
from storage_adapter.backends.filesystem.streams import Fingerprint
from storage_adapter.errors import InvalidArgument, NotFound
from storage_adapter.timestamps import from_us
from storage_adapter.types import ANONYMOUS, Capabilities, Principal, Version


def new_id() -> str:
    return secrets.token_hex(12)


def new_version() -> Version:
    return Version(secrets.token_hex(8))


def with_new_contents(
    node: Node, seen: Fingerprint, modified_at: datetime, modified_by: Principal, sha256: bytes
) -> Node:
    """`node` after its contents became those `seen` on disk: a new version, remembered by their fingerprint."""
    return dataclasses.replace(
        node,
        dev=seen.dev,
        ino=seen.ino,
        size=seen.size,
        mtime_ns=seen.mtime_ns,
        version=new_version(),
        modified_at=modified_at,
        modified_by=modified_by,
        sha256=sha256,
    )


class Tree:
    def __init__(
        self,
        root: Path,
        catalogue: Catalogue,
        capabilities: Capabilities,
        remove_blobs: Callable[[list[str]], None],  # after the transaction commits
        racy_window_ns: int = racy.COARSE_WINDOW_NS,
    ) -> None:
        self.root = root  # already resolved: no symbolic link in it
        self.catalogue = catalogue
        self._capabilities = capabilities
        self._remove_blobs = remove_blobs
        # A directory's ctime this close to the moment it was scanned is not trusted (`listed_folder`, racy.py).
        self.racy_window_ns = racy_window_ns

    def ensure_root(self, now: datetime) -> Node:
        root = self.catalogue.root()
        if root is None:
            st = os.lstat(self.root)
            root = Node(new_id(), None, "", False, ANONYMOUS, now, st.st_dev, st.st_ino)
            self.catalogue.insert(root)
        return root

    # ---- paths ----

    def path(self, node: Node) -> Path:
        """Where the item lives, from the catalogue's chain of names. NotFound if the chain no longer leads
        there without crossing a symbolic link (the item is then as good as gone)."""
        if node.parent_id is None:
            return self.root
        above = self.catalogue.names_above(node.id)
        if above is None:
            raise NotFound("the item's chain of parents does not reach the root")
        names = [*above, node.name]
        if any(not name or name in (".", "..") or "/" in name or "\0" in name for name in names):
            raise NotFound("the item's path is not a plain path inside the root")
        path = self.root.joinpath(*names)
        if not _reached_without_links(path.parent):
            raise NotFound("the item is not reachable without following a symbolic link")
        return path

    # ---- reconciled lookups ----

    def container(self, container_id: str) -> Node:
        node = self.catalogue.get(container_id)
        if node is None or node.is_file:
            raise NotFound("no such container")
        if node.parent_id is None:
            return node
        st = self._lstat_node(node)
        if st is None or not stat.S_ISDIR(st.st_mode):
            self.vanish(node)
            raise NotFound("no such container")
        return self.refreshed(node, st)

    def file(self, file_id: str) -> Node:
        node = self.catalogue.get(file_id)
        if node is None or not node.is_file:
            raise NotFound("no such file")
        st = self._lstat_node(node)
        if st is None or not stat.S_ISREG(st.st_mode):
            self.vanish(node)
            raise NotFound("no such file")
        return self.refreshed(node, st)

    def entry(self, parent: Node, name: str) -> Node | None:
        """The child called `name` of a (reconciled) container, or None."""
        if not self._servable(parent, name):
            return None
        name = self._spelling_on_disk(parent, name)
        try:
            st: os.stat_result | None = os.lstat(self.path(parent) / name)
        except FileNotFoundError:
            st = None
        node = self.catalogue.child(parent.id, name)
        if node is not None and (st is None or _kind(st) != node.is_file):
            self.vanish(node)
            node = None
        if st is None or _kind(st) is None:
            return None
        return self.refreshed(node, st) if node is not None else self._adopt(parent, name, st)

    def scan(self, parent: Node) -> list[Node]:
        """Every child of a (reconciled) container, the catalogue brought up to date with the directory."""
        on_disk: dict[str, os.stat_result] = {}
        try:
            with os.scandir(self.path(parent)) as entries:
                for entry in entries:
                    if self._servable(parent, entry.name):
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except FileNotFoundError:  # removed while we read the directory
                            continue
                        if _kind(st) is not None:
                            on_disk[entry.name] = st
        except (FileNotFoundError, NotADirectoryError):  # removed since the caller looked it up
            self.vanish(parent)
            raise NotFound("no such container") from None
        known = {node.name: node for node in self.catalogue.children(parent.id)}
        children: list[Node] = []
        gone: list[Node] = []
        for name, node in known.items():
            st = on_disk.get(name)
            if st is None:
                gone.append(node)  # kept until new entries are matched: it may have been moved among them
            elif _kind(st) != node.is_file:
                self.vanish(node)
                del on_disk[name]
                children.append(self._adopt(parent, name, st))
            else:
                children.append(self.refreshed(node, st))
                del on_disk[name]
        children.extend(self._adopt(parent, name, st) for name, st in on_disk.items())
        for node in gone:
            current = self.catalogue.get(node.id)
            if current is not None and (current.parent_id, current.name) == (node.parent_id, node.name):
                self.vanish(current)
        return children

    def listed_folder(self, parent: Node) -> tuple[Node, Path]:
        """A (reconciled) container ready to be listed from the catalogue, and its path: the whole directory is
        reconciled (`scan`) only when it changed since its last full reconcile, else this costs one lstat.

        What tells: the directory's ctime, recorded in its row (`mtime_ns`, unused otherwise for a directory).
        The kernel sets it whenever an entry is added, removed or renamed in it, and no program can set it back
        (unlike the mtime, which `touch` can). As in git's index ("racy git"), a ctime within the racy window
        (racy.py) of the moment of the scan is not trusted: another change within the same timestamp tick would
        leave it as it was. Such a directory is recorded as unknown (0) and scanned again next time. Edits
        inside a file leave the directory alone: each listed file is checked by `listed_child`."""
        folder = self.path(parent)
        try:
            st = os.lstat(folder)
        except (FileNotFoundError, NotADirectoryError):
            self.vanish(parent)
            raise NotFound("no such container") from None
        if not stat.S_ISDIR(st.st_mode):
            self.vanish(parent)
            raise NotFound("no such container")
        if parent.mtime_ns and parent.mtime_ns == st.st_ctime_ns:
            return parent, folder
        # Recorded as unknown first: a catalogue that refuses writes (the inline reads' view) refuses here, before
        # the scan rather than after it, and the locked section that it falls back to scans once.
        self.catalogue.update(dataclasses.replace(parent, mtime_ns=0))
        self.scan(parent)  # read after the lstat above: a change during the scan leaves another ctime
        trusted = st.st_ctime_ns if time.time_ns() - st.st_ctime_ns > self.racy_window_ns else 0
        current = dataclasses.replace(self.catalogue.get(parent.id) or parent, mtime_ns=trusted)
        if trusted:
            self.catalogue.update(current)
        return current, folder

    def listed_child(self, folder: Path, node: Node) -> Node | None:
        """A catalogued child of the directory at `folder` reconciled with one lstat: None if it is gone (or is
        no longer of its kind: the directory then changed, and its next listing adopts what replaced it)."""
        try:
            st: os.stat_result | None = os.lstat(folder / node.name)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is None or _kind(st) != node.is_file:
            self.vanish(node)
            return None
        return self.refreshed(node, st)

    def check_reserved(self, parent: Node, name: str) -> None:
        """The state directory's name is never an item's name in the root."""
        if parent.parent_id is None and name == STATE_DIR_NAME:
            raise InvalidArgument("name", f"'{STATE_DIR_NAME}' is reserved in the root container")

    def occupied(self, parent: Node, name: str) -> bool:
        """Whether anything at all, served or not (a symbolic link, a socket), has this name on disk."""
        try:
            os.lstat(self.path(parent) / self._spelling_on_disk(parent, name))
        except FileNotFoundError:
            return False
        return True

    def _spelling_on_disk(self, parent: Node, name: str) -> str:
        """`name` (NFC, as every name that storage is given) or, if only that spelling is absent, its decomposed
        (NFD) spelling, the one macOS gives names: so a lookup finds an entry another program made that way, and
        the NFC twin of such an entry is taken. One more lstat at most, never a scan of the directory."""
        decomposed = unicodedata.normalize("NFD", name)
        if decomposed == name:
            return name
        folder = self.path(parent)
        if not os.path.lexists(folder / name) and os.path.lexists(folder / decomposed):
            return decomposed
        return name

    def vanish(self, node: Node) -> None:
        """Forget an item that is gone from disk, with everything under it and its history."""
        self._remove_blobs(self.catalogue.delete_tree(node.id))

    # ---- helpers ----

    def _lstat_node(self, node: Node) -> os.stat_result | None:
        try:
            return os.lstat(self.path(node))
        except (FileNotFoundError, NotADirectoryError, NotFound):
            return None

    def _servable(self, parent: Node, name: str) -> bool:
        """Whether an entry on disk can be an item: not the state directory, and a name the contract allows
        (a name with control characters or invalid UTF-8 could not even travel in a message)."""
        if parent.parent_id is None and name == STATE_DIR_NAME:
            return False
        try:
            validation.name(name, self._capabilities)
        except InvalidArgument:
            return False
        return True

    def refreshed(self, node: Node, st: os.stat_result) -> Node:
        """`node` after comparing it with what the file system says now (`st`, never followed)."""
        if not node.is_file:
            if (node.dev, node.ino) == (st.st_dev, st.st_ino):
                return node
            # Another directory now: its recorded ctime (`listed_folder`) says nothing about this one.
            updated = dataclasses.replace(node, dev=st.st_dev, ino=st.st_ino, mtime_ns=0)
        else:
            seen = Fingerprint.of(st)
            if seen == _last_seen(node):
                return node
            # Changed by another program: a new version whose author and digest we do not know.
            updated = with_new_contents(node, seen, from_us(seen.mtime_ns // 1000), ANONYMOUS, b"")
        self.catalogue.update(updated)
        return updated

    def _adopt(self, parent: Node, name: str, st: os.stat_result) -> Node:
        """Give an entry found on disk a catalogue row: the row of the item it was moved from, or a new one."""
        is_file = stat.S_ISREG(st.st_mode)
        moved = self._moved_from(parent, st, is_file)
        if moved is not None:
            node = dataclasses.replace(moved, parent_id=parent.id, name=name)
            self.catalogue.update(node)
            return self.refreshed(node, st)
        modified = from_us(st.st_mtime_ns // 1000)
        node = Node(new_id(), parent.id, name, is_file, ANONYMOUS, modified, st.st_dev, st.st_ino)
        if is_file:
            node = dataclasses.replace(
                node, size=st.st_size, mtime_ns=st.st_mtime_ns, version=new_version(), modified_at=modified
            )
        self.catalogue.insert(node)
        return node

    def _moved_from(self, parent: Node, st: os.stat_result, is_file: bool) -> Node | None:
        """The catalogued item that this entry found on disk is, moved there by another program; None if new.

        An inode number alone does not tell: a file system reuses a freed number at once (ext4 hands it to the
        very next file created), so a document deleted outside and a new file created before we looked would
        look like one item moved, and the new file would inherit the old one's id, its access tokens and its
        history. A real `mv` (a rename, on one file system) keeps more than the number: the size and the
        modification time to the nanosecond, while a new file gets the time of its own writes. So a file is
        the one it moved from only if its whole fingerprint (dev, inode, size, mtime_ns) is the one recorded
        when we last saw that file; our own writes record the fingerprint of the inode they renamed into place.
        (ctime changes on every rename, and Linux offers no portable birth time or inode generation here.) A
        file both moved and edited before we looked is therefore a new item: a lost id, never a stolen one.

        A directory is matched by (dev, inode) only: its mtime changes whenever an entry in it does, and a
        directory has no history or contents of its own to hand over; its children are matched one by one.
        """
        above = {parent.id, *(ancestor.id for ancestor in self.catalogue.ancestors(parent.id))}
        for candidate in self.catalogue.by_inode(st.st_dev, st.st_ino, is_file):
            if candidate.id in above:
                continue  # a directory cannot have moved inside itself
            if is_file and Fingerprint.of(st) != _last_seen(candidate):
                continue  # the same inode number with other contents: deleted, and the number reused
            there = self._lstat_node(candidate)
            if there is None or (there.st_dev, there.st_ino) != (st.st_dev, st.st_ino):
                return candidate
        return None


def _reached_without_links(directory: Path) -> bool:
    """Whether the path leads to `directory` without following a symbolic link anywhere on the way.

    The kernel resolves the path in one open, and /proc names what it reached: the path itself exactly when no
    link was followed. os.path.realpath tells the same, but it lstat's every level one by one: its cost grows
    with the depth (and each lstat walks the levels above again). realpath remains the answer where /proc is
    not there, or where the path does not lead to a directory (the caller then finds the item gone).
    """
    try:
        fd = os.open(directory, _O_PATH | os.O_DIRECTORY)
    except OSError:
        return os.path.realpath(directory) == str(directory)
    try:
        reached = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        reached = os.path.realpath(directory)
    finally:
        os.close(fd)
    return reached == str(directory)


# Opens a directory to name it, not to read it: no read permission needed (Linux); plain O_RDONLY elsewhere.
_O_PATH = getattr(os, "O_PATH", os.O_RDONLY)


def _last_seen(node: Node) -> Fingerprint:
    """The fingerprint of a file's contents when we last saw (or wrote) them."""
    return Fingerprint(node.dev, node.ino, node.size, node.mtime_ns)


def _kind(st: os.stat_result) -> bool | None:
    """True for a regular file, False for a directory, None for what we never serve (links, sockets...)."""
    if stat.S_ISREG(st.st_mode):
        return True
    if stat.S_ISDIR(st.st_mode):
        return False
    return None
