"""core.content against the SSG content really installed here (Debian bookworm, SSG 0.1.65)
and against small hand-written datastreams for what the installed content cannot show."""

from __future__ import annotations

import bz2
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from core.content import catalog as content
from core.content.catalog import ContentError, available_profiles, discover, read_datastream, resolve_profile
from core.domain.models import OsInfo
from core.workspace import Workspace
from tests.oscap_results import PINNED_SSG, installed_ssg

SSG = Path("/usr/share/xml/scap/ssg/content")
P = "xccdf_org.ssgproject.content_profile_"
L1, L2 = P + "cis_level1_server", P + "cis_level2_server"

# pinned to bookworm's SSG 0.1.65: on an Ubuntu controller the system's own ssg-* packages are another release
needs_ssg = pytest.mark.skipif(
    not (SSG / "ssg-ubuntu2204-ds.xml").exists() or installed_ssg() != PINNED_SSG,
    reason=f"these counts are SSG {PINNED_SSG}'s (Debian bookworm's ssg-* packages); installed: {installed_ssg()}")


class CountingReader:
    """The discover() seam: records which files were really parsed, then parses them."""

    def __init__(self):
        self.paths: list[Path] = []

    def __call__(self, path: Path) -> content.Datastream:
        self.paths.append(path)
        return read_datastream(path)


@pytest.fixture(scope="module")
def ssg(tmp_path_factory):
    """A cold discover of the installed content, with its index and its parse count."""
    index = tmp_path_factory.mktemp("index") / "content-index.json"
    reader = CountingReader()
    found = discover([SSG], index, reader=reader)
    return found, index, reader


def by_product(found, product):
    [ds] = [d for d in found if d.product == product]
    return ds


# --- hand-written datastreams -------------------------------------------------------------

