"""RuleClock: which rule oscap runs now and how long each one took, from its progress lines."""

from __future__ import annotations

from core.jobs import scan
from core.jobs.scan import RuleClock


def test_each_finished_rule_names_the_next_and_keeps_its_seconds(monkeypatch):
    now = iter([0.0, 10.0, 10.5, 13.5, 13.75])  # made, started, three rules done
    monkeypatch.setattr(scan.time, "monotonic", lambda: next(now))  # a clock the test turns by hand
    clock = RuleClock(["a", "b", "c"])
    clock.start()
    assert clock.finished("a") == "b"
    assert clock.finished("b") == "c"
    assert clock.finished("c") is None  # past the last: nothing runs
    assert clock.seconds == {"a": 0.5, "b": 3.0, "c": 0.25} and clock.done == 3
    assert clock.slowest(2) == [("b", 3.0), ("a", 0.5)]


def test_a_rule_outside_the_profiles_order_is_timed_but_names_nothing():
    clock = RuleClock([])  # content whose order could not be read
    clock.start()
    assert clock.finished("x") is None and "x" in clock.seconds and clock.done == 1
