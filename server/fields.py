"""Serializer fields shared by the API (mobile_api) and the sync operations' payloads."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework import serializers

MAX_ID = 2**63 - 1  # the largest id a database key holds
# The days and moments the API and the sync operations take. Outside them Python's dates overflow
# as soon as a time zone, a clock correction or a period is added (0001-01-01 in Beijing is year 0 in
# UTC; a phone clock 1,700 years slow moves a time past 9999): a 400, not a 500.
EARLIEST_DAY, LATEST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def check_day(day: dt.date) -> dt.date:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise serializers.ValidationError(f"日期须在 {EARLIEST_DAY} 至 {LATEST_DAY} 之间。")
    return day


class DayField(serializers.DateField):
    """DRF's DateField, for days from EARLIEST_DAY to LATEST_DAY. Every date the API and the sync
    payloads read is one."""

    def to_internal_value(self, value) -> dt.date:
        return check_day(super().to_internal_value(value))


def instant(value: dt.datetime | None) -> str | None:
    """A moment as every JSON answer writes it (F10 item 7): RFC 3339 in the display time zone
    (TIME_ZONE, Asia/Shanghai), with its offset: ``2024-05-01T12:00:00+08:00``. DRF's DateTimeField
    writes the same; hand-written answers, pull rows and stored evidence go through this, so that a
    value read back from the database (UTC) is not written ``+00:00`` or ``Z``."""
    return timezone.localtime(value).isoformat() if value is not None else None


class InstantField(serializers.DateTimeField):
    """DRF's DateTimeField, for moments on the days from EARLIEST_DAY to LATEST_DAY."""

    def to_internal_value(self, value) -> dt.datetime:
        moment = super().to_internal_value(value)
        check_day(moment.date())
        return moment


class IdField(serializers.IntegerField):
    """The id of a stored row, as a phone or a page sends it: 1 to MAX_ID. A larger number could name
    nothing, and SQLite cannot even compare one (OverflowError, a 500): it is a 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
