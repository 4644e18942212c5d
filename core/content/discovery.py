"""Discovery: which datastreams are installed, read once and remembered in a small JSON index.

The index is keyed by absolute path and checked against size and mtime_ns, so unchanged files are
not parsed again. core.content.catalog offers discover() and friends under their old names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, TypeGuard

from core import paths
from core.content.catalog import (
    _DS_NAME,
    CONTENT_DIRS_ENV,
    INDEX_FORMAT,
    SYSTEM_CONTENT_DIRS,
    ContentError,
    Datastream,
    Discovered,
    ProfileInfo,
    Reader,
    read_datastream,
    watched_rules,
)
from core.domain.errors import os_reason
from core.files import write_private
from core.safexml import XmlError

log = logging.getLogger("core.content.catalog")  # the name these warnings always had


def default_content_dirs(data_dir: Path) -> list[Path]:
    """The data dir's content/ (its imports), the user's fetched releases (every data dir sees
    them), then $COMPLIANCE_TUI_CONTENT_DIRS (colon-separated), then the system's; each once."""
    extra = [Path(p).expanduser() for p in os.environ.get(CONTENT_DIRS_ENV, "").split(":") if p]
    dirs = [Path(data_dir) / "content", paths.shared_content_dir(), *extra, *SYSTEM_CONTENT_DIRS]
    return list(dict.fromkeys(dirs))


def default_index_path(data_dir: Path) -> Path:
    return Path(data_dir) / "cache" / "content-index.json"


def _candidates(dirs: Iterable[Path]) -> Iterator[Path]:
    """Datastream files under dirs (recursively, so `dpkg -x` trees work), each file once.

    A `-ds-1.2.xml` twin (SCAP 1.2 copy shipped by SSG 0.1.65) is skipped when the
    `-ds.xml` of the same product sits beside it.
    """
    seen: set[Path] = set()
    for top in dirs:
        if not Path(top).is_dir():
            continue
        for root, subdirs, files in os.walk(top):
            subdirs.sort()
            names = set(files)
            for name in sorted(files):
                match = _DS_NAME.fullmatch(name)
                if match is None:
                    continue
                main = f"ssg-{match['product']}-ds.xml"
                if match["twin"] and (main in names or main + ".bz2" in names):
                    continue
                path = Path(root, name).absolute()
                real = path.resolve()
                if real not in seen:
                    seen.add(real)
                    yield path


def fingerprint(dirs: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every datastream file under dirs: a few milliseconds, so a
    long-running process can tell that content was added, changed or removed since it looked."""
    seen = []
    for path in _candidates(dirs):
        try:
            stat = path.stat()
        except OSError:
            continue
        seen.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(seen)


def _watch_key() -> str:
    """Names the rules the index records per profile: a catalog that watches others reads files again."""
    return hashlib.sha256("\n".join(sorted(watched_rules())).encode()).hexdigest()[:16]


def _load_index(path: Path | None) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8")) if path is not None else {}
    except (OSError, ValueError):
        return {}
    ok = (isinstance(data, dict) and data.get("format") == INDEX_FORMAT and data.get("watch") == _watch_key()
          and isinstance(data.get("files"), dict))
    files: dict[str, dict[str, Any]] = data["files"] if ok else {}  # JSON
    return files


def _save_index(path: Path, files: dict[str, dict[str, Any]]) -> str | None:
    try:
        index = {"format": INDEX_FORMAT, "watch": _watch_key(), "files": files}
        write_private(path, json.dumps(index, sort_keys=True))
    except OSError as exc:
        return f"cannot write the content index {path}: {exc.strerror or exc}"
    return None


def _to_entry(ds: Datastream, stat: os.stat_result) -> dict[str, Any]:
    return {
        "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "product": ds.product,
        "benchmark_id": ds.benchmark_id, "version": ds.version, "sha256": ds.sha256,
        "profiles": {p.id: [p.title, p.rule_count, sorted(p.watched)] for p in ds.profiles.values()},
    }


def _from_entry(path: Path, entry: dict[str, Any]) -> Datastream:
    profiles = {pid: ProfileInfo(pid, str(title), int(count), frozenset(map(str, watched)))
                for pid, (title, count, watched) in entry["profiles"].items()}
    return Datastream(path, str(entry["product"]), str(entry["benchmark_id"]), str(entry["version"]),
                      str(entry["sha256"]), profiles)


def _fresh(entry: object, stat: os.stat_result) -> TypeGuard[dict[str, Any]]:
    return isinstance(entry, dict) and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns


def _entry_for(path: Path, stat: os.stat_result, cached: object, reader: Reader,
               ) -> tuple[dict[str, Any], Datastream | None]:
    """The index entry of one file (cached when size and mtime match) and its datastream."""
    if _fresh(cached, stat):
        if "error" in cached:
            return cached, None
        try:
            return cached, _from_entry(path, cached)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # a malformed entry: read the file again
    try:
        ds = reader(path)
    except (ContentError, XmlError, OSError) as exc:
        error = str(exc) if isinstance(exc, ContentError) else f"{path}: {os_reason(exc)}"
        return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "error": error}, None
    return _to_entry(ds, stat), ds


def discover(dirs: list[Path], index_path: Path | None = None, *, reader: Reader = read_datastream) -> Discovered:
    """Find and read the datastreams under dirs (missing dirs are fine).

    Files that cannot be read are skipped and named in the result's `warnings` (and logged).
    With index_path, what was read is kept there as JSON keyed by absolute path and
    checked against size and mtime_ns: unchanged files are not read again. `reader` is
    the seam that parses one file.
    """
    old = _load_index(index_path)
    new: dict[str, dict[str, Any]] = {}
    found, shas = Discovered(), set()
    for path in _candidates(dirs):
        try:
            stat = path.stat()
        except OSError as exc:
            found.warnings.append(f"skipped {path}: {exc.strerror or exc}")
            continue
        new[str(path)], ds = _entry_for(path, stat, old.get(str(path)), reader)
        if ds is None:
            found.warnings.append(f"skipped {new[str(path)]['error']}")
        elif ds.sha256 not in shas:  # one file in two places (imported and fetched): the first
            shas.add(ds.sha256)
            found.append(ds)
    if index_path is not None:
        merged = {**{k: v for k, v in old.items() if k not in new and Path(k).exists()}, **new}
        if merged != old and (problem := _save_index(Path(index_path), merged)):
            found.warnings.append(problem)
    for warning in found.warnings:
        log.warning("%s", warning)
    return found
