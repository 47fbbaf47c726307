"""How old a directory's ctime must be before a listing trusts it (`Tree.listed_folder`, as "racy git" does).

Two changes to a directory within one tick of its file system's timestamp clock can leave the same ctime, so a
ctime younger than a tick proves nothing. Local Linux file systems with nanosecond timestamps (ext4, xfs,
btrfs, tmpfs...) take them from the kernel's coarse clock, which moves every tick: 1 to 10 ms. Others are
coarser (FAT: 2 s) or take the time from another machine's clock (NFS, SMB, FUSE), which may be behind ours.

The window is chosen once, when the root is opened: FINE_WINDOW_NS (ten of the slowest ticks) when the root's
file system is a local one known for fine timestamps and a file made in it gets a ctime with a sub-second part
(an ext4 formatted with 128-byte inodes keeps whole seconds); COARSE_WINDOW_NS otherwise. A wrong guess only
costs speed: a directory younger than the window is scanned again at its next listing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FINE_WINDOW_NS = 100_000_000
COARSE_WINDOW_NS = 2_000_000_000
FINE_TIMESTAMP_TYPES = frozenset({"ext4", "xfs", "btrfs", "tmpfs", "f2fs", "zfs", "bcachefs", "overlay"})
MOUNTINFO = Path("/proc/self/mountinfo")


def window_ns(root: Path, probe_dir: Path) -> int:
    """The window for the tree at `root` (resolved); `probe_dir` is a writable directory on the same file system
    (the state directory's tmp/), where one empty file is made and removed."""
    try:
        mounts = MOUNTINFO.read_text()
    except OSError:  # not Linux, or no /proc
        return COARSE_WINDOW_NS
    if file_system_type(root, mounts) not in FINE_TIMESTAMP_TYPES:
        return COARSE_WINDOW_NS
    return FINE_WINDOW_NS if _sub_second_ctime(probe_dir) else COARSE_WINDOW_NS


def file_system_type(path: Path, mountinfo: str) -> str | None:
    """The type of the file system that holds `path` (resolved), from the text of /proc/self/mountinfo: that of
    the deepest mount point above it, the last one mounted there if several were."""
    found: tuple[int, str] | None = None
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        try:
            mount_point = _unescape(fields[4])
            fs_type = fields[fields.index("-", 6) + 1]
        except (IndexError, ValueError):
            continue
        if _is_under(path, Path(mount_point)) and (found is None or len(mount_point) >= found[0]):
            found = (len(mount_point), fs_type)
    return None if found is None else found[1]


def _is_under(path: Path, mount_point: Path) -> bool:
    return path == mount_point or mount_point in path.parents


def _unescape(field: str) -> str:
    """mountinfo writes a space, tab, newline and backslash in a path as octal escapes (\\040...)."""
    for escaped, character in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(escaped, character)
    return field


def _sub_second_ctime(probe_dir: Path) -> bool:
    probe = probe_dir / f"timestamp-probe-{secrets.token_hex(8)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            return os.fstat(fd).st_ctime_ns % 1_000_000_000 != 0
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError:
        return False
