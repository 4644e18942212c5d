"""The exact remediation of chosen rules, read from the datastream a scan used.

`oscap xccdf generate fix --rule` ignores --rule (1.3.7), so the fix of each chosen rule is
taken from its own <fix system="urn:xccdf:fix:script:sh"> (or ansible), and every
<sub idref=V/> in it becomes the value the profile selects for V (refine-value, the
tailoring's refine-value or set-value winning), else V's default: what oscap's own generated
fix holds. Values are quoted for where they stand in the script, so a value can never end
its quotes or start a command.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from core.content.values import ValueDef, check, definition_of, short
from core.domain.errors import InvalidInput
from core.results.xccdf import SUB_RE, raw_text, stream, text_of, to_markdown, xccdf_name

SH, ANSIBLE = "urn:xccdf:fix:script:sh", "urn:xccdf:fix:script:ansible"
SYSTEMS = {"sh": SH, "ansible": ANSIBLE}
RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"

# What a fix does that an operator must know before it runs (word, pattern in the fix text).
RISKS = (
    ("packages", re.compile(r"\b(apt-get|apt|yum|dnf|zypper)\s+(-\S+\s+)*(install|remove|purge|erase)\b"
                            r"|\bDEBIAN_FRONTEND\b|\brpm\s+-e\b|^\s*-?\s*(ansible\.builtin\.)?package:", re.M)),
    ("PAM", re.compile(r"/etc/pam\.d|\bpam_\w+|\bauthselect\b|\bauthconfig\b|pam-auth-update")),
    ("sshd", re.compile(r"/etc/ssh/sshd_config|\bsshd\b")),
    ("sudoers", re.compile(r"/etc/sudoers")),
    ("firewall", re.compile(r"\b(iptables|ip6tables|nft|firewall-cmd|ufw)\b")),
    ("kernel parameters", re.compile(r"\bsysctl\b|/etc/modprobe\.d|\bmodprobe\b|\bgrub")),
)
# Fixes that can lock operators out: they need a dead man's switch and a checked login.
LOCKOUT_RISKS = frozenset({"PAM", "sshd", "sudoers", "firewall"})
NETWORK = re.compile(r"net\.ipv[46]|/etc/network|NetworkManager|nmcli|netplan")


@dataclass(frozen=True)
class Fix:
    rule_id: str
    title: str
    severity: str
    text: str  # the script (or Ansible tasks), values substituted
    reboot: bool = False
    disruption: str = ""
    complexity: str = ""
    strategy: str = ""
    risks: tuple[str, ...] = ()

    @property
    def short_id(self) -> str:
        return self.rule_id.removeprefix(RULE_PREFIX)

    @property
    def locks_out(self) -> bool:
        """Could this fix stop a fresh login (PAM, sshd, sudo, the firewall or the network)?"""
        return bool(LOCKOUT_RISKS & set(self.risks))

    @property
    def needs_second_confirmation(self) -> bool:
        return self.reboot or self.disruption == "high"


@dataclass(frozen=True)
class Missing:
    """A chosen rule without an automated fix: the operator gets its fix text instead."""

    rule_id: str
    title: str
    fixtext: str


@dataclass
class Plan:
    profile_id: str
    fixes: list[Fix] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    values: list[UsedValue] = field(default_factory=list)  # those the fixes use, checked

    @property
    def locks_out(self) -> bool:
        return any(f.locks_out for f in self.fixes)

    @property
    def needs_second_confirmation(self) -> bool:
        return any(f.needs_second_confirmation for f in self.fixes)

    def warning_classes(self) -> list[tuple[str, list[str]]]:
        """(what, rules) for each kind of risk an operator must see before anything runs, in the
        order of the preview's summary; kinds no rule carries are left out."""
        found = []
        for risk, _pattern in RISKS:
            verb = "installs or removes packages" if risk == "packages" else f"changes {risk}"
            found.append((verb, [f.short_id for f in self.fixes if risk in f.risks]))
        found += [("needs a reboot", [f.short_id for f in self.fixes if f.reboot]),
                  ("high disruption", [f.short_id for f in self.fixes if f.disruption == "high"]),
                  ("no automated fix", [m.rule_id.removeprefix(RULE_PREFIX) for m in self.missing])]
        order = {name: n for n, name in enumerate(WARNING_ORDER)}
        return sorted(((what, rules) for what, rules in found if rules), key=lambda item: order.get(item[0], 99))

    def warnings(self) -> list[str]:
        """One line per kind of risk, naming the rules that carry it."""
        return [f"{what}: {', '.join(rules)}" for what, rules in self.warning_classes()]


