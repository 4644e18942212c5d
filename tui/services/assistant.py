"""The seam for AI explanations of rules (a later issue adds LLM settings).

Until an LLM can be configured, nothing offers Explain: the AI column shows a dash,
no key is bound and the rule details show no button. When settings land,
is_configured() reads them and the Results screen and rule details add the action.
"""

from __future__ import annotations

from rich.text import Text

from tui.widgets.cells import DASH


def is_configured(app) -> bool:
    return False


def explain_cell(app) -> Text:
    """The AI column of a result row: the Explain action once configured, a dash until then."""
    return app.palette.muted(DASH)
