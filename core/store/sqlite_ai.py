"""The AI assistant's SQL on SQLite (a part of SqliteStore, see sqlite.py): the explanation
cache and token usage per day and model. Nothing secret reaches these tables."""

from __future__ import annotations

from dataclasses import replace

from core.domain.explanations import AiUsage, Explanation
from core.domain.timeutil import now_iso


class SqliteAi:
    """Mixed into SqliteStore: uses its _write and _rows."""

    async def get_explanation(self, content_id: str, rule_id: str, result: str, model: str,
                              limit: int | None = None) -> Explanation | None:
        rows = await self._rows(
            "SELECT content_id, rule_id, result, model, substr(text, 1, ?) AS text, length(text) AS length, "
            "created_at, input_tokens, output_tokens FROM ai_explanations "
            "WHERE content_id = ? AND rule_id = ? AND result = ? AND model = ?",
            (limit or 2**31 - 1, content_id, rule_id, result, model))
        return explanation_of(rows[0]) if rows else None

    async def explained_rules(self, content_id: str, model: str) -> set[tuple[str, str]]:
        rows = await self._rows(
            "SELECT rule_id, result FROM ai_explanations WHERE content_id = ? AND model = ?",
            (content_id, model))
        return {(r["rule_id"], r["result"]) for r in rows}

    async def save_explanation(self, explanation: Explanation) -> Explanation:
        saved = replace(explanation, created_at=explanation.created_at or now_iso())
        await self._write([(
            "INSERT OR REPLACE INTO ai_explanations (content_id, rule_id, result, model, text, "
            "input_tokens, output_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (saved.content_id, saved.rule_id, saved.result, saved.model, saved.text,
             saved.input_tokens, saved.output_tokens, saved.created_at))])
        return saved

    async def record_ai_usage(self, day: str, model: str, input_tokens: int, output_tokens: int,
                              estimated: bool = False) -> None:
        await self._write([(
            "INSERT INTO ai_usage (day, model, requests, input_tokens, output_tokens, estimated) "
            "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT(day, model) DO UPDATE SET "
            "requests = requests + 1, input_tokens = input_tokens + excluded.input_tokens, "
            "output_tokens = output_tokens + excluded.output_tokens, estimated = estimated + excluded.estimated",
            (day, model, max(0, int(input_tokens)), max(0, int(output_tokens)), int(bool(estimated))))])

    async def ai_usage(self, since: str | None = None) -> list[AiUsage]:
        sql, params = "SELECT * FROM ai_usage", ()
        if since:
            sql, params = sql + " WHERE day >= ?", (since,)
        rows = await self._rows(sql + " ORDER BY day DESC, model", params)
        return [AiUsage(r["day"], r["model"], r["requests"], r["input_tokens"], r["output_tokens"],
                        r["estimated"]) for r in rows]


def explanation_of(r) -> Explanation:
    """A row read by get_explanation (either backend): stored_chars only when the text was cut."""
    cut = r["length"] if r["length"] is not None and r["length"] > len(r["text"] or "") else None
    return Explanation(r["content_id"], r["rule_id"], r["result"], r["model"], r["text"] or "",
                       r["created_at"], r["input_tokens"], r["output_tokens"], cut)
