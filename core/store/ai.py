"""The AI assistant's queries (AiStore in base.py), for both backends: the explanation cache
and token usage per day and model. Nothing secret reaches these tables."""

from __future__ import annotations

from dataclasses import replace

from core.domain.explanations import AiUsage, Explanation
from core.domain.timeutil import now_iso
from core.store.base import AiStore
from core.store.db import Db, Row


def explanation_of(r: Row) -> Explanation:
    """A row read by get_explanation: stored_chars only when the text was cut."""
    cut = r["length"] if r["length"] is not None and r["length"] > len(r["text"] or "") else None
    return Explanation(r["content_id"], r["rule_id"], r["result"], r["model"], r["text"] or "",
                       r["created_at"], r["input_tokens"], r["output_tokens"], cut)


class Ai(AiStore):
    db: Db

    async def get_explanation(self, content_id: str, rule_id: str, result: str, model: str,
                              limit: int | None = None) -> Explanation | None:
        row = await self.db.fetch_one(
            "SELECT content_id, rule_id, result, model, substr(text, 1, ?) AS text, length(text) AS length, "
            "created_at, input_tokens, output_tokens FROM ai_explanations "
            "WHERE content_id = ? AND rule_id = ? AND result = ? AND model = ?",
            (limit or 2**31 - 1, content_id, rule_id, result, model))
        return explanation_of(row) if row else None

    async def explained_rules(self, content_id: str, model: str) -> set[tuple[str, str]]:
        rows = await self.db.fetch("SELECT rule_id, result FROM ai_explanations WHERE content_id = ? AND model = ?",
                                   (content_id, model))
        return {(r["rule_id"], r["result"]) for r in rows}

    async def save_explanation(self, explanation: Explanation) -> Explanation:
        saved = replace(explanation, created_at=explanation.created_at or now_iso())
        await self.db.execute(
            "INSERT INTO ai_explanations (content_id, rule_id, result, model, text, input_tokens, "
            "output_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (content_id, rule_id, result, model) DO UPDATE SET text = excluded.text, "
            "input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, "
            "created_at = excluded.created_at",
            (saved.content_id, saved.rule_id, saved.result, saved.model, saved.text,
             saved.input_tokens, saved.output_tokens, saved.created_at))
        return saved

    async def record_ai_usage(self, day: str, model: str, input_tokens: int, output_tokens: int,
                              estimated: bool = False) -> None:
        await self.db.execute(
            "INSERT INTO ai_usage AS u (day, model, requests, input_tokens, output_tokens, estimated) "
            "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (day, model) DO UPDATE SET "
            "requests = u.requests + 1, input_tokens = u.input_tokens + excluded.input_tokens, "
            "output_tokens = u.output_tokens + excluded.output_tokens, estimated = u.estimated + excluded.estimated",
            (day, model, max(0, int(input_tokens)), max(0, int(output_tokens)), int(bool(estimated))))

    async def ai_usage(self, since: str | None = None) -> list[AiUsage]:
        sql = "SELECT * FROM ai_usage"
        params: tuple[str, ...] = ()
        if since:
            sql, params = sql + " WHERE day >= ?", (since,)
        rows = await self.db.fetch(sql + " ORDER BY day DESC, model", params)
        return [AiUsage(r["day"], r["model"], r["requests"], r["input_tokens"], r["output_tokens"],
                        r["estimated"]) for r in rows]
