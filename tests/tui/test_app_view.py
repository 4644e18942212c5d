"""Screens and modals read the app's state typed (tui/base/view.py): the app's own objects, and
a clear error where a view asks for the Workspace before the app has opened it."""

from __future__ import annotations

import pytest
from textual.app import App

from tests.tui.helpers import make_app, settle
from tui.base.modal import BaseModal
from tui.base.view import NoWorkspace


async def test_a_screen_reads_the_apps_own_workspace_jobs_and_palette(data_dir):
    app = make_app(data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.workspace is app.workspace and screen.jobs is app.jobs and screen.palette is app.palette


async def test_asking_for_the_workspace_before_it_is_open_says_so():
    class Unopened(App):
        workspace = None
        cursor_blink = True

    app = Unopened()
    async with app.run_test(size=(80, 24)) as pilot:
        modal = BaseModal()
        await app.push_screen(modal)
        await pilot.pause()
        with pytest.raises(NoWorkspace, match="BaseModal needs the workspace"):
            modal.workspace
