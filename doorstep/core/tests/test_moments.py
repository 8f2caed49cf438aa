"""One reader for dates and times: nothing odd makes it fail, it answers None."""

import datetime as dt

import pytest
from django.utils import timezone

from doorstep.core.moments import parse_moment


@pytest.mark.parametrize(
    "raw",
    [
        "2021-02-30T09:00:00+08:00",  # no such day
        "2021-13-01T09:00:00",  # no such month
        "0001-01-01T00:00:00+14:00",  # before the calendar once in UTC
        "9999-12-31T23:59:59-14:00",  # after it
        "yesterday",
        "",
        "2021-01-01T09:00:00" + " " * 40,
        None,
        20211201,
    ],
)
def test_no_odd_date_fails_it_just_is_not_a_date(raw):
    assert parse_moment(raw) is None


def test_a_time_without_its_offset_is_read_in_the_servers_zone():
    found = parse_moment(" 2026-12-01T09:00:00 ")
    assert found is not None and timezone.is_aware(found)
    assert timezone.localtime(found).hour == 9
    with_offset = parse_moment("2026-12-01T09:00:00+00:00")
    assert with_offset == dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
