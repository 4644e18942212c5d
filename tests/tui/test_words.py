"""The TUI's own words (tui/common/words.py): plurals, and core's CLI flags said in the TUI's terms while
the CLI keeps its messages."""

from __future__ import annotations

import pytest

from core.domain.errors import InvalidInput, OperatorError
from core.schedules.service import Target
from tui.common.words import plural, said


def test_plural():
    assert [plural(n, "schedule") for n in (0, 1, 2)] == ["0 schedules", "1 schedule", "2 schedules"]
    assert plural(1, "fix", "fixes") == "1 fix" and plural(3, "fix", "fixes") == "3 fixes"


def test_a_cli_flag_in_a_core_message_is_said_in_the_tuis_words_and_kept_for_the_cli():
    with pytest.raises(InvalidInput) as raised:
        Target.of()
    cli = str(raised.value)
    assert cli == "give the schedule's target: --hosts NAME[,NAME...], --all or --tag TAG"  # the CLI's, as before
    assert said(raised.value) == ('give the schedule\'s target: fill in "Hosts or tag", or choose All hosts '
                                  "as the Target")


def test_other_errors_are_said_as_they_are():
    assert said(OperatorError("host web01 is unreachable")) == "host web01 is unreachable"
    assert said(ValueError("x")) == "x"
    unknown = OperatorError("use --frob", field="nobody.knows", cli="--frob")
    assert said(unknown) == "use --frob"  # no TUI words for it: the message stays whole
