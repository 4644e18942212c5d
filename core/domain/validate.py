"""Operator input about hosts, checked before anything connects or is stored.

Each check raises InvalidInput with a message that says what to give instead. Names and
addresses go on command lines (ssh, oscap-ssh habits), so only plain forms are accepted:
never an option-like value such as `-oProxyCommand=...`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Mapping

from core.domain.errors import InvalidInput
from core.domain.models import Host

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
# RFC 1123 labels (letters, digits, inner hyphens; 1 to 63), plus '_', which internal DNS names and
# /etc/hosts entries use and which hosts stored before were allowed
LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$")
ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONVENTIONAL_ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def validate_host(host: Host) -> Host:
    """Reject bad input with a clear message before anything connects."""
    if not NAME.match(host.name or ""):
        raise InvalidInput(
            f"invalid host name {host.name!r}: use letters, digits, '.', '_' and '-' (at most 63), "
            "starting with a letter or digit"
        )
    if not valid_address(host.address or ""):
        raise InvalidInput(f"invalid address {host.address!r}: give a DNS name or an IP address "
                           "(IPv4 as 10.0.0.5, each part 0 to 255; IPv6 as 2001:db8::5)")
    if not isinstance(host.port, int) or not 1 <= host.port <= 65535:
        raise InvalidInput(f"invalid port {host.port!r}: use a number from 1 to 65535")
    if host.username is not None and not USER.match(host.username):
        raise InvalidInput(f"invalid user name {host.username!r}")
    if host.identity_file and not Path(host.identity_file).expanduser().is_file():
        raise InvalidInput(f"identity file {host.identity_file} does not exist")
    check_sudo_password_env(host.sudo_password_env)
    if host.zone is not None:
        from core.domain.policy import parse_zone

        host.zone = parse_zone(host.zone)
    return host


def check_sudo_password_env(name: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """Refuse a value that may be the password itself (it is never stored or shown); return
    a warning for a plausible name that is not set here."""
    if not name:
        return None
    environ = os.environ if environ is None else environ
    what = "the sudo password variable (the value is not shown: it may be a password)"
    if not ENV_VAR.match(name):
        raise InvalidInput(f"invalid variable name for {what}: give the NAME of an environment variable "
                           "that holds the sudo password (letters, digits, '_'), never the password itself")
    if any(value == name for key, value in environ.items() if key != name):
        raise InvalidInput(f"refusing {what}: it is the value of an environment variable here, so it "
                           "looks like the password itself; give the variable's NAME instead")
    if name in environ:
        return None
    if not CONVENTIONAL_ENV_VAR.match(name):
        raise InvalidInput(f"refusing {what}: it is not set here and not written like a variable name "
                           "(UPPER_CASE); give the NAME of the variable, never the password itself")
    return (f"{name} is not set in this environment; scans of this host need it where they run "
            "(this shell, or the worker's environment)")


def parse_port(text: str | int) -> int:
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"invalid port {text!r}: use a number from 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise InvalidInput(f"invalid port {text!r}: use a number from 1 to 65535")
    return port


def valid_address(address: str) -> bool:
    """An IPv4 or IPv6 literal (the ipaddress module's rules), else a host name (RFC 1123)."""
    try:
        ipaddress.ip_address(address)
        return True
    except ValueError:
        return valid_hostname(address)


def valid_hostname(name: str) -> bool:
    """Dot-separated labels, at most 253 characters. The last label is never all digits (RFC 1123
    2.1), so what looks like a dotted quad must be a valid IPv4 address: 300.1.1.1 is neither."""
    labels = (name[:-1] if name.endswith(".") else name).split(".")
    if not 1 <= len(name) <= 253 or not all(LABEL.match(label) for label in labels):
        return False
    return not labels[-1].isdigit()
