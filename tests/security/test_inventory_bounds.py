"""An inventory range bomb (issue 22, item 4): `web[0:9999999].example.com` and friends are
counted before they are expanded and refused in one line, at most 10,000 hosts per file, in
every format and through ansible-inventory too; the parser's process stays small. The TUI's
Import hosts, which reads inventories through the same parser, shows that line."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.hosts import inventory

ROOT = Path(__file__).resolve().parents[2]
HOSTS_BOUND = 10_000
# A process that imported the parser (PyYAML, the app's domain) and read one bomb: 16 MiB
# measured, with or without ansible-inventory; before the bound, 1.5 GB in 5 s and growing.
RSS_BOUND_MIB = 100

READ = (  # the peak is VmHWM (see tests/security/conftest.py's MEASURED)
    "import re, sys\n"
    "from core.domain.errors import OperatorError\n"
    "from core.hosts import inventory\n"
    "try:\n"
    "    found = inventory.read_file(sys.argv[1], use_ansible=sys.argv[2] == 'ansible')\n"
    "    print('read', len(found.found))\n"
    "except OperatorError as exc:\n"
    "    print('error:', exc)\n"
    "print('peak', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1), file=sys.stderr)\n"
)

BOMBS = {
    "hosts.ini": "[web]\nweb[0:9999999].example.com ansible_user=deploy\n",
    "nested.ini": "[db]\ndb-[a:z][0:999][0:999]\n",
    "many-lines.ini": "[web]\n" + "".join(f"web{i}-[0:999]\n" for i in range(11)),  # 11,000 across lines
    "inventory.yml": "all:\n  children:\n    web:\n      hosts:\n        'web[0:9999999].example.com':\n",
}


def read_in_child(path: Path, ansible: bool) -> tuple[str, float, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", READ, str(path), "ansible" if ansible else "plain"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    took = time.monotonic() - started
    peak = int(done.stderr.rsplit("peak ", 1)[1]) / 1024
    return done.stdout, peak, took


@pytest.mark.parametrize("name", sorted(BOMBS))
@pytest.mark.parametrize("ansible", [False, True], ids=["parser", "ansible-inventory"])
def test_22_4_an_inventory_range_bomb_is_refused_before_memory_grows(tmp_path, name, ansible):
    if ansible and inventory.ansible_inventory() is None:
        pytest.skip("ansible-inventory is not installed")
    path = tmp_path / name
    path.write_text(BOMBS[name])
    out, peak, took = read_in_child(path, ansible)
    assert out.startswith("error: ") and out.count("\n") == 1, out
    assert f"at most {HOSTS_BOUND:,} hosts per file" in out and "split the inventory" in out, out
    assert "line " in out or "group " in out, out  # where in the file
    assert peak < RSS_BOUND_MIB, f"{name}: peak RSS {peak:.0f} MiB"
    assert took < 10, f"{name}: {took:.1f} s"  # refused at once, not after expanding


def test_22_4_an_inventory_at_the_bound_is_read(tmp_path):
    """10,000 hosts (a range and a host named in two groups, counted once) are read whole."""
    path = tmp_path / "hosts.ini"
    path.write_text("[web]\nweb[0000:9998]\nshared\n[db]\nshared\n")
    found = inventory.read_file(path, use_ansible=False)
    assert len(found.found) == HOSTS_BOUND and found.found[0].host.name == "web0000"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    path.write_text("[web]\nweb[0000:9999]\nextra\n")
    with pytest.raises(inventory.InventoryError, match="at most 10,000 hosts per file"):
        inventory.read_file(path, use_ansible=False)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024
    # each parser counts on its own too (the TUI may name the kind), and an ssh config's aliases
    for text, kind in ((BOMBS["hosts.ini"], inventory.ANSIBLE_INI), (BOMBS["inventory.yml"], inventory.ANSIBLE_YAML),
                       ("".join(f"Host h{i}\n" for i in range(HOSTS_BOUND + 1)), inventory.SSH_CONFIG)):
        with pytest.raises(inventory.InventoryError, match="at most 10,000 hosts per file"):
            inventory.parse(text, kind)


async def test_22_4_the_tuis_import_hosts_shows_the_one_line(data_dir, tmp_path):
    from textual.widgets import Input, Static

    from tests.tui.helpers import make_app
    from tui.modals.import_hosts import ImportHostsModal

    path = tmp_path / "hosts.ini"
    path.write_text(BOMBS["hosts.ini"])
    app = make_app(data_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        modal = ImportHostsModal()
        await app.push_screen(modal)
        field = modal.query_one("#path", Input)
        field.value = str(path)
        await pilot.press("enter")
        error = modal.query_one("#import-error", Static)
        started = time.monotonic()
        while "at most" not in str(error.render()) and time.monotonic() - started < 30:
            await pilot.pause(0.05)
        shown = str(error.render())
    assert "'web[0:9999999].example.com' names 10,000,000 hosts" in shown and "split the inventory" in shown