# The summary's order: what can lock anyone out first, then what needs planning.
WARNING_ORDER = ("changes PAM", "changes sshd", "changes sudoers", "changes firewall", "needs a reboot",
                 "installs or removes packages", "changes kernel parameters", "high disruption", "no automated fix")


def summary_lines(warnings: list[tuple[str, list[str]]], width: int) -> list[str]:
    """Each warning class on one line of at most width: its count, then as many rules as fit."""
    lines = []
    for what, rules in warnings:
        head = f"{what} ({len(rules)}): "
        shown: list[str] = []
        for n, rule in enumerate(rules):
            rest = len(rules) - n - 1
            more = f", +{rest} more" if rest else ""
            if len(head + ", ".join([*shown, rule]) + more) > width and shown:
                shown.append(f"+{len(rules) - n} more")
                break
            shown.append(rule)
        lines.append((head + ", ".join(shown))[:width])
    return lines


def rule_part(index: int, total: int, fix: Fix) -> str:
    """The script one rule runs on its own, with a header that says what it is."""
    attributes = ", ".join(f"{name}: {value}" for name, value in (
        ("reboot", "true" if fix.reboot else "false"), ("disruption", fix.disruption or "?"),
        ("complexity", fix.complexity or "?"), ("strategy", fix.strategy or "?")))
    return (f"# ---- {index}/{total} {fix.rule_id} ({fix.severity}; {attributes})\n"
            f"{fix.text.rstrip()}\n")


def whole_script(plan: Plan, host: str) -> str:
    """Everything that runs, in order: each rule's part runs alone as root, its exit status
    and output recorded; a missing fix is listed, never skipped silently."""
    lines = [
        "#!/usr/bin/env bash",
        f"# compliance-tui Quick Fix of {host}: {len(plan.fixes)} rule(s) of {plan.profile_id}",
        "# Before: /etc is archived and a restore is scheduled on the host (dead man's switch).",
        "# Each part below runs on its own, as root; after the fixes a fresh SSH login and",
        "# `sudo -n true` must work, or /etc is restored.",
    ]
    for missing in plan.missing:
        lines.append(f"# no automated fix: {missing.rule_id} (see its fix text)")
    parts = [rule_part(n, len(plan.fixes), fix) for n, fix in enumerate(plan.fixes, start=1)]
    return "\n".join(lines) + "\n\n" + "\n".join(parts)


# Modules SSG's tasks use that ansible-core does not ship: the collection each comes from.
COLLECTION_MODULES = {
    "sysctl": "ansible.posix", "mount": "ansible.posix", "authorized_key": "ansible.posix",
    "seboolean": "ansible.posix", "selinux": "ansible.posix", "firewalld": "ansible.posix",
    "pamd": "community.general", "modprobe": "community.general", "ini_file": "community.general",
    "ufw": "community.general", "timezone": "community.general", "xml": "community.general",
}
_MODULE = re.compile(r"^\s*-?\s*((?:[a-z_]+\.[a-z_]+\.)?[a-z_]+):", re.M)


def collections_needed(plan: Plan) -> list[str]:
    found = set()
    for fix in plan.fixes:
        for name in _MODULE.findall(fix.text):
            namespace, _, module = name.rpartition(".")
            if namespace and not namespace.startswith("ansible.builtin"):
                found.add(namespace)
            elif module in COLLECTION_MODULES:
                found.add(COLLECTION_MODULES[module])
    return sorted(found)


def playbook(plan: Plan, host_pattern: str = "all") -> str:
    """An Ansible playbook of a plan read with system="ansible": SSG's tasks of each rule,
    which set their own variables ("promote to variable") from the values substituted."""
    lines = [f"# compliance-tui: Ansible remediation of {len(plan.fixes)} rule(s) of {plan.profile_id}"]
    needed = collections_needed(plan)
    if needed:
        lines.append(f"# needs: ansible-galaxy collection install {' '.join(needed)}")
    lines += [f"# no automated fix: {m.rule_id}" for m in plan.missing]
    lines += ["- name: compliance-tui Quick Fix", f"  hosts: {host_pattern}", "  become: true", "  tasks:"]
    for fix in plan.fixes:
        lines.append(f"    # {fix.rule_id}")
        lines += [f"    {line}" if line.strip() else "" for line in fix.text.strip("\n").splitlines()]
    if not plan.fixes:
        lines.append("    []")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- reading