def make_ds(path: Path, version: str, profiles: dict[str, list[str]], rules=("a", "b", "c", "d"),
            tail: str = "", more_profiles: str = "") -> Path:
    """A small but structurally real SCAP 1.3 datastream: a CPE component, the XCCDF
    benchmark (profiles, values, groups, rules), then an OVAL component."""
    rule_xml = "".join(
        f'<xccdf:Rule id="xccdf_org.ssgproject.content_rule_{r}" selected="false" severity="medium">'
        f"<xccdf:title>Rule {r}</xccdf:title><xccdf:description>Do <html:code>{r}</html:code>"
        f"</xccdf:description></xccdf:Rule>" for r in rules)
    profile_xml = ""
    for name, selected in profiles.items():
        selects = "".join(f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_{r}" selected="true"/>'
                          for r in selected)
        profile_xml += (f'<xccdf:Profile id="{P}{name}"><xccdf:title xml:lang="en-US">Title of {name}'
                        f"</xccdf:title><xccdf:description>About <html:b>it</html:b></xccdf:description>"
                        f"{selects}"
                        # never counted: a group, an unknown id, a rule selected then deselected
                        f'<xccdf:select idref="xccdf_org.ssgproject.content_group_g" selected="true"/>'
                        f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_nosuch" selected="true"/>'
                        f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_d" selected="true"/>'
                        f'<xccdf:select idref="xccdf_org.ssgproject.content_rule_d" selected="false"/>'
                        f"</xccdf:Profile>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""<?xml version="1.0"?>
<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2"
  xmlns:xccdf="http://checklists.nist.gov/xccdf/1.2" xmlns:html="http://www.w3.org/1999/xhtml"
  xmlns:cpe-dict="http://cpe.mitre.org/dictionary/2.0"
  xmlns:oval-def="http://oval.mitre.org/XMLSchema/oval-definitions-5" id="scap_test_collection">
  <ds:component id="scap_test_comp_cpe"><cpe-dict:cpe-list><cpe-dict:cpe-item name="cpe:/o:test">
    <cpe-dict:title>Test</cpe-dict:title></cpe-dict:cpe-item></cpe-dict:cpe-list></ds:component>
  <ds:component id="scap_test_comp_xccdf">
    <xccdf:Benchmark id="xccdf_org.ssgproject.content_benchmark_TEST" resolved="true">
      <xccdf:title>Test benchmark</xccdf:title>
      <xccdf:version>{version}</xccdf:version>
      {profile_xml}{more_profiles}
      <xccdf:Value id="xccdf_org.ssgproject.content_value_v" type="number"><xccdf:value>1</xccdf:value></xccdf:Value>
      <xccdf:Group id="xccdf_org.ssgproject.content_group_g"><xccdf:title>G</xccdf:title>{rule_xml}</xccdf:Group>
    </xccdf:Benchmark>
  </ds:component>
  <ds:component id="scap_test_comp_oval"><oval-def:oval_definitions><oval-def:definitions>
    <oval-def:definition id="oval:test:def:1" class="compliance" version="1"/>
  </oval-def:definitions></oval-def:oval_definitions></ds:component>
{tail}</ds:data-stream-collection>
""")
    return path


def ubuntu(version: str) -> OsInfo:
    return OsInfo("ubuntu", version, f"Ubuntu {version} LTS", "debian")


# --- discover on the installed content ---------------------------------------------------------

@needs_ssg
def test_discover_reads_the_installed_content(ssg):
    found, _, reader = ssg
    ds_files = sorted(SSG.glob("ssg-*-ds.xml"))
    assert sorted(d.path for d in found) == ds_files
    assert not any(d.path.name.endswith("-ds-1.2.xml") for d in found)  # the twins are skipped
    assert sorted(reader.paths) == ds_files  # and never parsed
    assert found.warnings == []
    u2204 = by_product(found, "ubuntu2204")
    assert u2204.benchmark_id == "xccdf_org.ssgproject.content_benchmark_UBUNTU_22-04"
    assert u2204.version == "0.1.65"
    assert u2204.profiles[L1].rule_count == 189
    assert u2204.profiles[L2].rule_count == 273
    assert u2204.profiles[L1].title == "CIS Ubuntu 22.04 Level 1 Server Benchmark"
    assert u2204.sha256 == hashlib.sha256(u2204.path.read_bytes()).hexdigest()
    rhel9 = by_product(found, "rhel9")
    assert rhel9.profiles[P + "cis_server_l1"].rule_count == 234
    assert rhel9.profiles[P + "cis"].rule_count == 301
    assert not any("cis" in pid for pid in by_product(found, "debian11").profiles)


@needs_ssg
def test_second_discover_reuses_the_index(ssg):
    found, index, _ = ssg
    data = json.loads(index.read_text())
    assert set(data["files"]) == {str(d.path) for d in found}
    again = CountingReader()
    second = discover([SSG], index, reader=again)
    assert again.paths == []  # nothing parsed
    assert second == found
    assert second.warnings == []


@needs_ssg
def test_index_answers_instead_of_the_file(ssg, tmp_path):
    """Proof the index is what answers: a title changed in a copy of it comes back."""
    _, index, _ = ssg
    copy = tmp_path / "index.json"
    data = json.loads(index.read_text())
    data["files"][str(SSG / "ssg-ubuntu2204-ds.xml")]["profiles"][L1][0] = "Title from the index"
    copy.write_text(json.dumps(data))
    found = discover([SSG], copy, reader=CountingReader())
    assert by_product(found, "ubuntu2204").profiles[L1].title == "Title from the index"


# --- discover: index, staleness, bad files, formats ---------------------------------------------

def test_stale_index_entry_is_read_again(tmp_path):
    content_dir, index = tmp_path / "content", tmp_path / "index.json"
    first = make_ds(content_dir / "ssg-ubuntu2204-ds.xml", "0.1.65", {"cis_level1_server": ["a", "b"]})
    other = make_ds(content_dir / "ssg-rhel9-ds.xml", "0.1.65", {"cis_server_l1": ["a"]})
    reader = CountingReader()
    found = discover([content_dir], index, reader=reader)
    assert len(reader.paths) == 2 and by_product(found, "ubuntu2204").profiles[L1].rule_count == 2

    stat = first.stat()
    make_ds(first, "0.1.65", {"cis_level1_server": ["b", "a"]})  # same size, other bytes
    assert first.stat().st_size == stat.st_size
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    reader = CountingReader()
    found = discover([content_dir], index, reader=reader)
    assert reader.paths == [first]  # only the changed file, found by its mtime
    assert other not in reader.paths

    make_ds(first, "0.1.66", {"cis_level1_server": ["a", "b", "c"]})
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # same mtime, other size
    reader = CountingReader()
    found = discover([content_dir], index, reader=reader)
    assert reader.paths == [first]
    ds = by_product(found, "ubuntu2204")
    assert (ds.version, ds.profiles[L1].rule_count) == ("0.1.66", 3)
    assert ds.sha256 == hashlib.sha256(first.read_bytes()).hexdigest()


def test_corrupt_files_are_skipped_with_a_warning(tmp_path, caplog):
    good = make_ds(tmp_path / "ssg-ubuntu2204-ds.xml", "0.1.65", {"cis_level1_server": ["a"]})
    text = good.read_text()
    broken = tmp_path / "ssg-broken-ds.xml"
    broken.write_text(text[: len(text) // 2])  # cut inside the benchmark
    tail_cut = tmp_path / "ssg-tailcut-ds.xml"
    tail_cut.write_text(text[: text.index("<oval-def:definitions>") + 30])  # benchmark whole, file cut later
    no_bench = tmp_path / "ssg-nobench-ds.xml"
    no_bench.write_text('<?xml version="1.0"?><ds:data-stream-collection '
                        'xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2"/>')
    odd_root = tmp_path / "ssg-oddroot-ds.xml"
    odd_root.write_text('<version xmlns="http://checklists.nist.gov/xccdf/1.2">1</version>')
    bad_bz2 = tmp_path / "ssg-badbz-ds.xml.bz2"
    bad_bz2.write_bytes(bz2.compress(text.encode())[:200])
    hostile = tmp_path / "ssg-entity-ds.xml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                       + text.split("?>", 1)[1].replace("Title of cis_level1_server", "Title &e;"))
    index = tmp_path / "index.json"
    reader = CountingReader()
    found = discover([tmp_path], index, reader=reader)
    assert [d.path for d in found] == [hostile, good]
    names = " ".join(found.warnings)
    for bad in (broken, tail_cut, no_bench, odd_root, bad_bz2):
        assert f"skipped {bad}" in names
    assert "no XCCDF Benchmark" in names
    assert any("skipped" in r.getMessage() for r in caplog.records)
    # an external entity is never fetched nor expanded
    assert by_product(found, "entity").profiles[L1].title == "Title &e;"
    assert "root:" not in index.read_text()
    # a failure is remembered too: unchanged bad files are not parsed again, still reported
    again = CountingReader()
    second = discover([tmp_path], index, reader=again)
    assert again.paths == []
    assert second.warnings == found.warnings


def test_bz2_datastream_and_twin_rules(tmp_path):
    plain = make_ds(tmp_path / "a" / "ssg-ubuntu2204-ds.xml", "0.1.65", {"cis_level1_server": ["a", "b"]})
    shutil.copy(plain, tmp_path / "a" / "ssg-ubuntu2204-ds-1.2.xml")  # twin beside -ds.xml: skipped
    packed = tmp_path / "b" / "ssg-rhel9-ds.xml.bz2"
    packed.parent.mkdir()
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    shutil.copy(packed, tmp_path / "b" / "ssg-rhel9-ds-1.2.xml.bz2")  # twin beside -ds.xml.bz2: skipped
    alone = make_ds(tmp_path / "c" / "ssg-sle15-ds-1.2.xml", "0.1.65", {"cis": ["a"]})  # twin alone: kept
    make_ds(tmp_path / "c" / "ssg-sle15-xccdf.xml", "0.1.65", {"cis": ["a"]})  # not a datastream name
    found = discover([tmp_path / "a", tmp_path / "b", tmp_path / "c", tmp_path / "missing"])
    assert [d.path for d in found] == [plain, packed, alone]
    rhel9 = by_product(found, "rhel9")
    assert rhel9.profiles[L1].rule_count == 2
    assert rhel9.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()  # of the file as stored
    assert by_product(found, "sle15").product == "sle15"


def test_dpkg_x_tree_and_duplicate_dirs(tmp_path):
    """Packages unpacked with dpkg -x keep their usr/share/... tree; a file is listed once."""
    unpacked = make_ds(tmp_path / "usr/share/xml/scap/ssg/content/ssg-ubuntu2404-ds.xml", "0.1.76",
                       {"cis_level1_server": ["a"], "cis_level2_server": ["a", "b"]})
    found = discover([tmp_path, tmp_path / "usr/share/xml/scap/ssg/content", tmp_path])
    assert [d.path for d in found] == [unpacked]
    choices = available_profiles(ubuntu("24.04"), found)
    assert [(c.short_name, c.rule_count) for c in choices] == [("cis-level1-server", 1), ("cis-level2-server", 2)]


def test_unreadable_or_foreign_index_is_replaced(tmp_path):
    make_ds(tmp_path / "content" / "ssg-ubuntu2204-ds.xml", "0.1.65", {"cis_level1_server": ["a"]})
    index = tmp_path / "deep" / "er" / "index.json"
    assert len(discover([tmp_path / "content"], index)) == 1  # parent dirs are made
    for junk in ("{not json", '{"format": 99, "files": {}}', "[]", '{"format": 1, "files": {"x": 1}}'):
        index.write_text(junk)
        reader = CountingReader()
        assert len(discover([tmp_path / "content"], index, reader=reader)) == 1
        assert len(reader.paths) == 1
        assert json.loads(index.read_text())["format"] == content.INDEX_FORMAT


def test_default_content_dirs(tmp_path, monkeypatch):
    """The data dir's content/ (its imports), the user's fetched releases, then the rest."""
    monkeypatch.delenv("COMPLIANCE_TUI_CONTENT_DIRS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    system = [Path("/usr/share/xml/scap/ssg/content"), Path("/usr/share/scap-security-guide")]
    releases = (tmp_path / "share" / "compliance-tui" / "releases").resolve()
    assert content.default_content_dirs(tmp_path) == [tmp_path / "content", releases, *system]
    monkeypatch.setenv("COMPLIANCE_TUI_CONTENT_DIRS", f"/a:/b:{releases}")
    assert content.default_content_dirs(tmp_path) == [tmp_path / "content", releases, Path("/a"), Path("/b"),
                                                      *system]
    other = tmp_path / "another-data-dir"  # COMPLIANCE_TUI_HOME elsewhere: the same releases
    assert content.default_content_dirs(other)[:2] == [other / "content", releases]


async def test_a_running_workspace_sees_content_added_on_disk(tmp_path, monkeypatch):
    """`content import` from another process, or `make content`, while a TUI or worker runs: its
    next look finds the new file, and an unchanged disk is not read again."""
    monkeypatch.delenv("COMPLIANCE_TUI_CONTENT_DIRS", raising=False)
    data_dir, imported = tmp_path / "data", tmp_path / "data" / "content" / "imported-0.1.99"
    async with await Workspace.open(data_dir, content_dirs=[data_dir / "content"]) as workspace:
        assert await workspace.datastreams() == []
        first = make_ds(imported / "ssg-ubuntu2404-ds.xml", "0.1.99", {"cis_level1_server": ["a"]})
        found = await workspace.datastreams()
        assert [d.path for d in found] == [first]
        assert await workspace.datastreams() is found  # nothing changed: the same list, no reading
        make_ds(imported / "ssg-debian12-ds.xml", "0.1.99", {"cis_level1_server": ["a", "b"]})
        assert sorted(d.product for d in await workspace.datastreams()) == ["debian12", "ubuntu2404"]
        first.unlink()
        assert [d.product for d in await workspace.datastreams()] == ["debian12"]


def test_one_datastream_in_two_places_is_found_once(tmp_path):
    """A release fetched for the user and also imported into a data dir (or fetched there by an
    older version): one entry, the data dir's own."""
    mine = make_ds(tmp_path / "data/content/imported-0.1.99/ssg-ubuntu2404-ds.xml", "0.1.99",
                   {"cis_level1_server": ["a"]})
    shared = tmp_path / "releases/debian-sid/ssg-ubuntu2404-ds.xml"
    shared.parent.mkdir(parents=True)
    shared.write_bytes(mine.read_bytes())
    found = discover([tmp_path / "data/content", tmp_path / "releases"])
    assert [d.path for d in found] == [mine]


def test_profile_that_extends_another(tmp_path):
    """Resolved SSG content has no `extends`, but hand-made or tailored content may."""
    child = (f'<xccdf:Profile id="{P}child" extends="{L1}"><xccdf:title>Child</xccdf:title>'
             '<xccdf:select idref="xccdf_org.ssgproject.content_rule_c" selected="true"/>'
             '<xccdf:select idref="xccdf_org.ssgproject.content_rule_a" selected="false"/></xccdf:Profile>'
             f'<xccdf:Profile id="{P}loop" extends="{P}loop"><xccdf:title>Loop</xccdf:title>'
             '<xccdf:select idref="xccdf_org.ssgproject.content_rule_b" selected="true"/></xccdf:Profile>')
    ds = read_datastream(make_ds(tmp_path / "ssg-ubuntu2204-ds.xml", "0.1.65",
                                 {"cis_level1_server": ["a", "b"]}, more_profiles=child))
    assert ds.profiles[L1].rule_count == 2
    assert ds.profiles[P + "child"].rule_count == 2  # b from the parent, c its own, a dropped
    assert ds.profiles[P + "loop"].rule_count == 1
    assert ds.profiles[P + "child"].title == "Child"


def test_read_datastream_rejects_other_file_names(tmp_path):
    path = make_ds(tmp_path / "benchmark.xml", "0.1.65", {"cis_level1_server": ["a"]})
    with pytest.raises(ContentError, match="not a datastream file name"):
        read_datastream(path)


# --- several releases of one product -------------------------------------------------------------

def test_newest_release_that_has_the_profile_wins(tmp_path):
    old = make_ds(tmp_path / "a" / "ssg-ubuntu2204-ds.xml", "0.1.9",
                  {"cis_level1_server": ["a"], "cis_level2_server": ["a", "b"]})
    new = make_ds(tmp_path / "b" / "ssg-ubuntu2204-ds.xml", "0.1.10",  # 10 > 9 numerically, not as text
                  {"cis_level1_server": ["a", "b"], "cis_level2_server": ["a", "b", "c"]})
    newer = make_ds(tmp_path / "c" / "ssg-ubuntu2204-ds.xml", "0.1.11", {"cis_level1_server": ["a", "b", "c"]})
    found = discover([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    assert len(found) == 3
    l1 = resolve_profile(ubuntu("22.04"), "cis-level1-server", found)
    l2 = resolve_profile(ubuntu("22.04"), "cis-level2-server", found)
    assert (l1.datastream.path, l1.datastream.version, l1.rule_count) == (newer, "0.1.11", 3)
    assert (l2.datastream.path, l2.datastream.version, l2.rule_count) == (new, "0.1.10", 3)  # 0.1.11 lacks it
    assert [c.datastream.path for c in available_profiles(ubuntu("22.04"), found)] == [newer, new]
    assert old not in [c.datastream.path for c in available_profiles(ubuntu("22.04"), found)]
    # the same release twice: the first directory (the operator's own content dir) wins
    twin = make_ds(tmp_path / "d" / "ssg-ubuntu2204-ds.xml", "0.1.11", {"cis_level1_server": ["a"]})
    found = discover([tmp_path / "d", tmp_path / "c"])
    assert resolve_profile(ubuntu("22.04"), "cis-level1-server", found).datastream.path == twin


@needs_ssg
def test_a_newer_release_in_the_data_dir_beats_the_system_one(ssg, tmp_path, monkeypatch):
    monkeypatch.delenv(content.CONTENT_DIRS_ENV, raising=False)  # only the data dir and the system's
    data_dir = tmp_path / "data"
    mine = make_ds(data_dir / "content" / "ssg-ubuntu2204-ds.xml", "0.1.100", {"cis_level1_server": ["a", "b"]})
    index = shutil.copy(ssg[1], tmp_path / "index.json")  # the system files are indexed already
    reader = CountingReader()
    found = discover(content.default_content_dirs(data_dir), index, reader=reader)
    assert reader.paths == [mine]
    l1 = resolve_profile(ubuntu("22.04"), "cis-level1-server", found)
    assert (l1.datastream.path, l1.rule_count) == (mine, 2)
    l2 = resolve_profile(ubuntu("22.04"), "cis-level2-server", found)  # only the system one has it
    assert (l2.datastream.path, l2.datastream.version, l2.rule_count) == (SSG / "ssg-ubuntu2204-ds.xml", "0.1.65", 273)
