"""One keymap: a key means one thing on every screen (docs/tui.md says where and why not),
and the config file can move any binding."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tests.tui.helpers import SCAN_IDS, add_host, make_app, settle, wait_for
from tui.common.keymap import KEYMAP, clashes, key_label, markdown_table, without_clashes
from tui.modals.host_form import HostFormModal

# What an action means to the operator: several actions can mean one thing.
MEANING = {
    "open_scans": "open", "results": "open", "expand": "open", "details": "open", "open_host": "open",
    "back": "leave", "close": "leave", "answer(False)": "leave", "quit": "leave",
    "cycle('job-status')": "status filter", "cycle_status": "status filter",
    "cycle('job-host')": "host", "choose_host": "host",
    "scroll(1)": "down", "cursor(1)": "down", "scroll(-1)": "up", "cursor(-1)": "up",
    "scroll(-10)": "page up", "page(-1)": "page up", "scroll(10)": "page down", "page(1)": "page down",
    "scroll_end": "last", "jump(-1)": "last", "jump(0)": "first",
    "create": "save", "start": "save", "import": "save", "add": "save", "save": "save",
    "by_control": "by control", "cycle('control-system')": "by control",  # B: open by control, next system
    "cycle('control-status')": "status filter", "export('report')": "report",
    "apply": "answer(True)", "decide('approve')": "answer(True)", "decide('revoke')": "delete", "cycle": "result filter", "cycle('result-filter')": "result filter", "regenerate": "reload", "test": "ai_test", "ai_settings": "edit",
}
# Keys whose meaning depends on the layer, as docs/tui.md's key table says.
LAYERED = {
    "n": "no in a yes/no question, Reject on Exceptions, New Scan elsewhere",
    "space": "pages down in read-only views (rule and job details), selects in lists",
    "a": "adds a host on Hosts, adds the selected hosts in Import hosts, requests an exception in Results",
    "q": "closes a details view, quits or leaves a screen elsewhere",
    "i": "imports into the screen's own list (hosts on Hosts, results on Compliance)",
    "enter": "opens the selected item; in a message (the Check report) it closes it",
    "question_mark": "opens help; in help it closes it",
}


def test_no_key_means_two_things_on_two_screens():
    meanings: dict[str, set[str]] = {}
    for scope, keys in KEYMAP.items():
        for key in keys:
            meaning = MEANING.get(key.action, key.action)
            for one in key.keys.split(","):
                meanings.setdefault(one, set()).add(meaning)
    clashes = {key: sorted(found) for key, found in meanings.items() if len(found) > 1 and key not in LAYERED}
    assert clashes == {}


def test_every_binding_has_an_id_a_description_and_is_listed_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "tui.md").read_text()
    for keys in KEYMAP.values():
        for key in keys:
            assert key.id and key.description, key
    assert markdown_table() in readme, "docs/tui.md's key table: paste tui.common.keymap.markdown_table()"


async def test_the_config_file_moves_a_key(data_dir, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"hosts.add" = "A"\n')
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(config))
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, HostFormModal)
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, HostFormModal), what="the host form")


async def test_an_unknown_key_id_in_the_config_is_one_clear_notice(data_dir, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"hosts.nope" = "A"\n')
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(config))
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("unknown key id 'hosts.nope'" in m for m in messages)


# ---------------------------------------------------------------- footers at 80 columns

# The keys each screen's footer must show: what an operator looks for first there.
MAIN_KEYS = {
    "dashboard": {"enter", "r", "question_mark"},
    "hosts": {"enter", "n", "space", "a", "e", "d", "c", "H", "question_mark"},
    "compliance": {"enter", "n", "space", "C", "h", "s", "o", "question_mark"},
    "results": {"enter", "space", "F", "x", "X", "question_mark"},
    "jobs": {"enter", "ctrl+k", "plus", "minus", "W", "r", "question_mark"},
    "schedules": {"a", "e", "p", "d", "r", "question_mark"},
    "exceptions": {"y", "n", "d", "s", "r", "question_mark"},
    "compare": {"f", "question_mark"},
    "settings": {"r", "e", "u", "question_mark"},
}


def footer_width(scopes: tuple[str, ...]) -> int:
    """Cells the footer takes for these scopes' shown keys: 'key description' and a space each."""
    from textual.app import App

    shown = [k for scope in scopes for k in KEYMAP[scope] if k.show]
    return sum(len(App.get_key_display(App, Binding(k.keys.split(",")[0], k.action))) + len(k.description) + 2
               for k in shown)


def test_every_screens_shown_keys_fit_an_80_column_footer():
    """Every key a footer may show at once (Explain and Test AI included) fits in 80 columns."""
    for scope in MAIN_KEYS:
        assert footer_width((scope, "screen", "table", "app")) <= 80, scope


