"""Rule references (issue 26, control views): kept with a content version's rule texts, read by
system, marked read, and gone with the content. Runs against every backend of conftest.BACKENDS."""

from __future__ import annotations

from core.domain.models import RuleInfo

CONTENT = "d" * 64


async def test_references_are_kept_with_the_rule_texts_and_read_by_system(store):
    assert not await store.references_read(CONTENT)  # no such content: nothing known
    await store.save_content(CONTENT, "ssg-x-ds.xml", "bench", "0.1.76", [
        RuleInfo("r_a", "A", references=(("nist-800-53", "AC-6"), ("nist-800-53", "AC-10"), ("cce", "CCE-1"))),
        RuleInfo("r_b", "B", references=(("nist-800-53", "AC-6"),)),
        RuleInfo("r_c", "C"),  # cites nothing: known to cite nothing
    ])
    assert await store.references_read(CONTENT)
    assert await store.rule_references(CONTENT, "nist-800-53") == {"r_a": ["AC-10", "AC-6"], "r_b": ["AC-6"]}
    assert await store.rule_references(CONTENT, "cce") == {"r_a": ["CCE-1"]}
    assert await store.rule_references(CONTENT, "stigid") == {}
    assert await store.rule_references("e" * 64, "nist-800-53") == {}


async def test_content_stored_before_references_gets_them_once(store):
    await store.save_content(CONTENT, "ssg-x-ds.xml", "bench", "0.1.65")  # no rule texts: nothing read
    assert not await store.references_read(CONTENT)
    read = [RuleInfo("r_a", references=(("stigid", "UBTU-22-1"), ("stigid", "UBTU-22-1")))]
    await store.save_references(CONTENT, read)
    await store.save_references(CONTENT, read)  # twice (two views at once): still one row
    assert await store.references_read(CONTENT)
    assert await store.rule_references(CONTENT, "stigid") == {"r_a": ["UBTU-22-1"]}
