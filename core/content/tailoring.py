"""XCCDF tailoring files: rules switched off and values changed on top of a profile.

A tailoring file defines profiles that extend the benchmark's; oscap runs the one
that extends the profile we resolved, with --tailoring-file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from core import paths
from core.content import values
from core.domain.errors import InvalidInput
from core.files import copy_private, private_dir
from core.safexml import XmlError, iterparse, local_name

XCCDF_12 = "http://checklists.nist.gov/xccdf/1.2"
NAME_SUFFIX = ".tailoring.xml"
MAX_TAILORING_BYTES = 16 << 20  # real ones are a few KB; this file is parsed whole and uploaded


@dataclass(frozen=True)
class Tailoring:
    path: Path
    name: str  # the file name the operator gave
    sha256: str
    profiles: dict[str, str | None]  # tailored profile id -> the profile it extends

    def profile_for(self, base_profile_id: str) -> str:
        """The tailored profile to run instead of base_profile_id."""
        matches = [pid for pid, extends in self.profiles.items() if extends == base_profile_id]
        if len(matches) == 1:
            return matches[0]
        listed = ", ".join(f"{p} (extends {e})" for p, e in self.profiles.items())
        if not matches:
            raise InvalidInput(f"tailoring {self.name} has no profile extending {base_profile_id}; "
                               f"it has: {listed}")
        raise InvalidInput(f"tailoring {self.name} has several profiles extending {base_profile_id}")


def read_tailoring(path: Path, name: str | None = None) -> Tailoring:
    """Check that a file is an XCCDF 1.2 Tailoring and list its profiles. Every value it sets
    is held to the rules of core/content/values.py here already (when it is given, and when a
    scan starts); the fixes check it again against the Value's declared type."""
    if not path.is_file():
        raise InvalidInput(f"tailoring file {path} does not exist")
    if path.stat().st_size > MAX_TAILORING_BYTES:
        raise InvalidInput(f"{path.name} is larger than any tailoring file ({MAX_TAILORING_BYTES >> 20} MiB); "
                           "refusing it")
    profiles: dict[str, str | None] = {}
    root = None
    try:
        for event, element in iterparse(path, events=("start", "end"), limit=MAX_TAILORING_BYTES):
            if root is None:
                root = element
                if etree.QName(element).text != f"{{{XCCDF_12}}}Tailoring":
                    raise InvalidInput(f"{path.name} is not an XCCDF 1.2 tailoring file")
            elif event == "start" and local_name(element) == "Profile" and element.get("id"):
                profiles[element.get("id")] = element.get("extends")
            elif event == "end" and local_name(element) == "set-value":
                values.check(None, element.get("idref") or "?", "".join(element.itertext()),
                             f"tailoring {name or path.name}")
    except XmlError as exc:
        raise InvalidInput(f"{path.name}: {exc}") from None
    if root is None or not profiles:
        raise InvalidInput(f"{path.name}: the tailoring defines no profile")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Tailoring(path, name or path.name, digest, profiles)


def keep_copy(data_dir: Path, source: Path) -> Tailoring:
    """Validate the file, then keep our own copy so a moved original cannot break scans."""
    tailoring = read_tailoring(source)
    directory = private_dir(paths.tailoring_dir(data_dir))
    target = directory / f"{tailoring.sha256[:16]}-{source.name}"
    if not target.name.endswith(".xml"):
        target = target.with_name(target.name + NAME_SUFFIX)
    copy_private(source, target)
    return read_tailoring(target, source.name)


def original_name(kept: Path) -> str:
    """The operator's file name of a copy made by keep_copy."""
    return kept.name.split("-", 1)[1].removesuffix(NAME_SUFFIX) if "-" in kept.name else kept.name
