"""qa.ingest.dates: every date shape a dump or a dateline writes -> YYYY-MM-DD, or None."""

from __future__ import annotations

import datetime as dt

import pytest

from qa.ingest.dates import date_from_url, find_date, normalise_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2005-02-14", "2005-02-14"),
        ("2005-02-14T08:00:00", "2005-02-14"),
        ("2005-02-14T08:00:00Z", "2005-02-14"),
        ("2005-02-14T08:00:00.123+05:30", "2005-02-14"),
        ("2005-02-14T23:30:00-05:00", "2005-02-14"),  # the stated day, not UTC's
        ("2005-02-14 08:00:00", "2005-02-14"),
        ("Mon, 14 Feb 2005 08:00:00 +0000", "2005-02-14"),
        ("Mon, 14 Feb 2005 08:00:00 GMT", "2005-02-14"),
        ("14 February 2005", "2005-02-14"),
        ("14th Feb, 2005", "2005-02-14"),
        ("Feb 14, 2005", "2005-02-14"),
        ("February 14 2005 8:00 AM", "2005-02-14"),
        ("Sept. 3, 2019", "2019-09-03"),
        ("2005/02/14", "2005-02-14"),
        ("2005.02.14", "2005-02-14"),
        ("14/02/2005", "2005-02-14"),
        ("02/14/2005", "2005-02-14"),  # month first only when day first is impossible
        ("03/04/2005", "2005-04-03"),
        ("14.02.2005", "2005-02-14"),
        ("20050214", "2005-02-14"),
        ("20050214080000", "2005-02-14"),
        ("20050214T080000Z", "2005-02-14"),
        ("  2005-02-14  ", "2005-02-14"),
        ("Published: 14 February 2005, 08:00", "2005-02-14"),
    ],
)
def test_strings(value, expected):
    assert normalise_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1108368000, "2005-02-14"),  # epoch seconds, 2005-02-14T08:00:00Z
        (1108368000.5, "2005-02-14"),
        (1108368000000, "2005-02-14"),  # milliseconds
        (1108368000000000, "2005-02-14"),  # microseconds
        (1108368000000000000, "2005-02-14"),  # nanoseconds
        ("1108368000", "2005-02-14"),
        ("1108368000000", "2005-02-14"),
        (1108339199, "2005-02-13"),  # one second before midnight UTC
        (-86400 * 365, "1969-01-01"),
        (20050214, "2005-02-14"),  # compact integer
        (dt.date(2005, 2, 14), "2005-02-14"),
        (dt.datetime(2005, 2, 14, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2005-02-14"),
    ],
)
def test_numbers_and_objects(value, expected):
    assert normalise_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None, "", "   ", "yesterday", "2005-13-45", "31/02/2005", "Feb 30, 2005", "2005-02",
        "not a date 12", True, False, 2005, 0, 42.0, float("nan"), float("inf"), -float("inf"),
        10**30, "9" * 5000, "1" * 25, ["2005-02-14"], {"date": "2005-02-14"}, b"2005-02-14",
        "0000-01-01", "20051399",
    ],
)
def test_unparseable_is_none(value):
    assert normalise_date(value) is None


def test_never_raises_on_junk():
    for value in ("\x00" * 100, "-" * 10_000, "2005-02-30T08:00", "1e400", "12" * 3000, object()):
        assert normalise_date(value) is None


def test_find_date_position():
    hit = find_date("By Jane | 24 Dec, 2024 15:04")
    assert hit is not None
    iso, match = hit
    assert iso == "2024-12-24"
    assert match.group(0) == "24 Dec, 2024"


def test_find_date_earliest_wins():
    hit = find_date("Updated 2024-12-25, first published Dec 24, 2024")
    assert hit is not None and hit[0] == "2024-12-25"


def test_date_from_url():
    assert date_from_url("https://x.example/2005/02/14/story") == "2005-02-14"
    assert date_from_url("https://x.example/2005/02/31/story") is None
    assert date_from_url("https://x.example/story") is None
