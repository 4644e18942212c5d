"""core.content.derive on real content: RHEL 8 and 9 of SSG 0.1.65 (installed here), 0.1.76 and 0.1.82
(from $COMPLIANCE_TUI_CONTENT_DIRS when `make content` has fetched them), RHEL 7 of 0.1.65 for
Amazon Linux 2, RHEL 10 for its rebuilds, and Debian 12 of 0.1.82 for Debian 11."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree

from core.content import catalog as content
from core.content import derive
from core.content.catalog import ContentError, read_datastream, resolve_profile
from core.domain.models import OsInfo
from tests.oscap_results import make_probe_root

SSG = Path("/usr/share/xml/scap/ssg/content")
P = "xccdf_org.ssgproject.content_profile_"
OVAL = "{http://oval.mitre.org/XMLSchema/oval-definitions-5}"
IND = "{http://oval.mitre.org/XMLSchema/oval-definitions-5#independent}"
XCCDF = "{http://checklists.nist.gov/xccdf/1.2}"
ROCKY9 = OsInfo("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)", "rhel")
ALMA8 = OsInfo("almalinux", "8.9", "AlmaLinux 8.9 (Midnight Oncilla)", "rhel")
DEBIAN11 = OsInfo("debian", "11", "Debian GNU/Linux 11 (bullseye)", "debian")
AL2 = OsInfo("amzn", "2", "Amazon Linux 2", "rhel")
ROCKY10 = OsInfo("rocky", "10.0", "Rocky Linux 10.0 (Red Quartz)", "rhel")
# the OS each source product is derived for here, and the played OS that stands for it
REBUILD = {"rhel9": ROCKY9, "rhel8": ALMA8, "debian12": DEBIAN11, "rhel7": AL2, "rhel10": ROCKY10}
PLAYED = {"rhel9": "rocky9", "rhel8": "almalinux8", "debian12": "debian11", "rhel7": "amzn2"}

needs_oscap = pytest.mark.skipif(shutil.which("oscap") is None, reason="oscap is not installed")


RELEASES = [(product, version) for product in ("rhel8", "rhel9") for version in ("0.1.65", "0.1.76", "0.1.82")]
RELEASES += [("rhel7", "0.1.65"), ("debian12", "0.1.82"), ("rhel10", "0.1.76"), ("rhel10", "0.1.82")]


@pytest.fixture(scope="module")
def sources() -> dict[tuple[str, str], content.Datastream]:
    """The source content of each release found here, by (product, release)."""
    dirs = [Path(p) for p in os.environ.get(content.CONTENT_DIRS_ENV, "").split(":") if p] + [SSG]
    found = {}
    for directory in dirs:
        for product in REBUILD:
            for path in sorted(directory.rglob(f"ssg-{product}-ds.xml")):
                ds = read_datastream(path)
                if ds.version == "0.1.76" and product == "debian12":
                    continue  # Debian 12 content without CIS profiles
                found.setdefault((ds.product, ds.version), ds)
    return found


@pytest.fixture(params=RELEASES, ids=lambda r: f"{r[0]}-{r[1]}")
def source(request, sources) -> content.Datastream:
    if request.param not in sources:
        pytest.skip(f"SSG {request.param[1]} {request.param[0]} content is not here (make content)")
    return sources[request.param]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def choice_for(source: content.Datastream, profile: str = "cis-level1-server") -> content.ProfileChoice:
    return resolve_profile(REBUILD[source.product], profile, [source])


def test_derived_content_validates_and_accepts_the_rebuild(source, cache):
    choice = choice_for(source)
    derived = derive.materialize(choice, cache).datastream
    rebuild = choice.derivative
    assert derived.path == derive.derived_path(cache, source, rebuild)
    assert derived.path.name == f"ssg-{rebuild.key}-from-{source.product}-ds.xml"
    assert source.sha256 in str(derived.path) and derived.sha256 != source.sha256
    assert (derived.derived_from, derived.derived_label) == (rebuild.source, f"derived from {rebuild.source} content")
    # the benchmark is the source's: same id, release, profiles; only the rules switched off are gone
    again = read_datastream(derived.path)
    assert (again.benchmark_id, again.version) == (source.benchmark_id, source.version)
    assert again.profiles == derived.profiles  # what derive() says the derived profiles hold, exactly
    assert set(again.profiles) == set(source.profiles)
    off = {rule for rule, _ in rebuild.off}
    for pid, info in source.profiles.items():
        assert again.profiles[pid].rule_count == info.rule_count - len(info.watched & off)
    assert choice.rule_count == again.profiles[choice.profile_id].rule_count
    assert again.sha256 == derived.sha256
    assert derived.product == again.product == f"{rebuild.key}-from-{source.product}"
    assert_widened(derived.path, rebuild, source.path)
    assert_switched_off(derived.path, rebuild, choice)
    if shutil.which("oscap"):
        checked = subprocess.run(["oscap", "ds", "sds-validate", str(derived.path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _parse(path: Path):
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)).getroot()


def assert_widened(path: Path, rebuild: content.Derivative, source_path: Path) -> None:
    """Every OVAL component that defines installed_OS_is_<source> now ORs in our os-release check."""
    os_def = f"oval:ssg-installed_OS_is_{rebuild.source_product}:def:1"
    in_source = sum(1 for d in _parse(source_path).iter(f"{OVAL}definition") if d.get("id") == os_def)
    root = _parse(path)
    components = 0
    for oval in root.iter(f"{OVAL}oval_definitions"):
        defs = {d.get("id"): d for d in oval.iter(f"{OVAL}definition")}
        source = defs.get(os_def)
        if source is None:
            continue
        components += 1
        top = source.find(f"{OVAL}criteria")
        assert top.get("operator") == "OR"
        assert [e.get("definition_ref") for e in top.findall(f"{OVAL}extend_definition")] == [derive.OS_DEF]
        assert len(top.findall(f"{OVAL}criteria")) == 1  # what the source's definition was
        assert derive.OS_DEF in defs
        objects = {o.get("id"): o for o in oval.iter(f"{IND}textfilecontent54_object")}
        states = {s.get("id"): s.findtext(f"{IND}subexpression") for s in oval.iter(f"{IND}textfilecontent54_state")}
        assert objects[f"{derive.ID_SPACE}:obj:1"].findtext(f"{IND}filepath") == "/etc/os-release"
        assert states[f"{derive.ID_SPACE}:ste:1"] == rebuild.os_id
        assert states[f"{derive.ID_SPACE}:ste:2"] == rf"^{rebuild.major}(\.[0-9]+)*$"
    # RHEL: the CPE OVAL and the checks' OVAL; Debian 12: only the CPE OVAL defines it
    assert components == in_source == (1 if rebuild.source_product.startswith("debian") else 2)
    platforms = [p.get("idref") for p in root.iter(f"{XCCDF}platform") if p.getparent().tag == f"{XCCDF}Benchmark"]
    assert rebuild.cpe in platforms
    assert rebuild.cpe in {i.get("name") for i in root.iter("{http://cpe.mitre.org/dictionary/2.0}cpe-item")}


def assert_switched_off(path: Path, rebuild: content.Derivative, choice: content.ProfileChoice) -> None:
    """Each rule switched off is deselected, with a remark that gives the reason, in its profiles."""
    reasons = dict(rebuild.off)
    seen = set()
    for profile in _parse(path).iter(f"{XCCDF}Profile"):
        for select in profile.iter(f"{XCCDF}select"):
            remark = select.findtext(f"{XCCDF}remark")
            if select.get("idref") in reasons and remark is not None:
                assert select.get("selected") == "false"
                assert remark.endswith(reasons[select.get("idref")]) and rebuild.label in remark
                if profile.get("id") == choice.profile_id:
                    seen.add(select.get("idref"))
            else:
                assert remark is None
    assert seen == {rule for rule, _ in choice.switched_off}


def oldest(sources) -> content.Datastream:
    rhel = {key: ds for key, ds in sources.items() if key[0] in ("rhel8", "rhel9")}
    if not rhel:
        pytest.skip("no RHEL 8 or 9 content installed")
    return rhel[min(rhel, key=lambda key: content.version_key(key[1]))]


def test_second_call_is_a_cache_hit(sources, cache, monkeypatch):
    source = oldest(sources)
    first = derive.materialize(choice_for(source), cache)
    stamp = first.datastream.path.stat().st_mtime_ns

    def no_build(*args):
        raise AssertionError("built again")

    monkeypatch.setattr(derive, "_build", no_build)
    second = derive.materialize(choice_for(source, "cis-level2-server"), cache)
    assert second.datastream == first.datastream  # both levels share one derived file
    assert second.datastream.path.stat().st_mtime_ns == stamp
    assert second.short_name == "cis-level2-server"
    assert second.derived_label == f"derived from {second.derived_from} content"
    assert not second.needs_derivation and second.derivative == first.derivative


def test_each_rebuild_and_source_has_its_own_file(sources, cache):
    source = oldest(sources)
    other = next((ds for ds in sources.values() if ds.sha256 != source.sha256), None)
    rocky = resolve_profile(OsInfo("rocky", source.product[-1], "Rocky", "rhel"), "cis-level1-server", [source])
    oracle = resolve_profile(OsInfo("ol", source.product[-1], "Oracle", "rhel"), "cis-level1-server", [source])
    paths = {derive.derived_path(cache, source, c.derivative) for c in (rocky, oracle)}
    assert len(paths) == 2 and all(f".v{derive.FORMAT}" in p.parent.name for p in paths)
    if other is not None:
        assert derive.derived_path(cache, other, rocky.derivative) not in paths


def test_own_content_is_not_derived(tmp_path):
    ds = content.Datastream(tmp_path / "ssg-rhel9-ds.xml", "rhel9", "b", "0.1.65", "0" * 64,
                            {P + "cis_server_l1": content.ProfileInfo(P + "cis_server_l1", "CIS", 3),
                             P + "cis": content.ProfileInfo(P + "cis", "CIS", 4)})
    choice = resolve_profile(OsInfo("rhel", "9.3", "RHEL", "rhel"), "cis-level1-server", [ds])
    assert derive.materialize(choice, tmp_path) is choice
    assert not list(tmp_path.glob("derived"))


def test_content_without_the_rhel_check_is_refused(tmp_path):
    path = tmp_path / "ssg-rhel9-ds.xml"
    path.write_text(f"""<?xml version="1.0"?>
