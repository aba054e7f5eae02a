"""Scoped questions: which articles a question may be answered from.

Filters restrict the candidates *before* ranking: :meth:`Filters.where` gives one SQL condition
over ``articles a``, used both to select the allowed passage ids for the dense side and inside
the BM25 query, so a scoped ask returns ``min(k, passages in scope)`` hits.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any

from qa.errors import BadInputError

FILTER_KEYS = ("outlet", "author", "title", "since", "until", "path", "undated")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def _bound(value: str, name: str, end: bool) -> str:
    """``2022`` / ``2022-03`` / ``2022-03-14`` -> the first (or last) day it covers, ISO."""
    m = _DATE.match(value.strip())
    if not m:
        raise BadInputError(
            f"--{name} {value!r} is not a date", "Use YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2023-01"
        )
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    lo_month, hi_month = (int(month), int(month)) if month else (1, 12)
    if not 1 <= lo_month <= 12:
        raise BadInputError(f"--{name} {value!r} has no month {lo_month}", "Months run 01-12")
    last = calendar.monthrange(year, hi_month)[1]
    if day is not None:
        d = int(day)
        if not 1 <= d <= calendar.monthrange(year, lo_month)[1]:
            raise BadInputError(f"--{name} {value!r} has no day {d}", "Check the date")
        return f"{year:04d}-{lo_month:02d}-{d:02d}"
    return f"{year:04d}-{hi_month:02d}-{last:02d}" if end else f"{year:04d}-{lo_month:02d}-01"


def glob_regex(pattern: str) -> str:
    """A glob over stored paths as a regex: ``*`` within a folder, ``**`` across folders."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]) if pattern[i] != "[" else translate(pattern[i])[4:-3])
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Filters:
    """The scope of a question. Empty fields mean no restriction.

    Attributes:
        outlet: outlets, case-insensitive exact match (any of them).
        author: case-insensitive substring of the byline.
        title: case-insensitive substring of the title.
        since, until: inclusive ISO bounds (already expanded from YYYY or YYYY-MM).
        path: globs over the source path as qa prints it (any of them).
        undated: whether undated articles stay in scope of a date filter.
    """

    outlet: tuple[str, ...] = ()
    author: str | None = None
    title: str | None = None
    since: str | None = None
    until: str | None = None
    path: tuple[str, ...] = ()
    undated: bool = False
    given: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def build(
        cls,
        outlet: list[str] | tuple[str, ...] | str | None = None,
        author: str | None = None,
        title: str | None = None,
        since: str | None = None,
        until: str | None = None,
        path: list[str] | tuple[str, ...] | str | None = None,
        undated: bool = False,
    ) -> Filters:
        """Filters from user values (CLI options, JSON keys, query parameters).

        Raises:
            BadInputError: a malformed date, or ``since`` after ``until``.
        """
        outlets = _as_tuple(outlet)
        paths = _as_tuple(path)
        lo = _bound(since, "since", end=False) if since else None
        hi = _bound(until, "until", end=True) if until else None
        if lo and hi and lo > hi:
            raise BadInputError(f"--since {since} is after --until {until}", "Swap the dates")
        given: dict[str, Any] = {}
        for key, value in (
            ("outlet", list(outlets)), ("author", author), ("title", title),
            ("since", since), ("until", until), ("path", list(paths)), ("undated", undated),
        ):
            if value:
                given[key] = value
        return cls(outlets, author or None, title or None, lo, hi, paths, bool(undated), given)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Filters:
        """Filters from a JSON object's keys (other keys are ignored).

        Raises:
            BadInputError: a value of the wrong type or a malformed date.
        """
        kwargs: dict[str, Any] = {}
        for key in FILTER_KEYS:
            if key not in values or values[key] is None:
                continue
            value = values[key]
            if key in ("outlet", "path"):
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise BadInputError(f"filter {key!r} must be a string or a list of strings")
            elif key == "undated":
                if not isinstance(value, bool):
                    raise BadInputError("filter 'undated' must be true or false")
            elif not isinstance(value, str):
                raise BadInputError(f"filter {key!r} must be a string")
            kwargs[key] = value
        return cls.build(**kwargs)

    @property
    def active(self) -> bool:
        return bool(self.given)

    def where(self) -> tuple[str, list[Any]]:
        """One SQL condition over ``articles a`` and ``files f`` (and its parameters); ``1`` when unscoped."""
        parts: list[str] = []
        args: list[Any] = []
        if self.outlet:
            parts.append(f"lower(a.outlet) IN ({','.join('?' * len(self.outlet))})")
            args.extend(o.lower() for o in self.outlet)
        if self.author:
            parts.append("instr(lower(a.author), ?) > 0")
            args.append(self.author.lower())
        if self.title:
            parts.append("instr(lower(a.title), ?) > 0")
            args.append(self.title.lower())
        if self.since or self.until:
            bounds = []
            if self.since:
                bounds.append("a.date >= ?")
                args.append(self.since)
            if self.until:
                bounds.append("a.date <= ?")
                args.append(self.until)
            dated = " AND ".join(bounds)
            parts.append(f"(a.date IS NULL OR ({dated}))" if self.undated else f"({dated})")
        if self.path:
            matches = " OR ".join("qa_path_matches(path, ?)" for _ in self.path)
            # over files, once per question: not once per passage row
            parts.append(f"a.file_id IN (SELECT id FROM files WHERE {matches})")
            args.extend(f"^(?:{glob_regex(p)})$" for p in self.path)
        return (" AND ".join(parts) or "1"), args

    def describe(self) -> str:
        """The filters as a user typed them: 'outlet=Reuters, since=2023'."""
        return ", ".join(
            f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in self.given.items()
        )


def _as_tuple(value: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(v for v in value if v)
