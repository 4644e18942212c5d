"""Schedule arithmetic: cadences, cron, time zones, daylight saving changes and missed runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.domain.errors import InvalidInput
from core.domain.policy import Schedule
from core.domain.timeutil import to_iso
from core.schedules import cadence as c
from core.schedules.service import due

UTC = timezone.utc
BERLIN, NEW_YORK = c.zone("Europe/Berlin"), c.zone("America/New_York")


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(slots, tz) -> list[str]:
    return [s.astimezone(tz).strftime("%Y-%m-%d %H:%M %z") for s in slots]


def test_parsing_gives_one_stored_form_and_rejects_bad_input():
    assert c.daily("2:05").text == "daily 02:05" and c.daily("2:05").expr == "5 2 * * *"
    assert c.weekly("Monday@23:59").text == "weekly mon@23:59" and c.weekly("sun@0:00").expr == "0 0 * * 0"
    assert c.cron("0  2 * * 1-5").text == "cron 0 2 * * 1-5"
    assert c.parse("weekly fri@06:30") == c.weekly("fri@06:30")
    assert c.parse(c.cron("@daily").text).expr == "@daily"
    for bad, call in (("24:00", c.daily), ("7", c.daily), ("noday@02:00", c.weekly), ("mon", c.weekly),
                      ("61 * * * *", c.cron), ("* * * * * *", c.cron), ("", c.cron), ("hourly", c.cron)):
        with pytest.raises(InvalidInput):
            call(bad)
    with pytest.raises(InvalidInput, match="IANA"):
        c.zone("Mars/Olympus")
    with pytest.raises(InvalidInput):
        c.zone("../../etc/passwd")
    assert c.weekly("tue@02:00").describe() == "weekly on Tue at 02:00"


def test_daily_weekly_and_cron_slots_in_a_zone():
    daily = c.slots_between(c.daily("02:00"), BERLIN, at(2025, 1, 1), at(2025, 1, 4))
    assert local(daily, BERLIN) == ["2025-01-01 02:00 +0100", "2025-01-02 02:00 +0100", "2025-01-03 02:00 +0100"]
    weekly = c.slots_between(c.weekly("mon@06:30"), NEW_YORK, at(2025, 1, 1), at(2025, 1, 31))
    assert local(weekly, NEW_YORK) == [f"2025-01-{d:02d} 06:30 -0500" for d in (6, 13, 20, 27)]
    weekdays = c.slots_between(c.cron("0 9 * * 1-5"), UTC, at(2025, 1, 3), at(2025, 1, 8))  # Fri..Wed
    assert [s.day for s in weekdays] == [3, 6, 7]
    assert c.next_slot(c.daily("02:00"), UTC, at(2025, 1, 1, 2)) == at(2025, 1, 2, 2)  # strictly after
    assert c.latest_slot(c.daily("02:00"), UTC, at(2025, 1, 1, 2)) == at(2025, 1, 1, 2)  # at or before


def test_a_skipped_time_runs_once_as_late_as_the_jump():
    # Europe/Berlin jumps from 02:00 to 03:00 on 2025-03-30: 02:30 does not exist that day
    slots = c.slots_between(c.daily("02:30"), BERLIN, at(2025, 3, 28), at(2025, 4, 1))
    assert local(slots, BERLIN) == ["2025-03-28 02:30 +0100", "2025-03-29 02:30 +0100",
                                    "2025-03-30 03:30 +0200", "2025-03-31 02:30 +0200"]
    # hourly at :30 gets one run for the skipped hour, not two at the same instant
    hourly = c.slots_between(c.cron("30 * * * *"), BERLIN, at(2025, 3, 30, 0), at(2025, 3, 30, 3))
    assert len(hourly) == len(set(hourly)) == 3
    # between the jump and the moved slot, the moved slot is next and not yet due
    now = at(2025, 3, 30, 1, 10)  # 03:10 CEST
    assert c.next_slot(c.daily("02:30"), BERLIN, now) == at(2025, 3, 30, 1, 30)
    assert c.latest_slot(c.daily("02:30"), BERLIN, now) == at(2025, 3, 29, 1, 30)


def test_a_repeated_time_runs_once():
    # America/New_York falls back from 02:00 to 01:00 on 2025-11-02: 01:30 happens twice
    slots = c.slots_between(c.daily("01:30"), NEW_YORK, at(2025, 11, 1), at(2025, 11, 4))
    assert local(slots, NEW_YORK) == ["2025-11-01 01:30 -0400", "2025-11-02 01:30 -0400", "2025-11-03 01:30 -0500"]
    # a day is 25 hours long there: the weekly slot moves with the wall clock, not by 7 x 24 h
    weekly = c.slots_between(c.weekly("sun@12:00"), NEW_YORK, at(2025, 10, 25), at(2025, 11, 10))
    assert [s.hour for s in weekly] == [16, 17, 17]


def schedule(cadence: c.Cadence, tz: str = "UTC", **fields) -> Schedule:
    values = {"not_before": to_iso(at(2025, 1, 1))} | fields
    return Schedule("all", (), "cis-level1-server", cadence.text, tz, **values)


def test_missed_slots_collapse_into_one_run_at_the_next_start():
    weekly = schedule(c.weekly("mon@02:00"), last_slot=to_iso(at(2025, 1, 6, 2)))
    # nothing ran for three weeks: one run, for the latest slot
    assert due(weekly, at(2025, 1, 29, 12)) == at(2025, 1, 27, 2)
    assert due(schedule(c.weekly("mon@02:00"), last_slot=to_iso(at(2025, 1, 27, 2))), at(2025, 1, 29)) is None
    # never ran: slots before it was made (or resumed) never run
    fresh = schedule(c.daily("02:00"), not_before=to_iso(at(2025, 2, 1, 3)))
    assert due(fresh, at(2025, 2, 1, 23)) is None and due(fresh, at(2025, 2, 2, 2)) == at(2025, 2, 2, 2)
    assert due(schedule(c.daily("02:00"), paused=True), at(2025, 2, 2, 3)) is None
    # a zone's wall clock decides what is due
    berlin = schedule(c.daily("02:00"), "Europe/Berlin")
    assert due(berlin, at(2025, 1, 2, 0, 59)) == at(2025, 1, 1, 1) and due(berlin, at(2025, 1, 1, 0, 59)) is None


def test_local_zone_name_is_a_zone_this_machine_knows(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert c.local_zone_name() == "Asia/Tokyo"
    monkeypatch.setenv("TZ", "Nowhere/Land")
    assert c.zone(c.local_zone_name())
    assert c.next_slot(c.cron("*/15 * * * *"), UTC, at(2025, 1, 1, 0, 7)) - at(2025, 1, 1) == timedelta(minutes=15)
