"""A score history in a few characters: one block per bucket of days, coloured by band."""

from __future__ import annotations

from rich.text import Text

from tui.widgets.cells import Palette, score_variable

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(palette: Palette, days: list[float | None], width: int) -> Text:
    """days oldest first; each character holds the last score of its bucket, blank for none."""
    line = Text(no_wrap=True, end="")
    if width <= 0 or not days:
        return line
    per = max(1, -(-len(days) // width))  # ceiling: every day lands in a bucket
    buckets = [days[i:i + per] for i in range(0, len(days), per)][-width:]
    for bucket in buckets:
        scored = [v for v in bucket if v is not None]
        if not scored:
            line.append(" ")
            continue
        value = scored[-1]
        line.append(BLOCKS[min(len(BLOCKS) - 1, int(value / 100 * len(BLOCKS)))],
                    style=palette.style(score_variable(value)))
    return line