def read_plan(datastream: Path, profile_id: str, rule_ids: list[str], *,
              tailoring: Path | None = None, tailored_profile: str | None = None,
              tailoring_name: str | None = None, system: str = "sh") -> Plan:
    """The fixes of rule_ids (in that order) with the values profile_id selects, each value
    checked (core/content/values.py) before it is put in a script."""
    wanted = list(dict.fromkeys(rule_ids))
    rules: dict[str, dict[str, Any]] = {}  # rule id -> _rule()
    definitions: dict[str, ValueDef] = {}
    choices: dict[str, dict[str, str]] = {}  # Value id -> selector ('' default) -> value
    profiles: dict[str, tuple[str | None, dict[str, str]]] = {}  # id -> (extends, refine-values)
    keep = frozenset({"Rule", "Value", "Profile"})
    for event, name, element in stream(datastream, keep):
        if event != "end":
            continue
        if name == "Rule" and element.get("id") in wanted:
            rules[element.get("id")] = _rule(element, SYSTEMS[system])
        elif name == "Value" and element.get("id"):
            definitions[element.get("id")] = definition_of(element, xccdf_name, text_of)
            choices[element.get("id")] = _choices(element)
        elif name == "Profile" and element.get("id"):
            profiles[element.get("id")] = _refinements(element)
    selected = _selected_values(profiles, profile_id, f"profile {profile_id.rpartition('_profile_')[2]}")
    if tailoring is not None:
        selected.update(_selected_values(tailoring_profiles(tailoring), tailored_profile or "",
                                         f"tailoring {tailoring_name or tailoring.name}", inherit=False))
    values = _Values(definitions, choices, selected, f"{Path(datastream).name} (default)")
    plan = Plan(profile_id)
    for rule_id in wanted:
        found = rules.get(rule_id)
        if found is None:
            continue  # the caller checks rule ids against the scan beforehand
        if not found["fix"]:
            plan.missing.append(Missing(rule_id, found["title"], found["fixtext"]))
            continue
        text = _substitute(found["fix"], values, system)
        risks = tuple(risk for risk, pattern in RISKS if pattern.search(text))
        if NETWORK.search(text) and "firewall" not in risks:
            risks += ("firewall",)  # the network: a lock-out risk like the firewall
        plan.fixes.append(Fix(rule_id, found["title"], found["severity"], text,
                              found["reboot"], found["disruption"], found["complexity"],
                              found["strategy"], risks))
    plan.values = list(values.used.values())
    return plan


def tailoring_profiles(path: Path) -> dict[str, tuple[str | None, dict[str, str]]]:
    """The refinements of each Profile of a tailoring file (see _refinements)."""
    tailored: dict[str, tuple[str | None, dict[str, str]]] = {}
    for event, name, element in stream(path, frozenset({"Profile"})):
        if event == "end" and name == "Profile" and element.get("id"):
            tailored[element.get("id")] = _refinements(element)
    return tailored


FIX_ATTRIBUTES = ("reboot", "disruption", "complexity", "strategy")


def _rule(element: etree._Element, system: str) -> dict[str, Any]:
    """title, fixtext, fix (None: no fix for the system), severity, and _fix_attributes()."""
    found: dict[str, Any] = {"title": "", "fixtext": "", "fix": None, "severity": element.get("severity") or "unknown",
             "reboot": False, "disruption": "", "complexity": "", "strategy": ""}
    chosen, others = None, []
    for child in element:
        name = xccdf_name(child)
        if name == "title" and not found["title"]:
            found["title"] = " ".join(text_of(child).split())
        elif name == "fixtext" and not found["fixtext"]:
            found["fixtext"] = to_markdown(child)
        elif name == "fix" and child.get("system") == system and chosen is None:
            chosen = child
            found["fix"] = raw_text(child)
        elif name == "fix":
            others.append(child)
    if chosen is not None:
        found.update(_fix_attributes(chosen, others))
    return found


