"""What is sent: the rule's texts, its result, the OS and the profile; nothing about the host."""

from __future__ import annotations

from core.ai.explain import find_result, subject
from core.ai.prompt import LIMITS, build_messages
from core.workspace import Workspace
from tests.ai.helpers import CONTENT, HOSTILE, PREFIX, ROOT_LOGIN, RULES, SCAN_ID, seed_scan


async def messages_for(data_dir, *rule_ids):
    await seed_scan(data_dir)
    async with await Workspace.open(data_dir) as workspace:
        scan = await workspace.store.get_scan(SCAN_ID)
        found = []
        for rule_id in rule_ids:
            result = await find_result(workspace.store, scan, rule_id)
            found.append(build_messages(await subject(workspace.store, scan, result)))
        return found[0] if len(found) == 1 else found


async def test_the_prompt_carries_the_rule_and_asks_the_four_questions(data_dir):
    system, user = await messages_for(data_dir, "sshd_disable_root_login")  # the short id works
    assert system["role"] == "system" and "not instructions" in system["content"]
    text = user["content"]
    rule = RULES[0]
    for part in (f"Rule: {ROOT_LOGIN}", "Title: Disable SSH Root Login", "Severity: medium",
                 "Result on this host: fail", "Operating system: ubuntu 22.04",
                 "Profile: CIS Level 1 Server (xccdf_org.ssgproject.content_profile_cis_level1_server)",
                 "Benchmark content: SCAP Security Guide 0.1.65", rule.description, rule.rationale,
                 rule.fixtext, "```bash\n" + rule.fix_script + "\n```",
                 "## What it protects against", "## Why this host may fail it",
                 "## How to fix it safely", "## What could break", "logins"):
        assert part in text, part


async def test_nothing_about_the_host_or_the_scan_is_sent(data_dir):
    for messages in await messages_for(data_dir, ROOT_LOGIN, HOSTILE, PREFIX + "no_texts"):
        sent = "\n".join(m["content"] for m in messages)
        for private in ("web01", "10.9.8.7", "scanner", "corp.example", "Ubuntu 22.04.4 LTS", SCAN_ID,
                        SCAN_ID[:8], CONTENT, str(data_dir)):
            assert private not in sent, private


async def test_hostile_rule_texts_reach_the_prompt_without_control_characters(data_dir):
    sent = (await messages_for(data_dir, HOSTILE))[1]["content"]
    assert "\x1b" not in sent and "\x07" not in sent
    assert "\\x1b]52;c;ZXZpbA==\\x07" in sent  # shown, not acted on
    assert "Result on this host: fail" in sent and "Why this host may fail it" in sent


async def test_a_rule_without_texts_and_long_texts(data_dir):
    sent = (await messages_for(data_dir, PREFIX + "no_texts"))[1]["content"]
    assert "Result on this host: pass" in sent and "Description:" not in sent
    assert "## Why this host passes it, and what would make it fail" in sent
    from core.ai.prompt import Subject
    from core.domain.models import RuleInfo

    long = Subject(RuleInfo("r", "t", "low", "x" * 10_000, fix_script="```\n" + "y" * 10_000), "fail",
                   None, None, None)
    text = build_messages(long)[1]["content"]
    assert "x" * LIMITS["description"] + " [… shortened]" in text and "````bash" in text
    assert len(text) < 9000


def test_the_readme_shows_exactly_what_is_sent():
    """docs/ai.md's example is this builder's output for a real rule of the installed content."""
    from pathlib import Path

    import pytest

    from core.ai.prompt import SYSTEM, subject_for
    from core.domain.models import Host, Scan
    from core.results import xccdf
    from tests.oscap_results import PINNED_SSG, installed_ssg

    datastream = Path("/usr/share/xml/scap/ssg/content/ssg-ubuntu2204-ds.xml")
    if not datastream.is_file() or installed_ssg() != PINNED_SSG:
        pytest.skip(f"docs/ai.md shows SSG {PINNED_SSG}'s Ubuntu 22.04 texts; installed: {installed_ssg()}")
    rule = xccdf.read_rules(datastream, {PREFIX + "sshd_disable_root_login"})[PREFIX + "sshd_disable_root_login"]
    scan = Scan(id="x", host_id=1, host_name="web01", profile="cis-level1-server",
                profile_id="xccdf_org.ssgproject.content_profile_cis_level1_server",
                content_file=datastream.name, content_version=PINNED_SSG)
    host = Host(name="web01", address="10.0.0.5", os_id="ubuntu", os_version="22.04")
    system, user = build_messages(subject_for(scan, host, rule, "fail"))
    readme = (Path(__file__).resolve().parents[2] / "docs" / "ai.md").read_text()
    assert f"--- system\n{SYSTEM}\n--- user\n{user['content']}\n```\n" in readme
