"""Hosts from an Ansible inventory (INI or YAML) or an OpenSSH client config (core.hosts.ssh_config),
for import: the format detected, the file read within its bounds, the parser chosen.

Pure functions: text in, candidate hosts out. Nothing here connects or writes the store;
the caller shows a preview and adds what the operator keeps.

Ansible inventories are read by `ansible-inventory -i FILE --list` when Ansible is installed
(dynamic inventories, group_vars and plugins then work as in Ansible itself), else parsed
here: INI by hand, YAML with PyYAML's safe loader, where `!vault` values are left unread.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypedDict

import yaml

from core.domain.errors import InvalidInput, os_reason
from core.domain.models import Host
from core.domain.policy import TAG
from core.hosts.candidates import Found, Parsed, expand_path, set_port
from core.hosts.kinds import ANSIBLE_INI, ANSIBLE_YAML, SSH_CONFIG
from core.hosts.ranges import HostBudget, InventoryError, check_ranges, expand_hosts  # noqa: F401 (API)
from core.hosts.ssh_config import parse_ssh_config

_ADDRESS_VARS = ("ansible_host", "ansible_ssh_host")
_PORT_VARS = ("ansible_port", "ansible_ssh_port")
_USER_VARS = ("ansible_user", "ansible_ssh_user")
_KEY_VARS = ("ansible_ssh_private_key_file", "ansible_private_key_file")


# --------------------------------------------------------------------------- detection

def detect_kind(path: Path, text: str) -> str:
    """ssh config, Ansible INI or Ansible YAML, from the file name and its first lines."""
    name = Path(path).name.lower()
    if name.endswith((".yml", ".yaml")):
        return ANSIBLE_YAML
    if name.endswith(".ini") or name in ("hosts", "inventory"):
        return ANSIBLE_INI
    if name == "config" or name.endswith(".conf") or "ssh" in name:
        return SSH_CONFIG
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if stripped.startswith("[") or "=" in stripped.split()[0]:
            return ANSIBLE_INI
        if re.match(r"^(Host|Match|HostName|User|Port|IdentityFile|Include)\b", stripped, re.I):
            return SSH_CONFIG
        if stripped == "---" or re.match(r"^[A-Za-z0-9_.-]+:\s*$", stripped):
            return ANSIBLE_YAML
        return ANSIBLE_INI
    return ANSIBLE_INI


def parse(text: str, kind: str, *, home: Path | None = None) -> Parsed:
    parsers = {SSH_CONFIG: parse_ssh_config, ANSIBLE_INI: parse_ansible_ini, ANSIBLE_YAML: parse_ansible_yaml}
    if kind not in parsers:
        raise InvalidInput(f"unknown inventory kind {kind!r}")
    return parsers[kind](text, home=home)


# --------------------------------------------------------------------------- ansible

Variables = dict[str, str | None]  # None: a value that is no scalar (a vaulted one), left out


class _Group(TypedDict):
    hosts: list[str]
    vars: Variables
    children: list[str]


class _Inventory:
    """Groups with hosts, vars and children, resolved the way Ansible merges them."""

    def __init__(self) -> None:
        self.hosts: dict[str, tuple[Variables, str]] = {}  # name -> (host vars, origin)
        self.groups: dict[str, _Group] = {}

    def group(self, name: str) -> _Group:
        return self.groups.setdefault(name, {"hosts": [], "vars": {}, "children": []})

    def add_host(self, group: str, name: str, variables: Mapping[str, str | None], origin: str) -> None:
        own, first = self.hosts.get(name, ({}, origin))
        self.hosts[name] = ({**own, **variables}, first)
        if name not in self.group(group)["hosts"]:
            self.group(group)["hosts"].append(name)

    def chains(self) -> dict[str, list[str]]:
        """For each host, its groups ordered as Ansible merges their vars: by depth below
        `all` (a child group overrides its parents), then by name."""
        depth: dict[str, int] = {}
        members: dict[str, set[str]] = {}

        def walk(group: str, level: int, path: tuple[str, ...]) -> set[str]:
            if group in path:
                return set()
            depth[group] = max(depth.get(group, 0), level)
            found = set(self.group(group)["hosts"])
            for child in self.group(group)["children"]:
                found |= walk(child, level + 1, path + (group,))
            members[group] = members.get(group, set()) | found
            return found

        all_children = self.group("all")["children"]
        all_children += [g for g in self.groups if g != "all" and g not in all_children]
        walk("all", 0, ())
        return {host: sorted((g for g, found in members.items() if host in found),
                             key=lambda g: (depth[g], g)) for host in self.hosts}

    def resolve(self, kind: str, home: Path | None) -> Parsed:
        parsed = Parsed(kind)
        chains = self.chains()
        for name, (own, origin) in self.hosts.items():
            merged: Variables = {}
            for group in chains[name]:
                merged.update(self.group(group)["vars"])
            merged.update(own)
            found = _ansible_host(name, merged, origin, home)
            found.host.tags = group_tags(chains[name], parsed.warnings)
            parsed.found.append(found)
        return parsed


def group_tags(groups: Iterable[object], warnings: list[str]) -> tuple[str, ...]:
    """A host's Ansible groups become its tags (lowercase; `all` and `ungrouped` are no tags).
    A group name that cannot be a tag is left out, said once in warnings."""
    tags = set()
    for group in groups:
        tag = str(group).strip().lower()
        if tag in ("all", "ungrouped"):
            continue
        if TAG.match(tag):
            tags.add(tag)
        elif (said := f"group {group!r} is not used as a tag (tags: lowercase letters, digits, '.', '_' "
                      "and '-', at most 32)") not in warnings:
            warnings.append(said)
    return tuple(sorted(tags))


def _first(variables: Mapping[str, str | None], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = variables.get(name)
        if value not in (None, ""):
            return str(value)
    return None


def _ansible_host(name: str, variables: Mapping[str, str | None], origin: str, home: Path | None) -> Found:
    host = Host(name=name, address=_first(variables, _ADDRESS_VARS) or name,
                username=_first(variables, _USER_VARS))
    problem = None
    port = _first(variables, _PORT_VARS)
    if port is not None:
        problem = set_port(host, port)
    key = _first(variables, _KEY_VARS)
    if key:
        host.identity_file = expand_path(key, home)
    if variables.get("ansible_connection") == "local":
        host.transport = "local"
    return Found(host, origin, problem)


def _ini_vars(words: list[str], number: int) -> dict[str, str]:
    variables: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise InventoryError(f"line {number}: expected key=value, found {word!r}")
        variables[key] = value
    return variables


def parse_ansible_ini(text: str, *, home: Path | None = None) -> Parsed:
    inventory, budget = _Inventory(), HostBudget()
    section, mode = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            header = re.fullmatch(r"\[([^\]:]+)(?::(vars|children))?\]", line)
            if not header:
                raise InventoryError(f"line {number}: invalid section header {line!r}")
            section, mode = header[1], header[2] or "hosts"
            inventory.group(section)
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise InventoryError(f"line {number}: {exc}") from None
        if not words:
            continue
        if mode == "vars":
            key, sep, value = line.partition("=")
            if not sep:
                raise InventoryError(f"line {number}: expected key=value in [{section}:vars]")
            inventory.group(section)["vars"][key.strip()] = " ".join(shlex.split(value, comments=True))
        elif mode == "children":
            inventory.group(words[0])
            inventory.group(section)["children"].append(words[0])
        else:
            variables = _ini_vars(words[1:], number)
            try:
                names = budget.expand(words[0], f"line {number}: ")
            except InventoryError:
                raise
            except InvalidInput as exc:
                raise InventoryError(f"line {number}: {exc}") from None
            for name in names:
                inventory.add_host(section, name, variables, f"line {number} [{section}]")
    return inventory.resolve(ANSIBLE_INI, home)


class _YamlLoader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]  # Any where PyYAML has no stubs
    """The safe loader, with Ansible's tags: a vaulted value is a secret we never decrypt."""


