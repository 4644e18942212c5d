"""SCAP content: find datastreams, read their profiles, pick the profile for a host's OS.

The catalog (scap_content/catalog.toml) says where each OS's CIS profiles should be;
discovery says what is really installed. A profile is offered only when a discovered
datastream contains it, and when several releases of one product sit side by side the
newest one that has the profile wins. An OS without CIS content of its own (a rebuild of RHEL,
Debian 11, Amazon Linux 2) is served by the content of the OS it comes from, derived for it
(core/content/derive.py), with the rules that cannot apply to it switched off.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from core.content.benchmark import read_benchmark
from core.content.frameworks import Framework, framework_of
from core.domain.errors import InvalidInput, OperatorError, os_reason
from core.domain.models import OsInfo
from core.safexml import XmlError

SHORT_NAMES = ("cis-level1-server", "cis-level2-server")
SHORT_NAME_TITLES = {"cis-level1-server": "CIS Level 1 Server", "cis-level2-server": "CIS Level 2 Server"}
SYSTEM_CONTENT_DIRS = (Path("/usr/share/xml/scap/ssg/content"), Path("/usr/share/scap-security-guide"))
CONTENT_DIRS_ENV = "COMPLIANCE_TUI_CONTENT_DIRS"
IMPORT_HINT = "`compliance-tui content import PATH`"
INDEX_FORMAT = 2  # 2: profiles also name the selected rules that a derivation may switch off
RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"

_DS_NAME = re.compile(r"^ssg-(?P<product>[A-Za-z0-9_.+-]+?)-ds(?P<twin>-1\.2)?\.xml(?:\.bz2)?$")
_PROFILE_ID = re.compile(r"^xccdf_[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+_profile_[A-Za-z0-9_.-]+$")


class ContentError(OperatorError):
    """Content is missing, unreadable or does not fit the host (one line, says what to do)."""


class OsNotDetected(ContentError):
    """The host's OS is unknown. Catch it and raise OsNotDetected(host.name) to name the host."""

    def __init__(self, host: str | None = None):
        self.host = host
        who = f"host {host}" if host else "this host"
        super().__init__(f"OS of {who} is not detected yet: run `compliance-tui hosts detect {host or 'NAME'}`")


@dataclass(frozen=True)
class ProfileInfo:
    id: str
    title: str
    rule_count: int  # rules the profile selects
    watched: frozenset[str] = frozenset()  # of those, the ones some derivation switches off


@dataclass(frozen=True)
class Datastream:
    path: Path
    product: str  # from the file name: ssg-<product>-ds.xml
    benchmark_id: str
    version: str  # the Benchmark's <version>: the SSG release, e.g. "0.1.65"
    sha256: str  # of the file as stored (compressed if it is .bz2)
    profiles: dict[str, ProfileInfo] = field(hash=False)
    derived_from: str | None = None  # "RHEL 9" when core/content/derive.py made it from RHEL 9 content

    @property
    def derived_label(self) -> str | None:
        return f"derived from {self.derived_from} content" if self.derived_from else None


@dataclass(frozen=True)
class CatalogEntry:
    os_id: str
    version: str  # VERSION_ID, or its major version for RHEL-like systems
    label: str
    product: str | None = None
    datastream: str | None = None
    package: str | None = None  # the Debian package that carries the datastream
    min_ssg: str | None = None  # first SSG release with the CIS profiles
    dropped_in: str | None = None  # first SSG release without the product
    derived_from: str | None = None  # the product whose CIS content is derived for this OS
    cpe: str | None = None  # the OS's own CPE, added as a platform of the derived content
    switch_off: tuple[str, ...] = ()  # names of the catalog's [switch_off.*] groups
    beyond_spec: bool = False  # a row the spec's table does not list
    reason: str | None = None  # set when no content serves this OS honestly
    profiles: Mapping[str, str] = field(default_factory=dict, hash=False)  # short name -> xccdf id

    def matches(self, os: OsInfo) -> bool:
        return os.id == self.os_id and self.version in (os.version, os.major)


