"""Plain-text and JSON output shared by the CLI commands.

Everything printed for a terminal goes through neutralise(): host names, OS names, oscap's
errors and rule titles may come from a hostile target or file. JSON stays exact:
json.dumps escapes C0 controls, and print_json escapes C1 controls and bidirectional
overrides the same way (\\u0085), which JSON readers decode back to the original text.
"""

from __future__ import annotations

import json
import sys

from core.domain.text import json_safe, neutralise


def say(text, err: bool = False) -> None:
    print(neutralise(str(text)), file=sys.stderr if err else sys.stdout)


def print_json(value) -> None:
    print(json_safe(json.dumps(value, indent=2, ensure_ascii=False)))


def print_table(headers: list[str], rows: list[list]) -> None:
    """Left-aligned columns; None shows as '-'."""
    cells = [headers] + [["-" if v is None else neutralise(str(v)) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