_YamlLoader.add_constructor("!vault", lambda loader, node: None)


def _unsafe(loader: _YamlLoader, node: yaml.ScalarNode) -> str:
    """Ansible's !unsafe text, as text (a mapping or list so tagged is refused, as before)."""
    text: str = loader.construct_scalar(node)
    return text


_YamlLoader.add_constructor("!unsafe", _unsafe)
MAX_ENTRIES = 100_000  # hosts and groups walked: aliases can repeat a mapping endlessly
MAX_FILE_BYTES = 16 << 20  # a 10,000-host inventory with variables is well under 2 MiB
MAX_MEMBERSHIPS = 1_000_000  # host-in-group pairs, nested groups counted: groups become tags


def parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_YamlLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise InventoryError(f"{where}not valid YAML: {getattr(exc, 'problem', None) or exc}") from None


def parse_ansible_yaml(text: str, *, home: Path | None = None) -> Parsed:
    data = parse_yaml(text)
    if data is None:
        return Parsed(ANSIBLE_YAML)
    if not isinstance(data, dict):
        raise InventoryError("the YAML inventory must be a mapping of groups (all: hosts: ...)")
    inventory, budget = _Inventory(), HostBudget()
    walked = 0

    def read_group(name: str, body: object, path: str) -> None:
        nonlocal walked
        walked += 1
        if walked > MAX_ENTRIES:
            raise InventoryError(f"more than {MAX_ENTRIES:,} groups and hosts; refusing the file")
        group = inventory.group(name)
        if body is None:
            return
        if not isinstance(body, dict):
            raise InventoryError(f"group {path}: expected a mapping with hosts, vars or children")
        hosts = body.get("hosts") or {}
        if not isinstance(hosts, dict):
            raise InventoryError(f"group {path}: hosts must be a mapping of host names")
        for pattern, variables in hosts.items():
            variables = variables if isinstance(variables, dict) else {}
            for host in budget.expand(str(pattern), f"group {path}: "):
                walked += 1
                inventory.add_host(name, host, {str(k): _scalar_text(v) for k, v in variables.items()},
                                   f"group {name}")
        variables = body.get("vars") or {}
        if isinstance(variables, dict):
            group["vars"].update({str(k): _scalar_text(v) for k, v in variables.items()})
        children = body.get("children") or {}
        if not isinstance(children, dict):
            raise InventoryError(f"group {path}: children must be a mapping of groups")
        for child, child_body in children.items():
            if str(child) in path.split("."):
                continue  # a group that contains itself: Ansible refuses it, we skip it
            if child not in group["children"]:
                group["children"].append(str(child))
            read_group(str(child), child_body, f"{path}.{child}")

    for name, body in data.items():
        read_group(str(name), body, str(name))
    return inventory.resolve(ANSIBLE_YAML, home)


