"""What a picker offers when one profile is asked of many hosts (Bulk Scan, schedules).

A scan asks for one profile by name for every host, and each host resolves it against its own
OS's content: a short name (cis-level1-server) means each OS's own CIS profile, a full id means
that profile wherever the host's content has it (…_profile_stig on Ubuntu and on RHEL alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from core.content.catalog import SHORT_NAME_TITLES, SHORT_NAMES, Datastream, every_profile
from core.content.frameworks import Framework, framework_of, profile_name
from core.domain.models import OsInfo


@dataclass(frozen=True)
class SharedProfile:
    name: str  # what the scan asks for: a short name or a full xccdf profile id
    framework: Framework
    title: str  # the content's title when every OS shares it, else the framework and the profile's name
    hosts: int  # how many of the hosts asked about offer it


def shared_profiles(oses: Iterable[OsInfo | None], datastreams: Iterable[Datastream]) -> list[SharedProfile]:
    """The profiles any of these hosts (by their detected OS) offers, by framework, CIS first, with
    how many of them offer each; the two CIS Server short names always lead, as the default."""
    datastreams = list(datastreams)
    hosts: dict[str, int] = dict.fromkeys(SHORT_NAMES, 0)
    titles: dict[str, set[str]] = {name: {SHORT_NAME_TITLES[name]} for name in SHORT_NAMES}
    frameworks: dict[str, Framework] = {name: framework_of(name) for name in SHORT_NAMES}
    for os in oses:
        for choice in every_profile(os, datastreams):
            name = choice.short_name or choice.profile_id
            hosts[name] = hosts.get(name, 0) + 1
            frameworks.setdefault(name, choice.framework)
            if not choice.short_name:
                titles.setdefault(name, set()).add(choice.title)
    found = [SharedProfile(name, frameworks[name], _title(name, frameworks[name], titles[name]), hosts[name])
             for name in hosts]
    return sorted(found, key=_picker_order)


def _picker_order(shared: SharedProfile) -> tuple[Framework, int, str, str]:
    default = SHORT_NAMES.index(shared.name) if shared.name in SHORT_NAMES else len(SHORT_NAMES)
    return shared.framework, default, shared.title.casefold(), shared.name


def _title(name: str, framework: Framework, titles: set[str]) -> str:
    if len(titles) == 1:
        return next(iter(titles))
    return f"{framework.label} ({profile_name(name)})"
