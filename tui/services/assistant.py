"""The seam between the screens and the AI assistant (core/ai).

Nothing offers Explain until an LLM is configured (a model named in Settings, the config file
or $COMPLIANCE_TUI_LLM_MODEL): no AI column, no key, no button, as the spec says. The openai
package loads only when a first explanation or test is asked for.
"""

from __future__ import annotations

from rich.text import Text

from core.domain.models import Scan


def is_configured(app) -> bool:
    workspace = getattr(app, "workspace", None)
    return workspace is not None and workspace.settings.ai.configured


def explain_cell(app, explained: bool = False) -> Text:
    """The AI column of a result row: ✓ once an explanation is cached, else `ask` (key E)."""
    if explained:
        return app.palette.text("✓", "text-success")
    return app.palette.muted("ask")


async def explained_rules(app, scan: Scan) -> set[tuple[str, str]]:
    """(rule id, result) of this scan's rules with a cached explanation by the current model."""
    ai = app.workspace.settings.ai
    if not (ai.configured and scan.content_id):
        return set()
    return await app.workspace.store.explained_rules(scan.content_id, ai.model)
