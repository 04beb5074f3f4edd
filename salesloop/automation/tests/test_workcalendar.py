"""The working calendar: SLA arithmetic over weekends, holidays, make-up days and working hours."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from salesloop.automation.models import DayKind, Holiday
from salesloop.automation.workcalendar import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, time: str = "00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


def calendar(days_off=(), extra=()) -> WorkCalendar:
    return WorkCalendar(
        tz=SHANGHAI,
        working_weekdays=frozenset({1, 2, 3, 4, 5}),
        days_off=frozenset(dt.date.fromisoformat(d) for d in days_off),
        extra_workdays=frozenset(dt.date.fromisoformat(d) for d in extra),
        day_start=dt.time(9),
        day_end=dt.time(18),
    )


# 2025-06-02 is a Monday.


def test_three_working_days_from_friday_afternoon_end_on_wednesday_evening():
    assert calendar().add_working_days(at("2025-06-06", "16:00"), 3) == at("2025-06-11", "18:00")


def test_an_event_after_hours_or_at_the_weekend_starts_the_clock_at_the_next_opening():
    cal = calendar()
    assert cal.add_working_days(at("2025-06-06", "20:00"), 3) == at("2025-06-12", "18:00")
    assert cal.add_working_days(at("2025-06-07", "11:00"), 3) == at("2025-06-12", "18:00")


def test_zero_working_days_means_the_end_of_the_current_working_day():
    cal = calendar()
    assert cal.add_working_days(at("2025-06-02", "10:00"), 0) == at("2025-06-02", "18:00")
    assert cal.add_working_days(at("2025-06-07", "10:00"), 0) == at("2025-06-09", "18:00")


def test_a_holiday_is_skipped_and_a_make_up_saturday_counts():
    cal = calendar(days_off=["2025-06-03"], extra=["2025-06-07"])
    assert cal.add_working_days(at("2025-06-02", "10:00"), 1) == at("2025-06-04", "18:00")
    assert cal.add_working_days(at("2025-06-05", "10:00"), 2) == at("2025-06-07", "18:00")
    assert cal.is_working_day(dt.date(2025, 6, 7))
    assert not cal.is_working_day(dt.date(2025, 6, 3))


def test_working_hours_run_only_inside_the_working_day():
    cal = calendar()
    assert cal.add_working_hours(at("2025-06-06", "17:00"), 4) == at("2025-06-09", "12:00")
    assert cal.add_working_hours(at("2025-06-02", "07:00"), 2) == at("2025-06-02", "11:00")
    assert cal.add_working_hours(at("2025-06-02", "10:00"), 9) == at("2025-06-03", "10:00")


def test_working_hours_can_be_counted_backwards_across_a_weekend_and_a_holiday():
    cal = calendar(days_off=["2025-06-06"])
    assert cal.add_working_hours(at("2025-06-09", "10:00"), -3) == at("2025-06-05", "16:00")
    assert cal.add_working_hours(at("2025-06-09", "10:00"), 0) == at("2025-06-09", "10:00")


def test_working_hours_between_two_moments_skip_nights_and_weekends():
    cal = calendar()
    assert cal.working_hours_between(at("2025-06-06", "17:00"), at("2025-06-09", "12:00")) == 4
    assert cal.working_hours_between(at("2025-06-09", "12:00"), at("2025-06-06", "17:00")) == -4


def test_a_calendar_without_working_days_is_refused_instead_of_looping():
    cal = WorkCalendar(
        tz=SHANGHAI,
        working_weekdays=frozenset(),
        days_off=frozenset(),
        extra_workdays=frozenset(),
        day_start=dt.time(9),
        day_end=dt.time(18),
    )
    with pytest.raises(ValueError):
        cal.add_working_days(at("2025-06-02"), 1)


@pytest.mark.django_db
def test_the_calendar_is_loaded_from_org_settings_and_holidays():
    from salesloop.org.models import OrgSettings

    org = OrgSettings.current()
    org.working_days = [1, 2, 3, 4, 5, 6]
    org.save()
    Holiday.objects.create(date=dt.date(2025, 6, 2), name="端午节", kind=DayKind.HOLIDAY)
    Holiday.objects.create(date=dt.date(2025, 6, 8), name="调休", kind=DayKind.WORKDAY)

    cal = WorkCalendar.load()

    assert not cal.is_working_day(dt.date(2025, 6, 2))
    assert cal.is_working_day(dt.date(2025, 6, 7))
    assert cal.is_working_day(dt.date(2025, 6, 8))
    assert str(cal.tz) == "Asia/Shanghai"