@dataclass(frozen=True)
class Derivative:
    """An OS served by another's content, which core/content/derive.py widens to accept it."""

    key: str  # names the derived file: "rocky9"
    os_id: str  # ID= in /etc/os-release
    major: str  # VERSION_ID's major version
    label: str  # "Rocky Linux 9"
    cpe: str  # its own CPE: "cpe:/o:rocky:rocky:9"
    source: str  # label of the OS whose content is derived: "RHEL 9"
    source_product: str  # "rhel9"
    off: tuple[tuple[str, str], ...] = ()  # (full rule id, why it cannot apply here), rules switched off

    def profile(self, info: ProfileInfo) -> ProfileInfo:
        """What a source profile becomes once derived: without the rules switched off here."""
        gone = {rule for rule, _ in self.off} & info.watched
        return replace(info, rule_count=info.rule_count - len(gone), watched=info.watched - gone)


@dataclass(frozen=True)
class ProfileChoice:
    short_name: str | None
    profile_id: str
    title: str
    rule_count: int
    datastream: Datastream  # for a derivative: the source until derive.materialize() builds it
    derivative: Derivative | None = None
    switched_off: tuple[tuple[str, str], ...] = ()  # (rule id, reason): left out of this derived profile

    @property
    def framework(self) -> Framework:
        return framework_of(self.profile_id, self.title)

    @property
    def needs_derivation(self) -> bool:
        return self.derivative is not None and self.datastream.derived_from is None

    @property
    def derived_from(self) -> str | None:
        return self.derivative.source if self.derivative else None

    @property
    def derived_label(self) -> str | None:
        return f"derived from {self.derived_from} content" if self.derived_from else None


