"""Dates as articles and record dumps write them -> ISO ``YYYY-MM-DD``.

Two entry points:

* :func:`find_date` finds the first date written anywhere in free text (a dateline such as
  ``'24 Dec, 2024 15:04'`` or ``'Jan. 25, 2023'``) and says where it stands.
* :func:`normalise_date` turns one metadata value (a string, an epoch number, a
  :class:`datetime.date`) into ``YYYY-MM-DD``, or None; it never raises.

A date with a time and zone keeps the calendar day it states (``2005-02-14T23:30-05:00`` is
``2005-02-14``); epoch numbers are read in UTC. Stdlib only: imported by light CLI paths.
"""

from __future__ import annotations

import datetime as dt
import math
import re

__all__ = ["date_from_url", "find_date", "normalise_date"]

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")]
    )
    for name in names
}
_MONTH_RE = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = (
    # 2005-02-14, also the date part of ISO 8601 timestamps
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    # 2005/02/14 and 2005.02.14 (year first)
    re.compile(r"(?<![\d/.])(?P<y>\d{4})([/.])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?![\d/.]\d|\d)"),
    # 14.02.2005 (day first)
    re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?![\d.]\d)"),
    # 14/02/2005 or 02/14/2005 (day first unless impossible)
    re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})(?![\d/])"),
    # 14 February 2005, 14th Feb, 2005, Mon, 14 Feb 2005 08:00:00 +0000 (RFC 2822)
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH_RE + r",?\s+(?P<y>\d{4})\b", re.I),
    # Feb 14, 2005 and February 14th 2005
    re.compile(r"\b" + _MONTH_RE + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})\b", re.I),
)
_URL_DATE = re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/|$)")
# 20050214, 20050214080000 (GDELT), 20050214T080000Z (basic ISO 8601)
_COMPACT = re.compile(
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:\d{6}|T\d{2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# Numbers smaller than this are counts or years, not timestamps (100000 s is 1970-01-02).
_MIN_EPOCH = 100_000


def _ymd(match: re.Match[str]) -> tuple[int, int, int]:
    """Year, month, day from one of the date pattern matches."""
    groups = match.groupdict()
    if groups.get("mon"):
        return int(groups["y"]), _MONTHS[groups["mon"].lower()], int(groups["d"])
    if groups.get("a"):
        a, b = int(groups["a"]), int(groups["b"])
        day, month = (b, a) if b > 12 else (a, b)
        return int(groups["y"]), month, day
    return int(groups["y"]), int(groups["m"]), int(groups["d"])


def find_date(text: str) -> tuple[str, re.Match[str]] | None:
    """The first valid date written in ``text`` as (ISO string, match), else None.

    Args:
        text: Any text, e.g. a dateline '24 Dec, 2024 15:04' or 'Jan. 25, 2023'.

    Returns:
        ``('YYYY-MM-DD', match)`` for the earliest date found, or None.
    """
    found: list[tuple[int, str, re.Match[str]]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                iso = dt.date(*_ymd(match)).isoformat()
            except ValueError:
                continue
            found.append((match.start(), iso, match))
            break
    if not found:
        return None
    _, iso, match = min(found, key=lambda item: item[0])
    return iso, match


def date_from_url(url: str) -> str | None:
    """The date in a URL path such as ``/2005/02/14/story``, else None."""
    hit = _URL_DATE.search(url)
    if hit is None:
        return None
    try:
        return dt.date(*(int(hit.group(k)) for k in ("y", "m", "d"))).isoformat()
    except ValueError:
        return None


def _from_epoch(value: float) -> str | None:
    """ISO date of an epoch timestamp in seconds, milliseconds, microseconds or nanoseconds."""
    if not math.isfinite(value) or abs(value) < _MIN_EPOCH:
        return None
    for scale in (1e17, 1e14, 1e11):
        if abs(value) >= scale:
            value /= {1e17: 1e9, 1e14: 1e6, 1e11: 1e3}[scale]
            break
    try:
        return (_EPOCH + dt.timedelta(seconds=value)).date().isoformat()
    except (OverflowError, ValueError):
        return None


def _from_compact(text: str) -> str | None:
    """ISO date of '20050214', '20050214080000' or '20050214T080000Z', else None."""
    match = _COMPACT.match(text)
    if match is None:
        return None
    try:
        day = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None
    return day.isoformat() if 1800 <= day.year <= 2200 else None


def normalise_date(value: object) -> str | None:
    """``YYYY-MM-DD`` from one metadata value, or None when it holds no readable date.

    Accepts ISO 8601 (with or without time and zone), RFC 2822, ``2005-02-14 08:00:00``,
    ``14 February 2005``, ``Feb 14, 2005``, ``2005/02/14``, ``14/02/2005`` (day first unless
    impossible), compact ``20050214``, epoch seconds (milliseconds above 1e11, microseconds
    above 1e14, nanoseconds above 1e17) as numbers or digit strings, and
    :class:`datetime.date`/:class:`datetime.datetime` objects. Never raises.

    Args:
        value: The raw value from a record or a metadata line.

    Returns:
        The ISO date, or None.
    """
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10] if value.year >= 1 else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _number_date(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) <= 30 and _NUMBER.match(text):
        return _number_date(float(text) if "." in text else int(text))
    compact = _from_compact(text)
    if compact is not None:
        return compact
    hit = find_date(text[:1000])
    return hit[0] if hit else None


def _number_date(value: int | float) -> str | None:
    """ISO date of a number: an 8 or 14 digit integer is ``YYYYMMDD[hhmmss]``, else epoch time."""
    if isinstance(value, int) and 10**7 <= value < 10**14 and len(str(value)) in (8, 14):
        return _from_compact(str(value))  # YYYYMMDD[hhmmss], never 1970-73 epoch seconds
    try:
        return _from_epoch(float(value))
    except OverflowError:
        return None
