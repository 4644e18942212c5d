"""What every store backend must do for the AI assistant: the explanation cache and usage.

Each test runs against every backend of conftest.BACKENDS on a real database.
"""

from __future__ import annotations

from core.domain.explanations import AiUsage, Explanation

SHA = "a" * 64
RULE = "xccdf_org.ssgproject.content_rule_sshd_disable_root_login"


async def test_explanations_are_kept_per_rule_content_result_and_model(store):
    assert await store.get_explanation(SHA, RULE, "fail", "m1") is None
    saved = await store.save_explanation(Explanation(SHA, RULE, "fail", "m1", "## Why\nroot [b]x[/b]", None, 120, 40))
    assert saved.created_at
    found = await store.get_explanation(SHA, RULE, "fail", "m1")
    assert found == saved and found.text == "## Why\nroot [b]x[/b]"
    # any part of the key differing is another explanation
    assert await store.get_explanation(SHA, RULE, "pass", "m1") is None
    assert await store.get_explanation(SHA, RULE, "fail", "m2") is None
    assert await store.get_explanation("b" * 64, RULE, "fail", "m1") is None
    await store.save_explanation(Explanation(SHA, "other", "pass", "m1", "ok"))
    await store.save_explanation(Explanation(SHA, "third", "fail", "m2", "ok"))
    assert await store.explained_rules(SHA, "m1") == {(RULE, "fail"), ("other", "pass")}


async def test_regenerating_replaces_the_cached_explanation(store):
    await store.save_explanation(Explanation(SHA, RULE, "fail", "m1", "old", "2025-01-01T00:00:00.000000Z"))
    await store.save_explanation(Explanation(SHA, RULE, "fail", "m1", "new", None, 5, 6))
    found = await store.get_explanation(SHA, RULE, "fail", "m1")
    assert (found.text, found.input_tokens, found.output_tokens) == ("new", 5, 6)
    assert found.created_at > "2025-01-01"


async def test_usage_adds_up_per_day_and_model(store):
    assert await store.ai_usage() == []
    await store.record_ai_usage("2025-03-01", "m1", 100, 20)
    await store.record_ai_usage("2025-03-01", "m1", 50, 10, estimated=True)
    await store.record_ai_usage("2025-03-01", "m2", 7, 3)
    await store.record_ai_usage("2025-03-02", "m1", 1, 1)
    assert await store.ai_usage() == [
        AiUsage("2025-03-02", "m1", 1, 1, 1, 0),
        AiUsage("2025-03-01", "m1", 2, 150, 30, 1),
        AiUsage("2025-03-01", "m2", 1, 7, 3, 0),
    ]
    assert [u.day for u in await store.ai_usage(since="2025-03-02")] == ["2025-03-02"]
