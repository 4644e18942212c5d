"""`content list` shows every OS of the spec's table; `content import` takes dirs and release zips."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from core.content import catalog as content
from tests.conftest import _index_path

SPEC_ROWS = ["Ubuntu 20.04", "Ubuntu 22.04", "Ubuntu 24.04", "Debian 11", "Debian 12", "RHEL 8",
             "RHEL 9", "AlmaLinux 8", "AlmaLinux 9", "Rocky Linux 8", "Rocky Linux 9",
             "Oracle Linux 8", "Oracle Linux 9", "Amazon Linux 2"]
SYSTEM = Path("/usr/share/xml/scap/ssg/content")


def test_content_list_covers_every_row_of_the_spec(cli):
    rows = {row["os"]: row["profiles"] for row in cli.ok("content", "list", "--json").json()}
    assert set(SPEC_ROWS) <= set(rows)
    for label in SPEC_ROWS:
        for name in ("cis-level1-server", "cis-level2-server"):
            entry = rows[label][name]
            assert entry["available"] or entry["reason"], (label, name)
            if entry["available"]:
                assert entry["xccdf_id"].startswith("xccdf_") and entry["rules"] > 0
    assert rows["Ubuntu 22.04"]["cis-level1-server"]["available"]
    al2 = rows["Amazon Linux 2"]["cis-level1-server"]  # RHEL 7's content, installed with bookworm's SSG
    assert al2["available"] and al2["derived_from"] == "RHEL 7" and al2["switched_off"]
    rocky = rows["Rocky Linux 9"]["cis-level1-server"]
    assert rocky["available"] and rocky["derived_from"] == "RHEL 9"
    listed = cli.ok("content", "list", "--json").json()
    order = [row["beyond_spec"] for row in listed]
    assert order == sorted(order) and [row["os"] for row in listed][:14] == SPEC_ROWS
    text = cli.ok("content", "list").stdout
    assert "derived from RHEL 9 content" in text and "derived from RHEL 7 content" in text
    assert "(beyond the spec's table)" in text and "Amazon Linux 2: switched off " in text


def test_import_a_directory_and_a_release_zip(cli, data_dir, tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    shutil.copy(SYSTEM / "ssg-ubuntu2204-ds.xml", folder)
    said = cli.ok("content", "import", str(folder)).stdout
    assert "ssg-ubuntu2204-ds.xml (SSG 0.1.65" in said
    assert (data_dir / "content" / "imported-0.1.65" / "ssg-ubuntu2204-ds.xml").is_file()

    release = tmp_path / "scap-security-guide-0.1.65.zip"
    with zipfile.ZipFile(release, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(SYSTEM / "ssg-rhel9-ds.xml", "scap-security-guide-0.1.65/ssg-rhel9-ds.xml")
        bundle.writestr("scap-security-guide-0.1.65/README.md", "docs")
        bundle.writestr("../../ssg-evil-ds.xml", "<not-a-datastream/>")
    refused = cli("content", "import", str(release))
    assert refused.returncode == 1 and "ssg-evil-ds.xml" in refused.stderr
    assert not list(tmp_path.rglob("ssg-evil-ds.xml")) and not (data_dir / "content" / "imported-0.1.65" /
                                                             "ssg-rhel9-ds.xml").exists()

    with zipfile.ZipFile(release, "w") as bundle:
        bundle.write(SYSTEM / "ssg-rhel9-ds.xml", "scap-security-guide-0.1.65/ssg-rhel9-ds.xml")
    cli.ok("content", "import", str(release))
    assert (data_dir / "content" / "imported-0.1.65" / "ssg-rhel9-ds.xml").is_file()


def test_import_rejects_what_is_not_content(cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("content", "import", str(empty))
    assert result.returncode == 1 and "no SCAP Security Guide datastream" in result.stderr
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = cli("content", "import", str(text))
    assert result.returncode == 1 and "directory of datastreams or a release .zip" in result.stderr


def newer_datastream(content_index, tmp_path, product: str) -> Path:
    """A datastream of a newer release that has CIS profiles (what `make content` fetched)."""
    found = content.discover(content.default_content_dirs(tmp_path / "none"), content_index)
    for ds in sorted(found, key=lambda d: content.version_key(d.version), reverse=True):
        if ds.product == product and any("cis" in pid for pid in ds.profiles):
            return ds.path
    pytest.skip(f"no {product} content with CIS profiles here: `make content` fetches it")


def test_fetched_releases_serve_every_data_dir(cli, home, tmp_path, content_index):
    """`make content` fetches into the user's releases folder: a data dir elsewhere
    (COMPLIANCE_TUI_HOME) offers Debian 12's profiles too, and imports stay per data dir."""
    debian12 = newer_datastream(content_index, tmp_path, "debian12")
    share = home / ".local" / "share"
    env = {"XDG_DATA_HOME": str(share), "COMPLIANCE_TUI_CONTENT_DIRS": ""}

    def debian12_level1(data_dir: Path) -> dict:
        if not data_dir.exists():  # a data dir of its own, with the run's content index (read once)
            shutil.copy(content_index, _index_path(data_dir))
        rows = cli.ok("content", "list", "--json", env=env | {"COMPLIANCE_TUI_HOME": str(data_dir)}).json()
        return next(r for r in rows if r["os"] == "Debian 12")["profiles"]["cis-level1-server"]

    assert not debian12_level1(tmp_path / "other")["available"]  # bookworm's own SSG has none
    releases = share / "compliance-tui" / "releases" / "debian-sid"
    releases.mkdir(parents=True)
    (releases / debian12.name).symlink_to(debian12)
    for data_dir in (tmp_path / "other", tmp_path / "third"):
        found = debian12_level1(data_dir)
        assert found["available"] and found["path"] == str(releases / debian12.name), found
