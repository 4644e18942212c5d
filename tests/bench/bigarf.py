"""The largest ARF this machine can make: every rule of the biggest datastream that a played
host can really evaluate, selected by a tailoring file, run by the real oscap on that host."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from core.content.discovery import default_content_dirs
from core.results import xccdf
from tests.fleet.hosts import FleetHost

# The played OSes whose own content evaluates for real (not all notapplicable by CPE).
PLAYABLE = ("rhel9", "ubuntu2204", "ubuntu2004", "debian12")  # each in PLAYED_OS
XCCDF = "http://checklists.nist.gov/xccdf/1.2"


def biggest_datastream(data_dir: Path) -> tuple[str, Path, dict]:
    """(played OS, datastream, its rules) with the most rules among the playable products."""
    best = None
    for directory in default_content_dirs(data_dir):
        for product in PLAYABLE:
            for path in Path(directory).glob(f"**/ssg-{product}-ds.xml"):
                rules = xccdf.read_rules(path)
                if best is None or len(rules) > len(best[2]):
                    best = (product, path, rules)
    if best is None:
        raise RuntimeError("no datastream of a playable product found")
    return best


def groups(datastream: Path) -> list[str]:
    """Every Group id: a rule is evaluated only when the groups above it are selected too."""
    from lxml import etree

    found = []
    for _, element in etree.iterparse(str(datastream), tag=f"{{{XCCDF}}}Group", huge_tree=True):
        found.append(element.get("id"))
        element.clear(keep_tail=True)
    return found


def tailoring(datastream: Path, rules: dict, base_profile: str, into: Path) -> tuple[Path, str]:
    """A tailoring whose one profile extends base_profile and selects every group and rule."""
    profile = "xccdf_org.bench_profile_every_rule"
    ids = [*groups(datastream), *rules]
    selects = "\n".join(f'    <xccdf:select idref={quoteattr(item)} selected="true"/>' for item in ids)
    into.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<xccdf:Tailoring xmlns:xccdf="{XCCDF}" '
        'id="xccdf_org.bench_tailoring_every_rule">\n'
        f'  <xccdf:benchmark href={quoteattr(str(datastream))}/>\n'
        '  <xccdf:version time="2026-01-01T00:00:00">1</xccdf:version>\n'
        f'  <xccdf:Profile id="{profile}" extends={quoteattr(base_profile)}>\n'
        '    <xccdf:title>Every rule (bench)</xccdf:title>\n'
        f"{selects}\n  </xccdf:Profile>\n</xccdf:Tailoring>\n")
    return into, profile


def first_profile(datastream: Path) -> str:
    from core.content.catalog import read_datastream
    ds = read_datastream(datastream)
    return next(iter(ds.profiles))


def make(host: FleetHost, datastream: Path, rules: dict, into: Path) -> Path:
    """Run every rule on host; return the ARF (kept outside the host's root)."""
    into.mkdir(parents=True, exist_ok=True)
    tailored, profile = tailoring(datastream, rules, first_profile(datastream), into / "every-rule.xml")
    arf = host.root / "tmp" / "every-rule-arf.xml"
    done = host.run_inside(["oscap", "xccdf", "eval", "--tailoring-file", str(tailored), "--profile", profile,
                            "--results-arf", str(arf), str(datastream)])
    if done.returncode not in (0, 2) or not arf.exists():
        raise RuntimeError(f"oscap on every rule failed ({done.returncode}): {done.stderr[-800:]}")
    kept = into / "every-rule-arf.xml"
    arf.replace(kept)
    return kept
