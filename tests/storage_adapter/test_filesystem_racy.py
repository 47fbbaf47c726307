"""The racy window of the filesystem backend's listings (filesystem/racy.py): fine (100 ms) only on a local file
system known for nanosecond timestamps whose files really get sub-second ctimes, 2 s on anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage_adapter.backends.filesystem import racy

MOUNTINFO = """\
22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
25 22 0:21 / /proc rw,nosuid shared:12 - proc proc rw
30 22 0:25 / /srv/documents rw shared:14 - nfs4 server:/export rw,vers=4.2
31 30 0:26 / /srv/documents/local rw shared:15 - xfs /dev/vdb rw
40 22 0:30 / /mnt/usb\\040stick rw shared:20 - vfat /dev/sdb1 rw
41 22 0:31 / /mnt/over rw shared:21 - tmpfs tmpfs rw
42 22 0:32 / /mnt/over rw shared:22 - fuse.sshfs host:/ rw
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "ext4"),
        ("/home/user/documents", "ext4"),
        ("/srv/documents", "nfs4"),
        ("/srv/documents/team", "nfs4"),
        ("/srv/documents/local/team", "xfs"),  # the deepest mount point above
        ("/srv/documentsX", "ext4"),  # a prefix of the name is not a parent
        ("/mnt/usb stick/files", "vfat"),  # mountinfo's octal escapes
        ("/mnt/over/files", "fuse.sshfs"),  # mounted over the tmpfs: the last one there is what is seen
    ],
)
def test_the_file_system_of_a_path_is_that_of_the_deepest_mount_above_it(path: str, expected: str) -> None:
    assert racy.file_system_type(Path(path), MOUNTINFO) == expected


@pytest.mark.parametrize(
    ("fs_type", "sub_second", "window"),
    [
        ("ext4", True, racy.FINE_WINDOW_NS),
        ("ext4", False, racy.COARSE_WINDOW_NS),  # an ext4 whose inodes keep whole seconds
        ("vfat", True, racy.COARSE_WINDOW_NS),
        ("nfs4", True, racy.COARSE_WINDOW_NS),  # another machine's clock
    ],
)
def test_the_window_is_fine_only_for_a_local_fine_grained_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fs_type: str, sub_second: bool, window: int
) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"22 1 252:0 / / rw shared:1 - {fs_type} /dev/vda rw\n")
    monkeypatch.setattr(racy, "MOUNTINFO", mountinfo)
    monkeypatch.setattr(racy, "_sub_second_ctime", lambda probe_dir: sub_second)
    assert racy.window_ns(tmp_path, tmp_path) == window


def test_without_mountinfo_the_window_is_coarse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(racy, "MOUNTINFO", tmp_path / "missing")
    assert racy.window_ns(tmp_path, tmp_path) == racy.COARSE_WINDOW_NS


def test_the_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    racy._sub_second_ctime(tmp_path)
    assert list(tmp_path.iterdir()) == []
