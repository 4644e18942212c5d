"""What OS a host runs (from /etc/os-release) and how oscap gets onto it."""

from __future__ import annotations

import re

from core.domain.models import OsInfo

_FAMILIES = {
    "debian": "debian", "ubuntu": "debian",
    "rhel": "rhel", "centos": "rhel", "fedora": "rhel", "almalinux": "rhel",
    "rocky": "rhel", "ol": "rhel", "amzn": "rhel",
    "sles": "suse", "suse": "suse", "opensuse": "suse",
}
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _unquote(raw: str) -> str:
    """One os-release value, with shell-style quotes and escapes as os-release(5) allows.

    Inside double quotes a backslash escapes only $ " \\ and `; outside quotes it escapes
    any character; single quotes take everything literally. An unbalanced quote is closed
    at the end of the line.
    """
    out: list[str] = []
    quote = None
    chars = iter(raw.strip())
    for char in chars:
        if char == "\\" and quote != "'":
            nxt = next(chars, "")
            out.append(nxt if quote is None or nxt in '$"\\`' else char + nxt)
        elif quote is None and char in "\"'":
            quote = char
        elif char == quote:
            quote = None
        else:
            out.append(char)
    return "".join(out)


def _fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        if _KEY.match(key):
            fields[key] = _unquote(raw)
    return fields


def _family(os_id: str, id_like: str) -> str:
    for word in [os_id, *id_like.lower().split()]:
        if word in _FAMILIES:
            return _FAMILIES[word]
        if word.startswith("opensuse"):
            return "suse"
    return os_id


def parse_os_release(text: str) -> OsInfo:
    """Parse /etc/os-release text. Raises ValueError when it has no ID."""
    fields = _fields(text)
    os_id = fields.get("ID", "").strip().lower()
    if not os_id:
        raise ValueError("not an os-release file: it has no ID= line (read /etc/os-release or /usr/lib/os-release)")
    version = fields.get("VERSION_ID", "").strip()
    pretty = fields.get("PRETTY_NAME", "").strip()
    if not pretty:
        pretty = " ".join(p for p in (fields.get("NAME", "").strip(), fields.get("VERSION", "").strip()) if p)
    return OsInfo(id=os_id, version=version, pretty_name=pretty or os_id,
                  family=_family(os_id, fields.get("ID_LIKE", "")))


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


def oscap_package(os: OsInfo) -> str:
    """The package that provides /usr/bin/oscap on that OS.

    Ubuntu up to 22.04 (OpenSCAP 1.2.x) and Debian up to 10 ship it in
    libopenscap8; later releases split it out as openscap-scanner. SUSE ships it
    in openscap-utils.
    """
    if os.id == "ubuntu" and _version_tuple(os.version) < (24, 4):
        return "libopenscap8"
    if os.id == "debian" and os.major.isdigit() and int(os.major) <= 10:
        return "libopenscap8"
    if os.family == "suse":
        return "openscap-utils"
    return "openscap-scanner"


def install_hint(os: OsInfo) -> str:
    """A one-line command (or advice) that installs oscap on that OS."""
    package = oscap_package(os)
    if os.id == "debian" and os.major == "11":
        return ("openscap is not in Debian 11 (bullseye)'s archive (its CIS content, derived from Debian 12's, "
                "is here, but the host needs an oscap): install one built for bullseye, or upgrade to "
                "Debian 12 and run sudo apt-get install openscap-scanner")
    if os.family == "debian":
        return f"sudo apt-get install {package}"
    if os.family == "rhel":
        old = (os.id == "amzn" and os.major == "2") or os.major in ("6", "7")
        return f"sudo {'yum' if old else 'dnf'} install {package}"
    if os.family == "suse":
        return f"sudo zypper install {package}"
    return f"install the package that provides oscap ({package}) with {os.pretty_name or os.id}'s package manager"
