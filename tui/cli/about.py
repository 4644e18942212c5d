"""`compliance-tui --version`: this program's version and what it would work with here, the
OpenSCAP on this machine, the content releases found and the store in use."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from importlib import metadata
from pathlib import Path

from core import paths
from core.content import catalog
from core.domain.settings import Settings
from core.domain.store_url import masked


def version() -> str:
    try:
        return metadata.version("compliance-tui")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def oscap() -> str:
    path = shutil.which("oscap")
    if path is None:
        return "not found (install openscap-scanner to scan this machine)"
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        first = (done.stdout.splitlines() or ["?"])[0]
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{path} (its version could not be read: {exc})"
    return f"{first.rsplit(' ', 1)[-1]} ({path})"


def content(data_dir: Path) -> list[str]:
    """One line per SSG release found: its version, how many datastreams and where."""
    found = catalog.discover(catalog.default_content_dirs(data_dir), catalog.default_index_path(data_dir))
    releases: dict[str, set[Path]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for datastream in found:
        releases[datastream.version].add(datastream.path.parent)
        counts[datastream.version] += 1
    return [f"SSG {release}: {counts[release]} datastreams in {', '.join(str(p) for p in sorted(releases[release]))}"
            for release in sorted(releases, key=catalog.version_key)] or ["none found (make content, or content import)"]


def store(data_dir: Path, settings: Settings) -> str:
    if settings.store_url:
        return f"PostgreSQL {masked(settings.store_url)}"
    return f"SQLite {paths.database(data_dir)}"


def report(data_dir: Path, settings: Settings) -> str:
    releases = content(data_dir)
    lines = [f"compliance-tui {version()}", f"OpenSCAP  {oscap()}", f"content   {releases[0]}"]
    lines += [f"          {line}" for line in releases[1:]]
    lines.append(f"store     {store(data_dir, settings)}")
    return "\n".join(lines)
