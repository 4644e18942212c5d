"""Private files: every file this app writes is 0600, in 0700 directories, and appears whole.

Reports, exports, evidence, copies and caches hold a fleet's weaknesses, and the app often runs
as root on a shared jump host. So each write goes to a temporary file made with O_EXCL
(mkstemp) in the target's own directory, mode 0600, then os.replace()s the target: a symlink
or file a local user planted under a predictable name is replaced, never followed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

FILE_MODE, DIR_MODE = 0o600, 0o700


def private_dir(path: Path) -> Path:
    """Create the directory (and missing parents) 0700; an existing one is left as it is."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A binary stream that replaces path with what was written, at once and only on success."""
    path = Path(path).expanduser()
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp: O_EXCL, 0600
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes | str) -> Path:
    """Write bytes (or UTF-8 text) so readers see the old file or the whole new one."""
    with private_file(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path).expanduser()


def copy_private(source: Path, target: Path, chunk: int = 1 << 20) -> Path:
    with open(source, "rb") as src, private_file(target) as dst:
        while block := src.read(chunk):
            dst.write(block)
    return Path(target)


def append_private(path: Path, text: str) -> Path:
    """Append to a log file (crash.log): never through a symlink, always 0600."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, FILE_MODE)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        if info.st_mode & 0o077:
            os.fchmod(fd, FILE_MODE)
        os.write(fd, text.encode("utf-8", "replace"))
    finally:
        os.close(fd)
    return Path(path)


def secure_tree(base: Path, deep: bool = False) -> list[str]:
    """Make base 0700 and what it holds private; returns one line per thing fixed.

    The quick check (every start) covers base, the files in it (the database and its -wal and
    -shm) and its directories; deep also walks every file below (after an older version left
    0644 files, or when anything at the top was open). Symlinks are never followed or changed.
    """
    base = Path(base)
    fixed: list[str] = []
    if not base.is_dir() or base.is_symlink():
        return fixed
    _fix(base, DIR_MODE, fixed)
    if deep:
        for root, dirs, files in os.walk(base):
            for name in dirs:
                _fix(Path(root) / name, DIR_MODE, fixed)
            for name in files:
                _fix(Path(root) / name, FILE_MODE, fixed)
        return fixed
    with os.scandir(base) as entries:
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                _fix(Path(entry.path), DIR_MODE, fixed)
                with os.scandir(entry.path) as inner:  # e.g. content/<suite>, cache/derived
                    for child in inner:
                        if child.is_dir(follow_symlinks=False):
                            _fix(Path(child.path), DIR_MODE, fixed)
            elif entry.is_file():
                _fix(Path(entry.path), FILE_MODE, fixed)
    return fixed


def _fix(path: Path, mode: int, fixed: list[str]) -> None:
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode) or not info.st_mode & 0o077:
            return
        os.chmod(path, mode)
        fixed.append(f"{path}: {stat.filemode(info.st_mode)} -> {stat.filemode(stat.S_IFMT(info.st_mode) | mode)}")
    except OSError:
        pass  # gone meanwhile, or not ours: nothing to fix here
