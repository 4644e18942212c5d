"""Content the operator manages: import datastreams, and what the catalog can serve.

Imported datastreams go to <data dir>/content/imported-<release>/, where discovery
finds them next to the system's and the newer Debian suites'.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.content import catalog as content
from core.content.frameworks import Framework
from core.domain.errors import InvalidInput
from core.domain.models import OsInfo
from core.files import copy_private, private_dir

MAX_DATASTREAM_BYTES = 512 << 20  # the largest SSG datastream is ~30 MB; more is not content


@dataclass(frozen=True)
class Imported:
    datastream: content.Datastream
    path: Path  # where it was copied to


def import_content(data_dir: Path, source: Path) -> list[Imported]:
    """Copy the datastreams of a directory or a ComplianceAsCode release zip into the data dir."""
    if not source.exists():
        raise InvalidInput(f"{source}: no such file or directory")
    with tempfile.TemporaryDirectory() as scratch:
        if source.is_dir():
            candidates = [p for p in source.rglob("ssg-*-ds.xml*") if p.is_file()]
        elif zipfile.is_zipfile(source):
            candidates = _unzip_datastreams(source, Path(scratch))
        else:
            raise InvalidInput(f"{source}: give a directory of datastreams or a release .zip")
        found = [_read(p) for p in candidates if content.product_of(p)]
        if not found:
            raise InvalidInput(f"{source}: holds no SCAP Security Guide datastream (ssg-<product>-ds.xml)")
        return [_keep(data_dir, ds) for ds in found]


def _unzip_datastreams(archive: Path, scratch: Path) -> list[Path]:
    """Extract only datastream members, under our own names: no path from the zip is trusted."""
    extracted: list[Path] = []
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            name = Path(member.filename).name
            if member.is_dir() or not content.product_of(Path(name)):
                continue
            if member.file_size > MAX_DATASTREAM_BYTES:
                raise InvalidInput(f"{archive.name}: {name} is too large to be a datastream")
            target = scratch / f"{len(extracted)}" / name
            target.parent.mkdir()
            with bundle.open(member) as data, open(target, "wb") as out:
                shutil.copyfileobj(data, out)
            extracted.append(target)
    return extracted


def _read(path: Path) -> content.Datastream:
    try:
        return content.read_datastream(path)
    except content.ContentError as exc:
        raise InvalidInput(f"not imported: {exc}") from None


def _keep(data_dir: Path, datastream: content.Datastream) -> Imported:
    directory = private_dir(Path(data_dir) / "content" / f"imported-{datastream.version or 'unknown'}")
    target = directory / datastream.path.name
    copy_private(datastream.path, target)
    return Imported(datastream, target)


@dataclass(frozen=True)
class Coverage:
    """One row of the OS table: what each CIS profile resolves to, or why not."""

    label: str
    profiles: dict[str, content.ProfileChoice | str]  # short name -> choice, or the reason
    beyond_spec: bool = False  # a release the spec's table does not list (shown after its rows)
    every: tuple[content.ProfileChoice, ...] = ()  # every profile offered, by framework (every_profile)

    @property
    def frameworks(self) -> dict[Framework, list[content.ProfileChoice]]:
        return content.by_framework(self.every)

    @property
    def missing_content(self) -> bool:
        """Content for it exists somewhere (a package, a release zip), just not here."""
        entry = next(e for e in content.load_catalog() if e.label == self.label)
        return not entry.reason and any(isinstance(c, str) for c in self.profiles.values())

    @property
    def switched_off(self) -> tuple[tuple[str, str], ...]:
        """(rule id, reason) of the rules the derived profiles leave out, each once."""
        seen: dict[str, str] = {}
        for choice in self.profiles.values():
            if not isinstance(choice, str):
                seen.update(choice.switched_off)
        return tuple(seen.items())


def coverage(datastreams: list[content.Datastream]) -> list[Coverage]:
    """Every row of the catalog, the spec's rows first, then the releases beyond it."""
    rows = []
    for entry in sorted(content.load_catalog(), key=lambda e: e.beyond_spec):  # stable: catalog order within
        os_info = OsInfo(entry.os_id, entry.version, entry.label, "")
        profiles: dict[str, content.ProfileChoice | str] = {}
        for short_name in content.SHORT_NAMES:
            try:
                profiles[short_name] = content.resolve_profile(os_info, short_name, datastreams)
            except content.ContentError as exc:
                profiles[short_name] = str(exc)
        rows.append(Coverage(entry.label, profiles, entry.beyond_spec,
                             tuple(content.every_profile(os_info, datastreams))))
    return rows
