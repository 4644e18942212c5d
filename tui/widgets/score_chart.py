"""Compliance score over the last 30 days: one line per series, coloured from the theme.

The legend is a line of our own under the plot: plotext's built-in legend fails
(IndexError) when a short plot holds more labelled series than it has rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from core.domain.text import neutralise
from core.domain.timeutil import parse_iso

WINDOW_DAYS = 30
SERIES_VARS = ("primary", "success", "warning", "accent", "secondary", "error")


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[str, float], ...]  # (ISO timestamp, score), oldest first


def since(now: datetime, days: int = WINDOW_DAYS) -> datetime:
    return now - timedelta(days=days)


class ScoreChart(Vertical):
    """Call show() with the series; x is days before `now` (injected for tests)."""

    DEFAULT_CSS = """
    ScoreChart > PlotextPlot { height: 1fr; }
    ScoreChart > .legend { height: 1; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self._last: tuple | None = None

    def compose(self) -> ComposeResult:
        yield PlotextPlot()
        yield Static(classes="legend")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw())

    def show(self, title: str, series: list[Series], now: datetime,
             marks: list[tuple[str, float]] | None = None) -> None:
        """marks: (time, score) points drawn as ▲ over the lines (scans after a hardening job)."""
        self._last = (neutralise(title), series, now, marks or [])  # names reach plotext's ANSI
        self._redraw()

    def _color(self, index: int) -> Color:
        variables = self.app.theme_variables
        return Color.parse(variables.get(SERIES_VARS[index % len(SERIES_VARS)], "#ffffff"))

    def _redraw(self) -> None:
        if self._last is None:
            return
        title, series, now, marks = self._last
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        plt.title(title)
        plt.xlim(-WINDOW_DAYS, 0)
        plt.ylim(0, 100)
        ticks = [-30, -20, -10, 0]
        plt.xticks(ticks, [(now + timedelta(days=t)).strftime("%m-%d") for t in ticks])
        plt.yticks([0, 50, 100], ["0", "50", "100"])
        legend = Text(no_wrap=True, overflow="ellipsis")
        for index, item in enumerate(series):
            xs = [round((parse_iso(stamp) - now).total_seconds() / 86400, 3) for stamp, _ in item.points]
            ys = [score for _, score in item.points]
            if not xs:
                continue
            color = self._color(index)
            if len(xs) == 1:
                plt.scatter(xs, ys, color=color.rgb, marker="●")
            else:
                plt.plot(xs, ys, color=color.rgb, marker="braille")
            legend.append("● " if len(xs) == 1 else "━ ", style=Style(color=color.rich_color))
            legend.append(f"{neutralise(item.label)}  ")
        if marks:
            color = Color.parse(self.app.theme_variables.get("accent", "#ffffff"))
            plt.scatter([round((parse_iso(stamp) - now).total_seconds() / 86400, 3) for stamp, _ in marks],
                        [score for _, score in marks], color=color.rgb, marker="▲")
            legend.append("▲ ", style=Style(color=color.rich_color))
            legend.append("after hardening  ")
        self.query_one(".legend", Static).update(legend)
        plot.refresh()
