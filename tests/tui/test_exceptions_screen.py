"""Exceptions with approval in the TUI (issue 27): a on a failed rule in Results requests one;
the Exceptions screen (ctrl+e) approves, rejects and revokes, refusing the requester's own
approval under the two-person rule; the Dashboard shows those that expire within 7 days."""

from __future__ import annotations

import socket
from dataclasses import replace

from textual.widgets import Input, Select, Static

from core.domain.policy import RuleException
from core.views.exceptions import scan_with_exceptions
from tests.tui.helpers import NOW, SCAN_IDS, make_app, settle, wait_for
from tests.tui.test_results import open_results
from tui.modals.confirm import ConfirmModal
from tui.modals.exception_form import ExceptionFormModal
from tui.screens.exceptions import ExceptionsScreen
from tui.widgets.keyed_table import KeyedTable

R = "xccdf_org.ssgproject.content_rule_"
HOST = socket.gethostname()
HOSTILE = "[bold red]vendor[/] says [@click=app.quit]so[/]"


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def exceptions_screen(pilot) -> ExceptionsScreen:
    await settle(pilot)
    await pilot.press("ctrl+e")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExceptionsScreen), what="the Exceptions screen")
    await settle(pilot)
    return pilot.app.screen


async def test_a_on_a_failed_rule_requests_an_exception_that_changes_no_score(fleet_data, monkeypatch):
    monkeypatch.setenv("LOGNAME", "alice")
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        store = app.workspace.store
        await store.update_host(replace(await store.require_host("web01"), tags=("prod", "web")))
        screen = await open_results(pilot)
        score = screen.scan.score
        table = screen.query_one("#rules", KeyedTable)
        passed = next(k for k in table.keys if str(table.cells(k)[4]) == "pass")
        table.move_to(passed)
        await pilot.press("a")
        await settle(pilot)
        assert not isinstance(app.screen, ExceptionFormModal)
        assert any("an exception accepts a failed rule" in m for m in notices(app))

        failed = next(k for k in table.keys if str(table.cells(k)[4]) == "fail")
        table.move_to(failed)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ExceptionFormModal), what="the request form")
        form = app.screen
        assert [v for _label, v in form.query_one("#f-scope", Select)._options] == [
            "host:web01", "tag:prod", "tag:web", "all"]
        await pilot.press("ctrl+s")  # no reason yet: said on the form, nothing recorded
        await settle(pilot)
        assert "business reason" in str(form.query_one("#form-error", Static).render())
        form.query_one("#f-reason", Input).value = HOSTILE
        form.query_one("#f-scope", Select).value = "tag:web"
        form.query_one("#f-expires", Input).value = "2099-12-31"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="the form to close")
        await settle(pilot)

        (exc,) = await store.find_exceptions()
        assert (exc.status, exc.rule_id, exc.scope, exc.tag, exc.expires, exc.reason, exc.requested_by) == (
            "pending", failed, "tag", "web", "2099-12-31", HOSTILE, f"alice@{HOST}")
        assert any("pending until someone else approves it" in m for m in notices(app))
        assert str(table.cells(failed)[4]) == "fail"  # not excepted: pending
        assert (await store.get_scan(SCAN_IDS["web-3"])).score == score


async def test_the_exceptions_screen_approves_rejects_and_revokes_with_two_people(fleet_data, monkeypatch):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        store = app.workspace.store
        failing = (await store.rule_results(SCAN_IDS["web-3"], "fail"))[0].rule_id
        first = await store.add_exception(RuleException(
            "host", failing, HOSTILE, f"alice@{HOST}", "2099-12-31", host="web01",
            id="e1000000-0000-4000-8000-000000000001", created_at="2025-03-01T10:00:00.000000Z"))
        second = await store.add_exception(RuleException(
            "all", R + "package_aide_installed", "agent replaces AIDE", f"alice@{HOST}", "2099-12-31",
            id="e2000000-0000-4000-8000-000000000002", created_at="2025-03-02T10:00:00.000000Z"))
        screen = await exceptions_screen(pilot)
        table = screen.query_one("#exceptions", KeyedTable)
        assert table.keys == [first.id, second.id] and str(table.cells(first.id)[1]) == "pending"
        detail = str(screen.query_one("#exception-detail", Static).render())
        assert detail.startswith(HOSTILE)  # the reason as typed, never read as markup

        monkeypatch.setenv("LOGNAME", "alice")  # the requester herself
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        assert any("two-person rule needs someone else" in m for m in notices(app))
        assert (await store.get_exception(first.id)).status == "pending"

        monkeypatch.setenv("LOGNAME", "bob")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="the approve question")
        assert "Approve exception e1000000" in str(app.screen.query_one(".question", Static).render())
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is screen, what="the question to close")
        await settle(pilot)
        approved = await store.get_exception(first.id)
        assert (approved.status, approved.decided_by) == ("approved", f"bob@{HOST}")
        assert str(table.cells(first.id)[1]) == "in force"
        web = await store.get_scan(SCAN_IDS["web-3"])
        assert (await scan_with_exceptions(store, web.id)).score > web.score  # now it counts

        await pilot.press("n")  # reject acts on pending ones: this one is approved
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal) and any("Reject acts on pending ones" in m
                                                                 for m in notices(app))
        await pilot.press("d", "y")  # revoke (asks first)
        await wait_for(pilot, lambda: str(table.cells(first.id)[1]) == "revoked", what="the revocation")
        assert (await store.get_exception(first.id)).revoked_by == f"bob@{HOST}"

        table.move_to(second.id)
        await pilot.press("n", "y")
        await wait_for(pilot, lambda: str(table.cells(second.id)[1]) == "rejected", what="the rejection")
        await pilot.press("s")  # status filter: pending ones only
        await settle(pilot)
        assert table.keys == [] and "no pending exceptions" in table.empty_text


async def test_the_dashboard_shows_exceptions_expiring_within_7_days(fleet_data):
    app = make_app(fleet_data)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        note = app.screen.query_one("#exceptions-note", Static)
        assert note.display is False  # none: no line
        store = app.workspace.store
        assert NOW.date().isoformat() == "2025-03-31"  # the app's clock: 04-03 is within 7 days, 06-30 not
        await store.add_exception(RuleException("host", R + "rule_soon", "until the patch", "alice", "2025-04-03",
                                                host="web01", status="approved", decided_by="bob"))
        await store.add_exception(RuleException("all", R + "rule_later", "long", "alice", "2025-06-30",
                                                status="approved", decided_by="bob"))
        await store.add_exception(RuleException("all", R + "rule_asked", "please", "alice", "2025-06-30"))
        await pilot.press("r")
        await settle(pilot)
        text = str(note.render())
        assert note.display and text.startswith("Exceptions (ctrl+e): 1 awaiting approval  ·  ending within 7 "
                                                "days: rule_soon (04-03, host web01)")
        assert "rule_later" not in text
