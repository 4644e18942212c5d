"""Plain-text and JSON output shared by the CLI commands."""

from __future__ import annotations

import json


def print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def print_table(headers: list[str], rows: list[list]) -> None:
    """Left-aligned columns; None shows as '-'."""
    cells = [headers] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
