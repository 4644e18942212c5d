"""Plain-text and JSON output shared by the CLI commands.

Everything printed for a terminal goes through neutralise(): host names, OS names, oscap's
errors and rule titles may come from a hostile target or file. JSON stays exact:
json.dumps escapes C0 controls, and print_json escapes C1 controls and bidirectional
overrides the same way (\\u0085), which JSON readers decode back to the original text.
"""

from __future__ import annotations

import json
import re
import sys

from core.domain.text import neutralise


def say(text, err: bool = False) -> None:
    print(neutralise(str(text)), file=sys.stderr if err else sys.stdout)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def print_json(value) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    print(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def print_table(headers: list[str], rows: list[list]) -> None:
    """Left-aligned columns; None shows as '-'."""
    cells = [headers] + [["-" if v is None else neutralise(str(v)) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