# --------------------------------------------------------------------------- ansible-inventory

def ansible_inventory() -> str | None:
    """The ansible-inventory command: on PATH, or beside this Python (a virtualenv's bin)."""
    found = shutil.which("ansible-inventory")
    if found:
        return found
    beside = Path(sys.executable).parent / "ansible-inventory"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def parse_ansible_list(listing: dict[str, Any], kind: str, *, home: Path | None = None) -> Parsed:
    """`ansible-inventory --list` output: Ansible has merged every variable already."""
    hostvars = (listing.get("_meta") or {}).get("hostvars") or {}
    origins: dict[str, str] = {}
    for group, body in listing.items():
        if group != "_meta" and isinstance(body, dict):
            for name in body.get("hosts") or []:
                origins.setdefault(str(name), f"group {group}")
    parsed = Parsed(kind)
    names = set(hostvars) | set(origins)
    HostBudget().take(len(names))  # a dynamic inventory's plugin may list any number
    groups = _listed_groups(listing)
    for name in sorted(names):
        variables = hostvars.get(name) or {}
        scalars = {str(k): _scalar_text(v) for k, v in variables.items()}  # vaulted: a dict, left out
        found = _ansible_host(name, scalars, origins.get(name, "ansible-inventory"), home)
        found.host.tags = group_tags(sorted(groups.get(name, ())), parsed.warnings)
        parsed.found.append(found)
    return parsed


