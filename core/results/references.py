"""Reference systems: which catalogue (NIST 800-53, CIS Controls, a STIG...) a rule's reference names.

A Rule carries `<reference href="URL">ID</reference>` elements and `<ident system="URL">` ones
(CCE). Newer SSG benchmarks name each URL once at the top (`<reference href="URL">nist</reference>`),
older ones do not, and the URLs themselves change between releases (iso.org's moved). So one small
table knows each system by the benchmark's own name first and by a part of its URL otherwise.
Reference texts come from the content (or an imported file): kept as one short plain line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.domain.errors import InvalidInput
from core.domain.text import one_line

_SPACE_BEFORE_PAREN = re.compile(r"\s+\(")
MAX_REF_CHARS = 120  # a control id is a dozen characters; more is not an id
MAX_REFS_PER_RULE = 400  # a real SSG rule carries ~60 references of every system


@dataclass(frozen=True)
class System:
    name: str  # what --by takes and exports record
    title: str  # what a heading says
    content_names: tuple[str, ...]  # what SSG's benchmark calls it
    href_parts: tuple[str, ...]  # a part of the URL, for benchmarks that name none


SYSTEMS: tuple[System, ...] = (
    System("nist-800-53", "NIST SP 800-53", ("nist",), ("NIST.SP.800-53",)),
    System("cis-controls", "CIS Controls", ("cis-csc",), ("cisecurity.org/controls",)),
    System("cis", "CIS Benchmark section", ("cis",), ("cisecurity.org/benchmark",)),
    System("pcidss", "PCI DSS v3.2.1", ("pcidss",), ("PCI_DSS_v3",)),
    System("pcidss4", "PCI DSS v4.0", ("pcidss4",), ("PCI-DSS-v4", "PCI_DSS_v4")),
    System("iso27001", "ISO/IEC 27001:2013", ("iso27001-2013",), ("54534",)),
    System("stigid", "DISA STIG id", ("stigid",), ("_dl_facet_stigs=operating-systems%2Cunix-linux",)),
    System("stigref", "DISA STIG rule id (SV-)", ("stigref",), ("srg-stig-tools",)),
    System("cci", "DISA CCI", ("disa",), ("stigs/cci",)),
    System("os-srg", "DISA OS SRG", ("os-srg",), ("general-purpose-os",)),
    System("nist-800-171", "NIST SP 800-171", ("cui",), ("NIST.SP.800-171",)),
    System("nist-csf", "NIST Cybersecurity Framework", ("nist-csf",), ("NIST.CSWP.04162018",)),
    System("hipaa", "HIPAA", ("hipaa",), ("CFR-2007-title45",)),
    System("cce", "CCE", (), ()),  # from <ident system="...cce...">
)
BY_NAME = {s.name: s for s in SYSTEMS}
_BY_CONTENT_NAME = {n: s for s in SYSTEMS for n in s.content_names}
CHOICES = tuple(s.name for s in SYSTEMS)


def system_named(name: str) -> System:
    """The system --by names: ours (nist-800-53) or the content's own (nist); a clear error otherwise."""
    key = name.strip().lower()
    found = BY_NAME.get(key) or _BY_CONTENT_NAME.get(key)
    if found is None:
        raise InvalidInput(f"unknown reference system {name!r}: use one of {', '.join(CHOICES)}")
    return found


def system_of(href: str, benchmark_names: dict[str, str]) -> str | None:
    """Our name for a reference's system: by the benchmark's name for its URL, else by the URL."""
    named = _BY_CONTENT_NAME.get(benchmark_names.get(href, ""))
    if named is not None:
        return named.name
    for system in SYSTEMS:
        if any(part in href for part in system.href_parts):
            return system.name
    return None


def ident_system(system_url: str) -> str | None:
    return "cce" if "cce" in system_url.lower() else None


def clean_ref(text: str) -> str:
    """A reference id as one short plain line ('' when there is none). A space before a
    parenthesis goes: SSG writes both AC-6(1) and AC-6 (1) for one control."""
    return _SPACE_BEFORE_PAREN.sub("(", one_line(text, MAX_REF_CHARS))
