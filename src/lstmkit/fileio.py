"""Files that survive a crash: written to a temporary file beside the target, flushed to disk, then
renamed into place. A crash at any point leaves the old file or the new one, never a torn one.

Every place lstmkit writes to is made here: missing parent folders are created, and a place that cannot be
written (read-only, immutable, a file where a folder should be, a directory where a file should be) is one
`WriteError` naming it, raised before the work that would fill it where the caller checks with `file_to_write`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Callable

from .errors import LstmkitError, WriteError


def atomic_write(path, write: Callable[[object], None], mode: str = "wb") -> None:
    """Call write(file) on a temporary file beside `path`, fsync it, and rename it over `path`."""
    path = Path(path)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; run files are meant to be shared
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        interrupt = _interrupt_behind(error)
        if interrupt is not None and interrupt is not error:
            raise interrupt from None  # a Ctrl-C, whatever the writer's cleanup raised as it cut the write short
        if isinstance(error, OSError) and not isinstance(error, LstmkitError):  # a full disk, a directory there
            raise cannot_write(path, error) from None
        raise
    _fsync_dir(path.parent)


def _interrupt_behind(error: BaseException):
    """The KeyboardInterrupt that `error` is, or was raised while handling, if any. A Ctrl-C inside
    `torch.save` makes its zip writer's closing raise a RuntimeError ("unexpected pos") in about a third of
    cases, which would otherwise leave a traceback where the command says it was interrupted."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return error
        seen.add(id(error))
        error = error.__context__
    return None


def atomic_write_text(path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text), mode="w")


def make_folder(folder, for_path=None) -> Path:
    """`folder` and its missing parents, created; a WriteError naming `for_path` (else the folder) when that
    cannot be done."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise cannot_write(for_path or folder, error) from None
    return folder


def file_to_write(path, example: str) -> Path:
    """`path` checked as a file lstmkit can write, before the work that produces it: its missing folders made,
    and a WriteError for a directory (suggesting `example` as a name inside it) or a folder that takes no file."""
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"{path}: is a directory; give a file name such as {path / example}")
    fd, probe = _temporary_beside(path)  # the one sure test of a folder (read-only mounts, immutable, root)
    os.close(fd)
    os.unlink(probe)
    return path


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in `path`'s folder (made if missing), open: (descriptor, its path)."""
    make_folder(path.parent, path)
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise cannot_write(path, error) from None


def cannot_write(path, error: OSError) -> WriteError:
    """The one line for a place the system refused to write; names a file that stands where a folder should."""
    path = Path(path)
    in_the_way = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if in_the_way is not None and in_the_way != path:
        return WriteError(f"{path}: cannot be written: {in_the_way} is a file, not a folder")
    reason = error.strerror or str(error) or type(error).__name__
    return WriteError(f"{path}: cannot be written ({reason}); choose a place you can write to")


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - some platforms cannot open directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(path: Path):
    """Hold an exclusive lock on the file `path` (made if needed) between processes; the system releases it
    when its holder dies, so a killed process never leaves it taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