def _listed_groups(listing: dict[str, Any]) -> dict[str, set[str]]:
    """host -> every group it is in, through `children` too, from ansible-inventory's listing."""
    parents: dict[str, set[str]] = {}
    for group, body in listing.items():
        for child in (body.get("children") or []) if isinstance(body, dict) else []:
            parents.setdefault(str(child), set()).add(str(group))
    found: dict[str, set[str]] = {}
    work = 0
    for group, body in listing.items():
        members = (body.get("hosts") or []) if group != "_meta" and isinstance(body, dict) else []
        chain, todo = set(), [str(group)] if members else []
        while todo:  # the group and its ancestors (a loop is walked once)
            current = todo.pop()
            if current not in chain:
                chain.add(current)
                todo += parents.get(current, ())
        work += len(chain) * (1 + len(members))
        if work > MAX_MEMBERSHIPS:
            raise InventoryError(f"more than {MAX_MEMBERSHIPS:,} group memberships; refusing the inventory")
        for name in members:
            found.setdefault(str(name), set()).update(chain)
    return found


def run_ansible_inventory(command: str, path: Path, kind: str, timeout: float = 60) -> dict[str, Any]:
    env = os.environ | {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}
    try:
        done = subprocess.run([command, "-i", str(path), "--list"], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InventoryError(f"ansible-inventory did not answer: {os_reason(exc)}") from None
    if done.returncode != 0:
        raise InventoryError(f"ansible-inventory refused {path.name}: {_refusal(done.stderr, kind)[:300]}")
    try:
        listing = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise InventoryError("ansible-inventory printed no JSON") from None
    if not isinstance(listing, dict):
        raise InventoryError("ansible-inventory printed no inventory")
    return listing


def _refusal(stderr: str, kind: str) -> str:
    """The line that says why: the complaint of the plugin for this kind of file, else the error."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    plugin = "yaml" if kind == ANSIBLE_YAML else "ini"
    for line in lines:
        if f"with '{plugin}' plugin:" in line:
            return line.split(" plugin:", 1)[1].strip()
    return next((line for line in lines if line.startswith("[ERROR]")), lines[0] if lines else "no reason given")


def _scalar_text(value: object) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- files

def read_file(path: str | Path, kind: str | None = None, *, home: Path | None = None,
              use_ansible: bool = True) -> Parsed:
    """Read and parse one file; kind is detected from the name and content when None. An
    Ansible inventory goes through ansible-inventory when it is installed (use_ansible)."""
    path = Path(path).expanduser()
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InventoryError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB; not an inventory to import")
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read it: {exc.strerror or exc}") from None
    kind = kind or detect_kind(path, text)
    if kind in (ANSIBLE_INI, ANSIBLE_YAML):
        check_ranges(text)  # before ansible-inventory expands them in its own memory
    command = ansible_inventory() if use_ansible and kind in (ANSIBLE_INI, ANSIBLE_YAML) else None
    if command is None:
        return parse(text, kind, home=home)
    if kind == ANSIBLE_YAML:
        parse_yaml(text)  # a syntax error is reported here with its line; ansible-inventory gives none
    parsed = parse_ansible_list(run_ansible_inventory(command, path, kind), kind, home=home)
    parsed.warnings.append("read through ansible-inventory (group_vars, host_vars and plugins applied)")
    return parsed