class Discovered(list[Datastream]):
    """What discover() returns: the datastreams, plus warnings about files it skipped."""

    def __init__(self, items: Iterable[Datastream] = (), warnings: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.warnings: list[str] = list(warnings)


Reader = Callable[[Path], Datastream]


# --- reading one datastream -------------------------------------------------------------

def product_of(path: Path) -> str | None:
    match = _DS_NAME.fullmatch(Path(path).name)
    return match["product"] if match else None


def version_key(version: str) -> tuple[int, ...]:
    """Compare SSG releases numerically: 0.1.100 is newer than 0.1.99."""
    return tuple(int(n) for n in re.findall(r"\d+", version))


def read_datastream(path: Path) -> Datastream:
    """Read one datastream file (plain or bz2). Raises ContentError when it is unusable."""
    path = Path(path)
    product = product_of(path)
    if product is None:
        raise ContentError(f"{path.name}: not a datastream file name (ssg-<product>-ds.xml)")
    try:
        benchmark, version, raw = read_benchmark(path, watched_rules())
        profiles = {pid: ProfileInfo(pid, title, count, frozenset(watched))
                    for pid, (title, count, watched) in raw.items()}
        with open(path, "rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
    except XmlError as exc:
        raise ContentError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ContentError(f"{path}: cannot read it: {os_reason(exc)}") from None
    return Datastream(path, product, benchmark, version, digest, profiles)


# --- discovery (core/content/discovery.py), under the names callers know ---------------------

def default_content_dirs(data_dir: Path) -> list[Path]:
    """The data dir's content/, the user's fetched releases, $COMPLIANCE_TUI_CONTENT_DIRS, the system's."""
    from core.content import discovery  # imported here: discovery builds on this module
    return discovery.default_content_dirs(data_dir)


def default_index_path(data_dir: Path) -> Path:
    from core.content import discovery
    return discovery.default_index_path(data_dir)


def discover(dirs: list[Path], index_path: Path | None = None, *, reader: Reader | None = None) -> Discovered:
    """Find and read the datastreams under dirs; see core.content.discovery.discover."""
    from core.content import discovery
    return discovery.discover(dirs, index_path, reader=reader or read_datastream)


# --- the catalog ----------------------------------------------------------------------------

def _make_entry(raw: dict[str, Any], groups: Mapping[str, tuple[tuple[str, ...], str]] = MappingProxyType({}),
                ) -> CatalogEntry:
    known = {f.name for f in fields(CatalogEntry)} - {"os_id"}
    label = raw.get("label", raw.get("id", "?"))
    unknown = set(raw) - known - {"id"}
    if unknown or "id" not in raw or "version" not in raw or "label" not in raw:
        raise ContentError(f"catalog.toml: entry {label}: needs id, version, label; unknown keys {sorted(unknown)}")
    values = {k: v for k, v in raw.items() if k in known}
    values["profiles"] = MappingProxyType(dict(raw.get("profiles", {})))
    values["switch_off"] = tuple(raw.get("switch_off", ()))
    if missing := [name for name in values["switch_off"] if name not in groups]:
        raise ContentError(f"catalog.toml: entry {label}: no [switch_off.{missing[0]}] group")
    entry = CatalogEntry(os_id=raw["id"], **values)
    usable = entry.product and entry.datastream and entry.package and entry.min_ssg
    own = usable and set(entry.profiles) == set(SHORT_NAMES)
    if entry.switch_off and not entry.derived_from:
        raise ContentError(f"catalog.toml: entry {label}: switch_off needs derived_from (only derived profiles change)")
    if not (entry.reason or own or (entry.derived_from and entry.cpe)):
        raise ContentError(f"catalog.toml: entry {label}: give product, datastream, package, min_ssg "
                           f"and both profiles, or derived_from and cpe, or a reason")
    if not all(_PROFILE_ID.fullmatch(pid) for pid in entry.profiles.values()):
        raise ContentError(f"catalog.toml: entry {label}: invalid profile id")
    return entry


@dataclass(frozen=True)
class _Catalog:
    entries: tuple[CatalogEntry, ...]
    suites: Mapping[str, str]
    groups: Mapping[str, tuple[tuple[str, ...], str]]  # switch_off group -> (rule names, reason template)


def _groups(data: dict[str, Any]) -> dict[str, tuple[tuple[str, ...], str]]:
    groups = {}
    for name, group in data.get("switch_off", {}).items():
        rules, reason = group.get("rules"), group.get("reason")
        if not (isinstance(rules, list) and rules and isinstance(reason, str) and reason.strip()):
            raise ContentError(f"catalog.toml: [switch_off.{name}] needs rules and a reason")
        groups[name] = (tuple(rules), " ".join(reason.split()))
    return groups


@functools.cache
def _loaded() -> _Catalog:
    text = resources.files("scap_content").joinpath("catalog.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    groups = _groups(data)
    entries = [_make_entry(raw, groups) for raw in data.get("os", [])]
    for n, entry in enumerate(entries):
        if entry.derived_from and not entry.reason:  # a rebuild scans with its source's profiles
            source = _by_product(entries, entry.derived_from)
            if source is None:
                raise ContentError(f"catalog.toml: entry {entry.label}: no entry of product {entry.derived_from}")
            entries[n] = replace(entry, profiles=source.profiles)
    return _Catalog(tuple(entries), MappingProxyType(dict(data.get("suites", {}))), MappingProxyType(groups))


def _catalog() -> tuple[tuple[CatalogEntry, ...], Mapping[str, str]]:
    loaded = _loaded()
    return loaded.entries, loaded.suites


def switched_off(entry: CatalogEntry) -> tuple[tuple[str, str], ...]:
    """(full rule id, reason) for each rule the entry's derived profiles leave out."""
    groups = _loaded().groups
    return tuple((RULE_PREFIX + rule, groups[name][1].format(label=entry.label))
                 for name in entry.switch_off for rule in groups[name][0])


@functools.cache
def watched_rules() -> frozenset[str]:
    """Every rule some derivation switches off: reading a datastream notes which profiles select them."""
    return frozenset(rule for entry in _loaded().entries for rule, _ in switched_off(entry))


def _by_product(entries: Iterable[CatalogEntry], product: str) -> CatalogEntry | None:
    return next((e for e in entries if e.product == product and not e.derived_from and not e.reason), None)


def load_catalog() -> list[CatalogEntry]:
    return list(_catalog()[0])


def catalog_entry(os: OsInfo) -> CatalogEntry | None:
    return next((entry for entry in _catalog()[0] if entry.matches(os)), None)


# --- choosing a profile -----------------------------------------------------------------------

def is_valid_profile_name(profile: str) -> bool:
    """A short name, or an XCCDF 1.2 profile id: xccdf_<reverse-dns>_profile_<name>."""
    if not isinstance(profile, str) or len(profile) > 255:
        return False
    return profile in SHORT_NAMES or _PROFILE_ID.fullmatch(profile) is not None


def validate_profile(profile: str) -> None:
    if not is_valid_profile_name(profile):
        raise InvalidInput(
            f"invalid profile {profile!r}: use cis-level1-server, cis-level2-server or a full xccdf profile id"
        )


def _newest(datastreams: Iterable[Datastream], product: str | None, profile_id: str) -> Datastream | None:
    best = None
    for ds in datastreams:
        if product and ds.product == product and profile_id in ds.profiles:
            if best is None or version_key(ds.version) > version_key(best.version):
                best = ds
    return best


def _choice(short_name: str | None, ds: Datastream, profile_id: str,
            derivative: Derivative | None = None) -> ProfileChoice:
    info = ds.profiles[profile_id]
    if derivative is None or ds.derived_from:
        return ProfileChoice(short_name, info.id, info.title, info.rule_count, ds, derivative)
    off = tuple((rule, reason) for rule, reason in derivative.off if rule in info.watched)
    derived = derivative.profile(info)  # the count it will have once derived: known before building it
    return ProfileChoice(short_name, info.id, info.title, derived.rule_count, ds, derivative, off)


def _source(entry: CatalogEntry) -> CatalogEntry | None:
    """The entry whose content is derived for this one (RHEL N for Rocky Linux N, Debian 12 for Debian 11)."""
    if not entry.derived_from or entry.reason:
        return None
    return _by_product(_catalog()[0], entry.derived_from)


def _derivative(entry: CatalogEntry, source: CatalogEntry) -> Derivative:
    return Derivative(f"{entry.os_id}{entry.version}", entry.os_id, entry.version, entry.label,
                      entry.cpe or "", source.label, source.product or "", switched_off(entry))


def _find(entry: CatalogEntry, profile_id: str, datastreams: list[Datastream],
          short_name: str | None) -> ProfileChoice | None:
    """The OS's own content first; for a derived OS, then its source's, to be derived."""
    own = _newest(datastreams, entry.product, profile_id)
    if own is not None:
        return _choice(short_name, own, profile_id)
    source = _source(entry)
    if source is None:
        return None
    found = _newest(datastreams, source.product, profile_id)
    return _choice(short_name, found, profile_id, _derivative(entry, source)) if found else None


def available_profiles(os: OsInfo | None, datastreams: Iterable[Datastream]) -> list[ProfileChoice]:
    """The CIS profiles (by short name) that discovered content really offers for this OS.

    For a derived OS a choice carries the source datastream and its `derivative`:
    core.content.derive.materialize() turns it into the datastream to scan with.
    """
    entry = catalog_entry(os) if os is not None else None
    if entry is None or entry.reason:
        return []
    datastreams = list(datastreams)
    choices = [_find(entry, entry.profiles[short], datastreams, short) for short in SHORT_NAMES]
    return [choice for choice in choices if choice is not None]


def _picker_order(choice: ProfileChoice) -> tuple[Framework, int, str, str]:
    """Framework by framework, CIS first; within CIS our two Server levels first (the default)."""
    default = SHORT_NAMES.index(choice.short_name) if choice.short_name in SHORT_NAMES else len(SHORT_NAMES)
    return choice.framework, default, choice.title.casefold(), choice.profile_id


def every_profile(os: OsInfo | None, datastreams: Iterable[Datastream]) -> list[ProfileChoice]:
    """Every profile that discovered content offers for this OS, grouped by framework (CIS first,
    CIS Level 1 Server at the top), each from the newest release that has it.

    A derived OS gets its own content's profiles and, derived and labelled so, the other profiles
    of the content it is derived from (STIG, PCI-DSS, ... of RHEL 9 for Rocky Linux 9).
    """
    entry = catalog_entry(os) if os is not None else None
    if entry is None or entry.reason:
        return []
    datastreams = list(datastreams)
    source = _source(entry)
    products = {entry.product, source.product if source else None} - {None}
    ids = dict.fromkeys(pid for ds in datastreams if ds.product in products for pid in ds.profiles)
    short = {pid: name for name, pid in entry.profiles.items()}
    choices = [_find(entry, pid, datastreams, short.get(pid)) for pid in ids]
    return sorted((c for c in choices if c is not None), key=_picker_order)


def by_framework(choices: Iterable[ProfileChoice]) -> dict[Framework, list[ProfileChoice]]:
    """The choices under their frameworks, in the order given (every_profile's: CIS first)."""
    groups: dict[Framework, list[ProfileChoice]] = {}
    for choice in choices:
        groups.setdefault(choice.framework, []).append(choice)
    return groups


def _where_to_get(entry: CatalogEntry) -> str:
    suites = sorted(_catalog()[1].items(), key=lambda item: version_key(item[1]))
    low = version_key(entry.min_ssg or "0")
    high = version_key(entry.dropped_in) if entry.dropped_in else None
    names = [s for s, v in suites if version_key(v) >= low and (high is None or version_key(v) < high)]
    if not names:
        return f"install SSG {entry.min_ssg} or newer"
    if high is not None or names[0] == suites[-1][0]:
        where = " or ".join(names)
    else:
        where = f"{names[0]} or newer"
    return f"install Debian package {entry.package} from {where}"


def _missing(entry: CatalogEntry, short_name: str | None, profile_id: str, datastreams: list[Datastream]) -> str:
    same = sorted({ds.version for ds in datastreams if ds.product == entry.product}, key=version_key)
    if short_name is None:
        if same:
            newest = max((ds for ds in datastreams if ds.product == entry.product), key=lambda d: version_key(d.version))
            names = ", ".join(sorted(pid.partition("_profile_")[2] for pid in newest.profiles)) or "none"
            return (f"{entry.label}: profile {profile_id} is not in {entry.datastream} "
                    f"(SSG {', '.join(same)}); its profiles: {names}")
        return f"{entry.label}: no {entry.datastream} found; {_where_to_get(entry)}, or {IMPORT_HINT}"
    found = f"; found SSG {', '.join(same)} without it" if same else ""
    return (f"{entry.label}: no datastream with {SHORT_NAME_TITLES[short_name]} found "
            f"({entry.datastream}, SSG {entry.min_ssg} or newer{found}); "
            f"{_where_to_get(entry)}, or {IMPORT_HINT}")


def _missing_for(entry: CatalogEntry, short_name: str | None, profile_id: str, datastreams: list[Datastream]) -> str:
    source = _source(entry)
    if source is None or (short_name is None and entry.product):
        return _missing(entry, short_name, profile_id, datastreams)  # its own content's story
    about_source = _missing(source, short_name, profile_id, datastreams).partition(": ")[2]
    return f"{entry.label}: its CIS content is derived from {source.label} content, and {about_source}"


def _unsupported(os: OsInfo) -> str:
    labels = ", ".join(entry.label for entry in _catalog()[0])
    shown = os.pretty_name or f"{os.id} {os.version}".strip()
    return f"{shown} (ID={os.id}, VERSION_ID={os.version or '-'}) is not in the profile catalog; supported: {labels}"


def resolve_profile(os: OsInfo | None, profile: str, datastreams: Iterable[Datastream]) -> ProfileChoice:
    """The datastream and profile to scan this OS with, or a ContentError saying what is missing.

    For a derived OS (Rocky, AlmaLinux 8, Oracle, Debian 11, Amazon Linux 2) the choice holds the
    source's datastream and its `derivative`; derive.materialize() (or derive.resolve) builds the
    derived datastream from it, which is what a scan must use.
    """
    if not is_valid_profile_name(profile):
        raise ContentError(f"invalid profile {str(profile)[:80]!r}: use {' or '.join(SHORT_NAMES)}, "
                           f"or a full XCCDF profile id (xccdf_<reverse-dns>_profile_<name>)")
    if os is None:
        raise OsNotDetected()
    entry = catalog_entry(os)
    if entry is None:
        raise ContentError(_unsupported(os))
    profile_id: str | None
    short_name: str | None
    if profile in SHORT_NAMES:
        short_name, profile_id = profile, entry.profiles.get(profile)
    else:
        profile_id = profile
        short_name = next((s for s, pid in entry.profiles.items() if pid == profile), None)
    if not profile_id or not (entry.product or _source(entry)):  # only rows with a reason lack these
        raise ContentError(f"{entry.label}: {entry.reason}")
    datastreams = list(datastreams)
    choice = _find(entry, profile_id, datastreams, short_name)
    if choice is None:
        raise ContentError(_missing_for(entry, short_name, profile_id, datastreams))
    return choice
