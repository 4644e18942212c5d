"""XCCDF Values checked before they can reach a root shell.

A Value's text is substituted into fix scripts that run as root, and SSG's fixes then write
it into files every login shell reads (`/etc/profile`, `/etc/profile.d/*.sh`): quoting it
where it is substituted is not enough. So a value is accepted only when it is one of the
Value's own listed choices (the content's own words), or when it passes the Value's declared
type, its `match` pattern and bounds, and, for a string, a conservative character set. A
floor holds for every value, listed or not: no control character, no backtick and no `$(` or
`${` (no SSG choice has any; a datastream whose Value does is hostile).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.domain.errors import InvalidInput
from core.domain.text import json_safe

if TYPE_CHECKING:
    from lxml import etree

VALUE_PREFIX = "xccdf_org.ssgproject.content_value_"
NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
BOOLEAN = frozenset({"true", "false", "0", "1"})
SAFE_STRING = re.compile(r"[A-Za-z0-9_.,:/@+=%-]*")
FLOOR = re.compile(r"[\x00-\x1f\x7f`]|\$[({]")
SAFE_WORDS = "letters, digits and _ . , : / @ + = % -"


@dataclass(frozen=True)
class ValueDef:
    """What the content declares about one Value."""

    id: str
    type: str = "string"  # number, string or boolean
    choices: tuple[str, ...] = ()  # every listed value (each selector's, and <choices>)
    must_match: bool = False  # <choices mustMatch="true">: nothing else is allowed
    match: str | None = None  # a regular expression the value must match whole
    lower: float | None = None
    upper: float | None = None

    @property
    def short_id(self) -> str:
        return short(self.id)


def short(value_id: str) -> str:
    return value_id.removeprefix(VALUE_PREFIX)


def shown(value: str, limit: int = 120) -> str:
    """The value quoted for a one-line message: newlines and escapes visible, never acted on."""
    text = json_safe(json.dumps(value, ensure_ascii=False))
    return text if len(text) <= limit else text[: limit - 2] + '…"'


def refusal(value_id: str, value: str, source: str, why: str) -> InvalidInput:
    return InvalidInput(f"refused Value {short(value_id)} = {shown(value)} from {source}: {why}")


def check(definition: ValueDef | None, value_id: str, value: str, source: str) -> str:
    """value, when it may reach a root shell; else InvalidInput in one line naming the Value,
    the offending text and where it came from. Without a definition (a tailoring read on its
    own) the value is held to the string rules."""
    if FLOOR.search(value):
        raise refusal(value_id, value, source, "control characters, backticks, $( and ${ are never allowed")
    if definition is not None and value in definition.choices:
        return value
    if definition is not None and definition.must_match:
        raise refusal(value_id, value, source, "it must be one of the Value's own choices")
    kind = definition.type if definition is not None else "string"
    if kind == "number":
        assert definition is not None  # kind is "string" without one
        _check_number(definition, value_id, value, source)
    elif kind == "boolean":
        if value.lower() not in BOOLEAN:
            raise refusal(value_id, value, source, "a boolean Value is true, false, 1 or 0")
    elif not SAFE_STRING.fullmatch(value):
        raise refusal(value_id, value, source, f"a string Value may hold only {SAFE_WORDS}, "
                                               "unless it is one of the Value's own choices")
    if definition is not None and definition.match is not None:
        _check_match(definition.match, value_id, value, source)
    return value


def _check_number(definition: ValueDef, value_id: str, value: str, source: str) -> None:
    if not NUMBER.fullmatch(value):
        raise refusal(value_id, value, source, "a number Value is digits, with a sign or a decimal point")
    number = float(value)
    if definition.lower is not None and number < definition.lower:
        raise refusal(value_id, value, source, f"below the Value's lower bound {definition.lower:g}")
    if definition.upper is not None and number > definition.upper:
        raise refusal(value_id, value, source, f"above the Value's upper bound {definition.upper:g}")


def _check_match(pattern: str, value_id: str, value: str, source: str) -> None:
    try:
        matched = re.fullmatch(pattern, value) is not None
    except re.error:
        raise refusal(value_id, value, source, "the Value's match pattern cannot be read") from None
    if not matched:
        raise refusal(value_id, value, source, f"it does not match the Value's pattern {shown(pattern, 60)}")


def definition_of(element: etree._Element, name_of: Callable[[etree._Element], str | None],
                  text_of: Callable[[etree._Element], str]) -> ValueDef:
    """A ValueDef from an XCCDF <Value> element (name_of and text_of: the XCCDF readers)."""
    choices: list[str] = []
    must_match, match, lower, upper = False, None, None, None
    for child in element:
        name = name_of(child)
        if name == "value":
            choices.append(text_of(child))
        elif name == "choices":
            must_match = child.get("mustMatch") in ("true", "1")
            choices += [text_of(c) for c in child if name_of(c) == "choice"]
        elif name == "match":
            match = text_of(child)
        elif name in ("lower-bound", "upper-bound"):
            bound = _bound(text_of(child))
            lower, upper = (bound, upper) if name == "lower-bound" else (lower, bound)
    kind = element.get("type") or "string"
    return ValueDef(element.get("id") or "", kind if kind in ("number", "boolean") else "string",
                    tuple(choices), must_match, match, lower, upper)


def _bound(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
