"""A table of rows keyed by domain ids that renders only the lines on screen.

Why not DataTable: it measures every cell of every new row (a Rich measurement per
cell), about 150-280 ms for the 1,500 results of a large profile, so each filter
keystroke would blow its 50 ms budget. Here a row is (key, cells) and column widths
are fixed (one column may flex), so replacing the rows costs a dict and a list; only
the visible lines are rendered. The cursor stays on the same key across updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.common import keymap
from tui.widgets.cells import plain, safe

Cell = Text | str | None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None  # None: shares the width the fixed columns leave, by flex
    justify: str = "left"
    min_width: int = 8
    flex: int = 1
    wide_label: str | None = None  # the spec's name, shown with wide_width on a wide table
    wide_width: int | None = None
    # "middle": ids that share a start (accounts_password_pam_*) stay told apart; or a function
    # (plain text, width) -> what to show, for cuts that depend on the other rows
    cut: str | Callable[[str, int], str] = "end"


def _head(width: int) -> int:
    return max(1, (width - 1) * 2 // 5)


def cut_middle(text: Text, width: int, head: int | None = None) -> Text:
    """'accounts_…pam_minlen': the start and the end kept (2 to 3), styles too (one cell a
    character): ids that share a start (accounts_password_pam_*) stay told apart by their end."""
    if width < 3 or text.cell_len <= width:
        return text[:width]
    head = _head(width) if head is None else head
    out = text[:head]
    out.append("…")
    out.append_text(text[len(text.plain) - (width - 1 - head):])
    return out


def _differ(one: str, other: str) -> tuple[int, int]:
    """Where two ids first differ, counted from the start and from the end."""
    start = next((i for i, (a, b) in enumerate(zip(one, other)) if a != b), min(len(one), len(other)))
    end = next((i for i, (a, b) in enumerate(zip(reversed(one), reversed(other))) if a != b),
               min(len(one), len(other)))
    return start, end


def distinct_cuts(ids: list[str], width: int) -> dict[str, str]:
    """Each id longer than width cut in the middle; where two cuts would read the same
    (accounts_maximum_age_login_defs, accounts_minimum_...), at a place that keeps a character
    in which they differ ('accounts_ma…login_defs', 'accounts_mi…login_defs'), when one exists."""
    def cut(one: str, head: int) -> str:
        return cut_middle(Text(one), width, head).plain

    cuts = {one: cut(one, _head(width)) for one in ids if len(one) > width}
    groups: dict[str, list[str]] = {}
    for one, shown in cuts.items():
        groups.setdefault(shown, []).append(one)
    heads = sorted(range(1, width - 1), key=lambda h: abs(h - _head(width)))
    for group in (g for g in groups.values() if len(g) > 1):
        for one in group:
            apart = [_differ(one, other) for other in group if other != one]

            def told(head: int) -> int:  # how many of the others this cut tells it from
                return sum(start < head or end < width - 1 - head for start, end in apart)
            cuts[one] = cut(one, max(heads, key=told))  # max keeps the first best: nearest the default
    return cuts


class KeyedTable(ScrollView, can_focus=True):
    """Rows keyed by domain ids; set_rows() replaces them and keeps the cursor's key."""

    BINDINGS = keymap.bindings("table")
    COMPONENT_CLASSES = {"keyed-table--header", "keyed-table--cursor", "keyed-table--empty"}

    cursor = reactive(0, repaint=False, init=False)

    class Highlighted(Message):
        def __init__(self, table: "KeyedTable", key: str | None):
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> "KeyedTable":
            return self.table

    class Chosen(Message):
        """A double click on a row (screens bind enter themselves, so the footer shows it)."""

        def __init__(self, table: "KeyedTable", key: str):
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> "KeyedTable":
            return self.table

    WIDE = 100  # columns from which a Column's wide label and width are used

    def __init__(self, columns: Sequence[Column], *, empty: str = "nothing to show",
                 gap: int = 1, name: str | None = None, id: str | None = None,
                 classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.empty_text = empty
        self.gap = gap
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Cell, ...]] = {}  # given rows, and rows changed in place
        self._source: Callable[[str], Sequence[Cell]] | None = None  # lazy rows: cells of a key
        self._index: dict[str, int] = {}
        self._last_highlight: str | None = None

    # ---------------------------------------------------------------- data

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None

    def cells(self, key: str) -> tuple[Cell, ...]:
        found = self._cells.get(key)
        if found is None:
            if self._source is None or key not in self._index:
                raise KeyError(key)
            found = tuple(self._source(key))
        return found

    def __contains__(self, key: str) -> bool:
        return key in self._index

    def set_rows(self, rows: Iterable[tuple[str, Sequence[Cell]]]) -> None:
        """Show these rows in this order; the cursor follows its key when it stays."""
        keys, cells = [], {}
        for key, row in rows:
            keys.append(key)
            cells[key] = tuple(row)
        self._replace(keys, cells, None)

    def set_keys(self, keys: list[str], source: Callable[[str], Sequence[Cell]]) -> None:
        """Show these keys; a row's cells come from source(key) only when it is drawn,
        so a long list costs nothing but its keys until the rows scroll into view."""
        self._replace(list(keys), {}, source)

    def _replace(self, keys: list[str], cells: dict, source) -> None:
        keep = self.cursor_key
        old_cursor = self.cursor
        self._keys, self._cells, self._source = keys, cells, source
        self._index = {key: i for i, key in enumerate(keys)}
        if keep in self._index:
            self.set_reactive(KeyedTable.cursor, self._index[keep])
        else:
            self.set_reactive(KeyedTable.cursor, max(0, min(old_cursor, len(keys) - 1)))
        self.virtual_size = Size(self._total_width(), len(keys) + 1)
        self._scroll_cursor_into_view()
        self.refresh()
        self._post_highlight()

    def update_row(self, key: str, cells: Sequence[Cell] | None = None) -> None:
        """Change one row in place (e.g. live progress), or redraw a lazy row from its
        source (cells None); keys not shown are ignored."""
        if key not in self._index:
            return
        if cells is not None:
            self._cells[key] = tuple(cells)
        else:
            self._cells.pop(key, None)
        line = self._index[key] - round(self.scroll_offset.y) + 1
        if 1 <= line < self.size.height:
            self.refresh_line(line)

    def move_to(self, key: str) -> bool:
        if key not in self._index:
            return False
        self.cursor = self._index[key]
        return True

    # ---------------------------------------------------------------- cursor

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        for index in (old, new):
            line = index - round(self.scroll_offset.y) + 1
            if 1 <= line < self.size.height:
                self.refresh_line(line)
        self._post_highlight()

    def _post_highlight(self) -> None:
        key = self.cursor_key
        if key != self._last_highlight:
            self._last_highlight = key
            self.post_message(self.Highlighted(self, key))

    def _scroll_cursor_into_view(self) -> None:
        visible = max(1, self.size.height - 1)
        top = round(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        if self._keys:
            self.cursor = max(0, min(len(self._keys) - 1, self.cursor + step))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        if self._keys:
            self.cursor = 0 if where == 0 else len(self._keys) - 1

    def action_choose(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Chosen(self, self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        row = event.y + round(self.scroll_offset.y) - 1
        if event.y >= 1 and 0 <= row < len(self._keys):
            if row == self.cursor and event.chain > 1:
                self.action_choose()
            self.cursor = row

    def on_resize(self) -> None:
        self.virtual_size = Size(self._total_width(), len(self._keys) + 1)
        self._scroll_cursor_into_view()

    # ---------------------------------------------------------------- rendering

    def _wide(self) -> bool:
        return (self.scrollable_content_region.width or self.size.width) >= self.WIDE

    def _fixed(self, column: Column) -> int | None:
        return column.wide_width if column.wide_width and self._wide() else column.width

    def _widths(self) -> list[int]:
        width = self.scrollable_content_region.width or self.size.width
        fixed = sum(self._fixed(c) or 0 for c in self.columns) + self.gap * (len(self.columns) - 1) + 1
        flexible = [c for c in self.columns if c.width is None]
        rest = max(0, width - fixed)
        weights = sum(c.flex for c in flexible) or 1
        widths, given = [], 0
        for column in self.columns:
            if (own := self._fixed(column)) is not None:
                widths.append(own)
                continue
            share = rest - given if column is flexible[-1] else rest * column.flex // weights
            given += share
            widths.append(max(column.min_width, share))
        return widths

    def _total_width(self) -> int:
        return sum(self._widths()) + self.gap * (len(self.columns) - 1) + 1

    def _line(self, cells: Sequence[Cell], widths: list[int], style: Style) -> Strip:
        line = Text(" ", end="", no_wrap=True)
        spacer = " " * self.gap
        for i, (column, width) in enumerate(zip(self.columns, widths)):
            value = cells[i] if i < len(cells) else None
            # cells hold host names, OS names and rule titles: never markup, controls visible
            text = safe(value).copy() if isinstance(value, Text) else plain(value)
            text.no_wrap = True
            if text.cell_len > width and callable(column.cut):
                text = Text(column.cut(text.plain, width), style=text.style, end="")
            elif text.cell_len > width and column.cut == "middle":
                text = cut_middle(text, width)
            elif text.cell_len > width:
                text.truncate(width, overflow="ellipsis")
            elif column.justify == "right":
                text.pad_left(width - text.cell_len)
            text.truncate(width, pad=True)
            line.append_text(text)
            if i < len(self.columns) - 1:
                line.append(spacer)
        segments = list(line.render(self.app.console))
        strip = Strip(segments, line.cell_len)
        return strip.apply_style(style)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        widths = self._widths()
        if y == 0:
            style = base + self.get_component_rich_style("keyed-table--header")
            wide = self._wide()
            strip = self._line([Text(c.wide_label if wide and c.wide_label else c.label) for c in self.columns],
                               widths, style)
        else:
            row = round(self.scroll_offset.y) + y - 1
            if not self._keys and y == 1:
                style = base + self.get_component_rich_style("keyed-table--empty")
                return Strip([Segment(f" {self.empty_text}"[:width], style)]).extend_cell_length(width, base)
            if row >= len(self._keys):
                return Strip.blank(width, base)
            style = base
            if row == self.cursor:
                style = base + self.get_component_rich_style("keyed-table--cursor")
            strip = self._line(self.cells(self._keys[row]), widths, style)
        x = round(self.scroll_offset.x)
        return strip.crop(x, x + width).extend_cell_length(width, style)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
