"""Compliance score over time: one line per series, coloured from the theme.

The x axis spans the shortest window that holds every point (the last hour, 6 or 12 hours, 24
hours, 3 or 7 days, else 30 days): scans of one afternoon would otherwise share one column of a
30-day axis and leave a single dot against the frame.

The legend is a line of our own under the plot: plotext's built-in legend fails
(IndexError) when a short plot holds more labelled series than it has rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

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


@dataclass(frozen=True)
class Window:
    span: timedelta
    label: str  # for titles: "last 30 days"
    ticks: str  # strftime of the axis' labels


WINDOWS = (
    Window(timedelta(hours=1), "last hour", "%H:%M"),
    Window(timedelta(hours=6), "last 6 hours", "%H:%M"),
    Window(timedelta(hours=12), "last 12 hours", "%H:%M"),
    Window(timedelta(days=1), "last 24 hours", "%m-%d %H:%M"),
    Window(timedelta(days=3), "last 3 days", "%m-%d %H:%M"),
    Window(timedelta(days=7), "last 7 days", "%m-%d %H:%M"),
    Window(timedelta(days=WINDOW_DAYS), f"last {WINDOW_DAYS} days", "%m-%d"),
)


def since(now: datetime, days: int = WINDOW_DAYS) -> datetime:
    return now - timedelta(days=days)


def fit_window(times: Iterable[str], now: datetime) -> Window:
    """The shortest window that holds every one of these ISO times (30 days at most)."""
    oldest = min(times, default=None)  # ISO UTC times sort as text
    if oldest is None:
        return WINDOWS[-1]
    age = now - parse_iso(oldest)
    return next((w for w in WINDOWS if age <= w.span), WINDOWS[-1])


def _x(stamp: str, now: datetime) -> float:
    """Days before now (negative): the x of a point."""
    return round((parse_iso(stamp) - now).total_seconds() / 86400, 5)


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
             marks: list[tuple[str, float]] | None = None, window: Window | None = None,
             changes: list[tuple[str, float, str]] | None = None) -> None:
        """marks: (time, score) points drawn as ▲ over the lines (scans after a hardening job);
        changes: (time, score, content) of the scans whose content differs from the scan
        before, drawn as ◆; window: the x axis (default: fitted to the points)."""
        if window is None:
            window = fit_window((t for s in series for t, _ in s.points), now)
        # names reach plotext's ANSI: made plain here
        self._last = (neutralise(title), series, now, marks or [], window,
                      [(t, score, neutralise(what)) for t, score, what in changes or []])
        self._redraw()

    def _color(self, index: int) -> Color:
        variables = self.app.theme_variables
        return Color.parse(variables.get(SERIES_VARS[index % len(SERIES_VARS)], "#ffffff"))

    def _redraw(self) -> None:
        if self._last is None:
            return
        title, series, now, marks, window, changes = self._last
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        plt.title(title)
        days = window.span.total_seconds() / 86400
        plt.xlim(-days, 0)
        plt.ylim(0, 100)
        ticks = [-days, -days * 2 / 3, -days / 3, 0]
        plt.xticks(ticks, [(now + timedelta(days=t)).strftime(window.ticks) for t in ticks])
        plt.yticks([0, 50, 100], ["0", "50", "100"])
        legend = Text(no_wrap=True, overflow="ellipsis")
        for index, item in enumerate(series):
            xs = [_x(stamp, now) for stamp, _ in item.points]
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
        self._marks(plt, legend, now, "▲", "accent", "after hardening", [(t, s) for t, s in marks])
        versions = sorted({what for _, _, what in changes})
        self._marks(plt, legend, now, "◆", "warning",
                    f"new content: {versions[0]}" if len(versions) == 1 else "new content",
                    [(t, s) for t, s, _ in changes])
        self.query_one(".legend", Static).update(legend)
        plot.refresh()

    def _marks(self, plt, legend: Text, now: datetime, glyph: str, variable: str, label: str,
               points: list[tuple[str, float]]) -> None:
        """Single glyphs over the lines, named in the legend."""
        if not points:
            return
        color = Color.parse(self.app.theme_variables.get(variable, "#ffffff"))
        plt.scatter([_x(stamp, now) for stamp, _ in points], [score for _, score in points],
                    color=color.rgb, marker=glyph)
        legend.append(f"{glyph} ", style=Style(color=color.rich_color))
        legend.append(f"{label}  ")
