"""The subset of YAML that Ansible inventories use, read without PyYAML.

Block mappings by indentation, plain and quoted scalars, comments, `{}`/`[]`, simple flow
mappings, block sequences and block scalars (inventories only carry those in vars).
"""

from __future__ import annotations

import re

from core.domain.errors import InvalidInput


class YamlError(InvalidInput):
    """Text outside the subset, or not YAML; the message names the line."""


_NULLS = ("", "~", "null", "Null", "NULL")


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _split_key(text: str) -> tuple[str, str] | None:
    """'key: value' -> (key, value); None when the line is not a mapping entry.

    The separator is the first ':' outside quotes and brackets that ends the line or is
    followed by a space, so `web[01:03]:` and `url: http://x` both split right.
    """
    if text[:1] in "'\"":
        quote = text[0]
        end = text.find(quote, 1)
        if end > 0 and text[end + 1: end + 2] == ":" and text[end + 2: end + 3] in ("", " "):
            return text[1:end], text[end + 2:].strip()
        return None
    if text[:1] in "{[":
        return None
    depth = 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0 and text[i + 1: i + 2] in ("", " "):
            key = text[:i].strip()
            return (key, text[i + 1:].strip()) if key else None
    return None


def _scalar(text: str, number: int):
    text = text.strip()
    if text in _NULLS:
        return None
    if text[0] in "'\"":
        if len(text) < 2 or text[-1] != text[0]:
            raise YamlError(f"line {number}: unterminated quoted value {text!r}")
        if text[0] == "'":
            return text[1:-1].replace("''", "'")
        escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/"}
        return re.sub(r"\\(.)", lambda m: escapes.get(m[1], m[0]), text[1:-1])
    if text in ("true", "True", "yes", "false", "False", "no"):
        return text in ("true", "True", "yes")
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if text[0] in "{[":
        return _flow(text, number)
    if text[0] in "&!":  # an anchor or a tag before a plain value
        rest = text.split(None, 1)
        return _scalar(rest[1], number) if len(rest) > 1 else None
    if text[0] == "*":
        raise YamlError(f"line {number}: YAML aliases (*name) are not supported here")
    return text


def _flow(text: str, number: int):
    """{a: 1, b: x} or [a, b], one level deep (what inventories write inline)."""
    closing = "}" if text[0] == "{" else "]"
    if not text.endswith(closing):
        raise YamlError(f"line {number}: unterminated {text[0]}...{closing}")
    inner = text[1:-1].strip()
    if any(c in inner for c in "{}[]"):
        raise YamlError(f"line {number}: nested flow collections are not supported")
    items = [part.strip() for part in inner.split(",") if part.strip()]
    if closing == "]":
        return [_scalar(item, number) for item in items]
    pairs = (item.partition(":") for item in items)
    return {k.strip().strip("'\""): _scalar(v, number) if v.strip() else None for k, _, v in pairs}


def parse_yaml(text: str):
    """The YAML subset of inventories: nested mappings, scalars, simple lists."""
    lines: list[tuple[int, int, str]] = []  # (line number, indent, content)
    block_indent: int | None = None
    for number, raw in enumerate(text.replace("\t", "    ").splitlines(), start=1):
        if block_indent is not None:  # inside a | or > block scalar: skip its lines
            if not raw.strip() or len(raw) - len(raw.lstrip()) > block_indent:
                continue
            block_indent = None
        content = _strip_comment(raw)
        body = content.strip()
        if not body or body in ("---", "...") or body.startswith("%"):
            continue
        lines.append((number, len(content) - len(content.lstrip()), body))
        if re.search(r"(^|:\s+|^-\s+)[|>][+-]?\d*$", body):
            block_indent = lines[-1][1]
    if not lines:
        return None
    value, position = _block(lines, 0, lines[0][1])
    if position != len(lines):
        raise YamlError(f"line {lines[position][0]}: unexpected indentation")
    return value


def _is_item(body: str) -> bool:
    return body == "-" or body.startswith("- ")


def _block(lines: list, position: int, indent: int):
    """The mapping or sequence whose entries start at this indent."""
    sequence = _is_item(lines[position][2])
    result: list | dict = [] if sequence else {}
    while position < len(lines):
        number, this_indent, body = lines[position]
        if this_indent < indent or (this_indent == indent and sequence != _is_item(body)):
            break
        if this_indent > indent:
            raise YamlError(f"line {number}: unexpected indentation")
        if sequence:
            item = body[1:].strip()
            if item and _split_key(item):  # "- key: value": a mapping under the dash
                lines[position] = (number, indent + 2, item)
                value, position = _block(lines, position, indent + 2)
            else:
                value, position = _value(item, lines, position + 1, indent, number, True)
            result.append(value)
            continue
        entry = _split_key(body)
        if entry is None:
            raise YamlError(f"line {number}: expected 'key: value', found {body!r}")
        result[entry[0]], position = _value(entry[1], lines, position + 1, indent, number, False)
    return result, position


def _value(text: str, lines: list, position: int, indent: int, number: int, in_sequence: bool):
    if text[:1] in ("|", ">"):
        return "", position  # block scalars only carry vars, which nothing here reads
    if text:
        return _scalar(text, number), position
    if position < len(lines):
        next_indent, next_body = lines[position][1], lines[position][2]
        if next_indent > indent or (next_indent == indent and _is_item(next_body) and not in_sequence):
            return _block(lines, position, next_indent)
    return None, position