<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2"
  xmlns:xccdf="http://checklists.nist.gov/xccdf/1.2" id="scap_x_collection_c">
  <ds:component id="scap_x_comp_x"><xccdf:Benchmark id="xccdf_x_benchmark_b"><xccdf:version>0.1.99</xccdf:version>
  <xccdf:Profile id="{P}cis_server_l1"><xccdf:title>CIS</xccdf:title></xccdf:Profile></xccdf:Benchmark>
  </ds:component></ds:data-stream-collection>""")
    choice = resolve_profile(ROCKY9, "cis-level1-server", [read_datastream(path)])
    with pytest.raises(ContentError, match="no OVAL definition oval:ssg-installed_OS_is_rhel9:def:1 to widen"):
        derive.materialize(choice, tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("*.xml*"))  # nothing half-written is left


async def test_resolve_builds_once_for_concurrent_scans(sources, cache):
    source = oldest(sources)
    listed = [source]
    workspace = SimpleNamespace(data_dir=cache.parent / "data", datastreams=None)

    async def datastreams():
        return listed

    workspace.datastreams = datastreams
    choices = await asyncio.gather(*(derive.resolve(workspace, REBUILD[source.product], short)
                                     for short in content.SHORT_NAMES))
    (built,) = {c.datastream for c in choices}
    assert built.path.is_relative_to(workspace.data_dir / "cache" / "derived")
    assert listed == [source]  # the workspace's discovered content is left as it was
    rhel = await derive.resolve(workspace, OsInfo("rhel", "9.3", "RHEL", "rhel") if source.product == "rhel9"
                                else OsInfo("rhel", "8.9", "RHEL", "rhel"), "cis-level1-server")
    assert rhel.datastream == source  # RHEL itself scans with its own content


@needs_oscap
@pytest.mark.parametrize("product", list(PLAYED))
def test_oscap_finds_the_rebuild_only_in_derived_content(product, sources, cache, tmp_path):
    """A real evaluation: the source's content on the derived OS is all notapplicable, derived content is not."""
    mine = [key for key in sources if key[0] == product]
    if not mine:
        pytest.skip(f"no {product} content here (make content)")
    source = sources[max(mine, key=lambda key: content.version_key(key[1]))]
    root = make_probe_root(tmp_path / "root", PLAYED[product])
    choice = derive.materialize(choice_for(source), cache)
    derived = choice.datastream
    verdicts = {}
    for name, ds in (("rhel", source), ("derived", derived)):
        command = ["oscap", "xccdf", "eval", "--profile", choice.profile_id, "--progress", str(ds.path)]
        done = subprocess.run(command, env={**os.environ, "OSCAP_PROBE_ROOT": str(root)},
                              capture_output=True, text=True, timeout=600)
        assert done.returncode in (0, 2), done.stderr[-500:]
        verdicts[name] = [line.rpartition(":")[2] for line in done.stdout.splitlines() if line.startswith("xccdf_")]
    assert set(verdicts["rhel"]) == {"notapplicable"}
    assert {"pass", "fail"} <= set(verdicts["derived"])
    # the same rules, now applicable, less the ones switched off for this OS
    assert len(verdicts["derived"]) == len(verdicts["rhel"]) - len(choice.switched_off)