def _fix_attributes(chosen: etree._Element, others: list[etree._Element]) -> dict[str, Any]:
    """The fix's reboot, disruption, complexity and strategy. SSG leaves them off many a bash fix
    (171 of the 429 in Ubuntu 22.04's 0.1.65) while stating them on the same rule's Ansible or
    Puppet fix, which the playbook then tags (low_disruption): taken from there, else left empty."""
    attributes: dict[str, Any] = {}  # reboot a bool, the others text
    for attribute in FIX_ATTRIBUTES:
        stated = [fix.get(attribute) for fix in (chosen, *others) if fix.get(attribute)]
        attributes[attribute] = stated[0] if stated else ""
    attributes["reboot"] = attributes["reboot"] == "true"
    return attributes


def _choices(element: etree._Element) -> dict[str, str]:
    values: dict[str, str] = {}
    for child in element:
        if xccdf_name(child) == "value":
            values.setdefault(child.get("selector") or "", text_of(child))
    if "" not in values and values:  # no default: oscap takes the first value
        values[""] = next(iter(values.values()))
    return values


def _refinements(element: etree._Element) -> tuple[str | None, dict[str, str]]:
    """(extends, Value id -> 'selector:S' or 'value:V') of a Profile."""
    refined: dict[str, str] = {}
    for child in element:
        name = xccdf_name(child)
        if name == "refine-value" and child.get("idref"):
            refined[child.get("idref")] = "selector:" + (child.get("selector") or "")
        elif name == "set-value" and child.get("idref"):
            refined[child.get("idref")] = "value:" + text_of(child)
    return element.get("extends"), refined


def _selected_values(profiles: dict[str, tuple[str | None, dict[str, str]]], profile_id: str, source: str,
                     inherit: bool = True) -> dict[str, tuple[str, str]]:
    """Value id -> (refinement, where it came from), of a profile and those it extends (its own win)."""
    chain: list[str] = []
    current: str | None = profile_id
    while current in profiles and current not in chain:
        chain.append(current)
        current = profiles[current][0] if inherit else None
    merged: dict[str, tuple[str, str]] = {}
    for pid in reversed(chain):
        merged.update((value_id, (how, source)) for value_id, how in profiles[pid][1].items())
    return merged


@dataclass(frozen=True)
class UsedValue:
    """A Value a script uses: its text, and where it came from (the preview lists them)."""

    id: str
    value: str
    source: str

    @property
    def short_id(self) -> str:
        return short(self.id)


@dataclass
class _Values:
    definitions: dict[str, ValueDef]
    choices: dict[str, dict[str, str]]
    selected: dict[str, tuple[str, str]]
    default_source: str
    used: dict[str, UsedValue] = field(default_factory=dict)

    def get(self, value_id: str) -> str:
        """The value a profile selects for value_id, checked; remembered as used."""
        if value_id not in self.used:
            options = self.choices.get(value_id, {})
            how, source = self.selected.get(value_id, ("", self.default_source))
            if how.startswith("value:"):
                value, source = how[len("value:"):], f"{source} (set-value)"
            else:
                selector = how[len("selector:"):]
                value = options.get(selector, options.get("", ""))
                source += f" (selector {selector})" if selector else ""
            check(self.definitions.get(value_id), value_id, value, source)
            self.used[value_id] = UsedValue(value_id, value, source)
        return self.used[value_id].value


def _substitute(text: str, values: _Values, system: str) -> str:
    out, last = [], 0
    for match in SUB_RE.finditer(text):
        out.append(text[last:match.start()])
        out.append(_quoted(values.get(match.group(1)), "".join(out), system))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _quoted(value: str, before: str, system: str) -> str:
    """The value made safe where it stands: inside '...', inside "...", or bare."""
    if system != "sh":  # Ansible: a YAML string that cannot be read as a template
        if re.search(r"\{[{%#]", value):
            raise InvalidInput(f"value {value!r} looks like an Ansible template; refusing to put it in a playbook")
        return "'" + value.replace("'", "''") + "'"
    state = _quote_state(before)
    if state == "'":
        return value.replace("'", "'\"'\"'")
    if state == '"':
        return re.sub(r'([\\"$`])', r"\\\1", value)
    return shlex.quote(value)


def _quote_state(script: str) -> str:
    """Which quotes the end of script stands in: "'", '"' or '' (enough for SSG's fixes)."""
    state, escaped, comment, previous = "", False, False, "\n"
    for char in script:
        if comment:
            comment = char != "\n"
        elif escaped:
            escaped = False
        elif char == "\\" and state != "'":
            escaped = True
        elif char == "#" and state == "" and previous in " \t\n;":
            comment = True
        elif char in "'\"" and state in ("", char):
            state = "" if state == char else char
        previous = char
    return state
