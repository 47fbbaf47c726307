"""Where `wopi-host run` serves, left for `wopi-host token` to find: `<secrets dir>/run.json`.

`run --port 9000 --storage-port 9001` would otherwise leave `token` guessing the defaults (a `wopi_src` on port
8080, files created through port 50051). The file holds no secret, only the public URL, the storage target and
the process id of `run` (mode 600 all the same, beside the secrets). `run` writes it once storage answers and
removes it when it stops; a file left by a `run` that was killed is recognised by its dead process and ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "run.json"


@dataclass(frozen=True)
class RunState:
    public_url: str
    storage_target: str
    pid: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user holds that id: not ours, but alive
    return True


def write(directory: Path, public_url: str, storage_target: str) -> Path:
    """Records this process as the running `run` (replacing any earlier record atomically)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / FILE_NAME
    partial = directory / f".{FILE_NAME}.{os.getpid()}"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump({"public_url": public_url, "storage_target": storage_target, "pid": os.getpid()}, out)
    os.replace(partial, path)
    return path


def remove(path: Path) -> None:
    """Removes the record if it is still this process's (another `run` may have started since)."""
    state = _load(path)
    if state is not None and state.pid == os.getpid():
        path.unlink(missing_ok=True)


def _load(path: Path) -> RunState | None:
    try:
        data = json.loads(path.read_text())
        return RunState(str(data["public_url"]), str(data["storage_target"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read(directory: Path) -> RunState | None:
    """The `run` serving with this secrets folder, if one is running."""
    state = _load(directory / FILE_NAME)
    return state if state is not None and _alive(state.pid) else None
