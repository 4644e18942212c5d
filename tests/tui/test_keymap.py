"""One keymap: a key means one thing on every screen (docs/tui.md says where and why not),
and the config file can move any binding."""

from __future__ import annotations

from tests.tui.helpers import make_app, settle, wait_for
from tui.keymap import KEYMAP, markdown_table
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
    "apply": "answer(True)", "cycle": "result filter", "cycle('result-filter')": "result filter", "regenerate": "reload", "test": "ai_test", "ai_settings": "edit",
}
# Keys whose meaning depends on the layer, as docs/tui.md's key table says.
LAYERED = {
    "n": "no in a yes/no question, New Scan elsewhere",
    "space": "pages down in read-only views (rule and job details), selects in lists",
    "a": "adds a host on Hosts, adds the selected hosts in Import hosts",
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
    assert markdown_table() in readme, "docs/tui.md's key table: paste tui.keymap.markdown_table()"


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