async def footer_keys(pilot) -> dict[str, tuple[int, int]]:
    """The keys the footer shows: key -> (first column, last column + 1)."""
    await settle(pilot)
    footer = pilot.app.screen.query_one(Footer)
    return {key.key: (key.region.x, key.region.right) for key in footer.query(FooterKey)}


async def test_each_screens_footer_shows_its_keys_whole_at_80_columns(fleet_data):
    from tui.screens.results import ResultsScreen

    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        seen = {}
        for key, mode in (("1", "dashboard"), ("2", "hosts"), ("4", "jobs"), ("5", "schedules"),
                          ("6", "settings"), ("3", "compliance")):
            await pilot.press(key)
            seen[mode] = await footer_keys(pilot)
        app.screen.select_host("web01")
        await settle(pilot)
        await pilot.press("down", "C")  # web-3 compared with the scan before it
        await settle(pilot)
        seen["compare"] = await footer_keys(pilot)
        await pilot.press("escape")
        await app.push_screen(ResultsScreen(await app.workspace.store.get_scan(SCAN_IDS["web-3"])))
        seen["results"] = await footer_keys(pilot)
    for mode, keys in seen.items():
        assert MAIN_KEYS[mode] <= set(keys), (mode, MAIN_KEYS[mode] - set(keys))
        shown = {k.keys.split(",")[0] for k in KEYMAP[mode] if k.show} - {"E", "T"}  # those two need an LLM
        assert shown <= set(keys), (mode, shown - set(keys))
        assert all(0 <= start and end <= 80 for start, end in keys.values()), (mode, keys)


# ---------------------------------------------------------------- keys moved onto other keys

def test_a_move_onto_another_bindings_key_is_a_clash_and_a_swap_is_not():
    (clash,) = clashes({"hosts.add": "d"})
    assert (clash.moved, clash.other, clash.key) == ("hosts.add", "hosts.delete", "d")
    assert str(clash) == ('config [keys]: "hosts.add" and "hosts.delete" are both on d (hosts); '
                          '"hosts.add" stays on a')
    assert clashes({"hosts.add": "d", "hosts.delete": "a"}) == []  # a swap
    assert clashes({"hosts.add": "y"}) == []  # y answers questions: another layer
    assert [c.other for c in clashes({"hosts.add": "?"})] == ["app.help"]
    assert [c.other for c in clashes({"jobs.cancel": "4"})] == ["app.go_jobs"]
    assert clashes({}) == []  # the defaults: layers (a dialog's esc over every dialog's), no clash
    kept, said = without_clashes({"hosts.add": "d", "jobs.cancel": "ctrl+x"})
    assert kept == {"jobs.cancel": "ctrl+x"} and len(said) == 1


async def test_a_clash_in_the_config_is_said_at_start_and_both_keys_keep_working(data_dir, tmp_path,
                                                                                  monkeypatch):
    from tui.modals.confirm import ConfirmModal

    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"hosts.add" = "d"\n')
    monkeypatch.setenv("COMPLIANCE_TUI_CONFIG", str(config))
    async with make_app(data_dir).run_test(size=(80, 24)) as pilot:
        app = pilot.app
        await settle(pilot)
        said = [n.message for n in app._notifications if "config [keys]" in n.message]
        assert said == ['config [keys]: "hosts.add" and "hosts.delete" are both on d (hosts); '
                        '"hosts.add" stays on a']
        await pilot.press("2")
        keys = await footer_keys(pilot)
        assert {"a", "d"} <= set(keys)  # neither disappeared from the footer
        await add_host(app.workspace, "web01")
        app.screen.reload()
        await settle(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="the delete question")
        await pilot.press("n")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, HostFormModal), what="the host form")


# ---------------------------------------------------------------- keys as one types them

async def test_help_and_the_palette_name_keys_as_they_are_typed(data_dir):
    from tui.commands import ScreenCommands

    async with make_app(data_dir).run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        palette = {title: where for title, where, _run in ScreenCommands(pilot.app.screen)._commands()}
        await pilot.press("question_mark")
        await settle(pilot)
        help_keys = {description: key for _group, key, description in pilot.app.screen.entries}
    assert help_keys["Raise the selected waiting job's priority"] == "+, ="
    assert help_keys["Next page"] == "]" and help_keys["Previous page"] == "["
    assert palette["Raise the selected waiting job's priority"] == "this screen (key +, =)"
    assert palette["Next page"] == "this screen (key ])"
    assert key_label("plus,equals_sign") == "+, =" and key_label("escape,q") == "esc, q"
