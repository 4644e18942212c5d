"""Which compliance framework a profile belongs to (CIS, DISA STIG, PCI-DSS, ANSSI, ...).

SCAP Security Guide names its profiles by framework (…_profile_stig, …_profile_pci-dss,
…_profile_anssi_bp28_high), so the profile's name says it; a profile named otherwise (imported
content) is placed by its title. The table's order is the order the pickers show frameworks in:
CIS first, the product's default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True, order=True)
class Framework:
    rank: int  # its place in the pickers: CIS first, "Other" last
    key: str  # stable, for JSON: "cis", "stig", "pci-dss"
    label: str  # for people: "CIS", "DISA STIG"


# (patterns on the profile's name, the part after "_profile_", lowercased; title words; key, label)
_TABLE: tuple[tuple[tuple[str, ...], tuple[str, ...], str, str], ...] = (
    (("cis", "cis_*", "cis-*"), ("cis",), "cis", "CIS"),
    (("stig", "stig_*", "*-stig", "*_stig"), ("stig", "security technical implementation guide"),
     "stig", "DISA STIG"),
    (("pci-dss*", "pci_dss*"), ("pci-dss", "pci dss"), "pci-dss", "PCI-DSS"),
    (("hipaa",), ("hipaa",), "hipaa", "HIPAA"),
    (("anssi_bp28_*", "anssi_nt28_*"), ("anssi-bp-028", "anssi bp-028"), "anssi-bp28", "ANSSI BP-028"),
    (("anssi_np_nt28_*",), ("dat-nt28",), "anssi-nt28", "ANSSI NT28"),
    (("ospp",), ("ospp", "protection profile for general purpose"), "ospp", "OSPP"),
    (("cui",), ("800-171",), "cui", "NIST 800-171 (CUI)"),
    (("e8",), ("essential eight",), "e8", "ACSC Essential Eight"),
    (("ism_o*",), ("acsc ism",), "ism", "ACSC ISM"),
    (("cjis",), ("cjis",), "cjis", "CJIS"),
    (("ccn_*",), ("ccn-stic", "criptológico"), "ccn", "CCN-STIC"),
    (("bsi",), ("bsi",), "bsi", "BSI"),
    (("high", "moderate", "low", "high-node", "moderate-node"), ("800-53",), "nist-800-53", "NIST 800-53"),
    (("ncp",), ("national checklist program",), "ncp", "NIST NCP"),
    (("nerc-cip*",), ("nerc",), "nerc-cip", "NERC CIP"),
    (("c2s",), ("c2s",), "c2s", "C2S"),
    (("rht-ccp",), ("certified cloud providers",), "rht-ccp", "Red Hat CCP"),
    (("*vpp",), ("protection profile for virtualization",), "vpp", "VPP"),
    (("sap",), ("for sap",), "sap", "SAP"),
    (("pcs-hardening*",), ("public cloud hardening",), "pcs", "Public Cloud Hardening"),
    (("standard",), ("standard system security profile",), "standard", "Standard"),
)
FRAMEWORKS = tuple(Framework(rank, key, label) for rank, (_n, _t, key, label) in enumerate(_TABLE))
OTHER = Framework(len(_TABLE), "other", "Other")
_PROFILE_NAME = re.compile(r"_profile_(?P<name>.+)$")


def profile_name(profile_id: str) -> str:
    """'stig' for xccdf_org.ssgproject.content_profile_stig (a short name stays as it is)."""
    match = _PROFILE_NAME.search(profile_id)
    return match["name"] if match else profile_id


def framework_of(profile_id: str, title: str = "") -> Framework:
    """The framework of a profile: by its name when SSG's naming says it, else by its title."""
    name = profile_name(profile_id).lower()
    if name.startswith("cis-level"):  # our own short names: cis-level1-server, cis-level2-server
        return FRAMEWORKS[0]
    for framework, (names, _words, _key, _label) in zip(FRAMEWORKS, _TABLE):
        if any(fnmatchcase(name, pattern) for pattern in names):
            return framework
    words = " ".join(title.lower().split())
    for framework, (_names, title_words, _key, _label) in zip(FRAMEWORKS, _TABLE):
        if any(re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", words) for word in title_words):
            return framework
    return OTHER
