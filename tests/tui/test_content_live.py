"""Content imported while the TUI runs (issue 23, item 5): Settings' rescan shows it, and the
next look for content (a New Scan, a scan) uses it, without a restart."""

from __future__ import annotations

from pathlib import Path

from tests.tui.helpers import make_app, settle, wait_for
from tui.widgets.keyed_table import KeyedTable

SYSTEM = Path("/usr/share/xml/scap/ssg/content")


async def test_a_content_import_reaches_the_running_tui(data_dir, cli, tmp_path):
    # a datastream the TUI has not seen: the system's, one comment longer (another sha256)
    source = tmp_path / "release" / "ssg-macos1015-ds.xml"
    source.parent.mkdir()
    source.write_bytes((SYSTEM / source.name).read_bytes() + b"<!-- a later build -->\n")
    kept = data_dir / "content" / "imported-0.1.65" / source.name
    app = make_app(data_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        table = app.screen.query_one("#content", KeyedTable)
        await wait_for(pilot, lambda: table.row_count > 0, what="the installed content")
        assert str(kept) not in table.keys

        said = cli.ok("content", "import", str(source.parent)).stdout  # another process, as an operator would
        assert str(kept) in said
        await pilot.press("r")  # Rescan content
        await wait_for(pilot, lambda: str(kept) in table.keys, timeout=30, what="the imported datastream")
        assert table.cells(str(kept))[3] == source.name
        assert any(d.path == kept for d in await app.datastreams())
