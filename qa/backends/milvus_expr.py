"""A question's scope as a Milvus boolean expression over the collection's scalar fields.

Pure string building (no pymilvus), so it is tested in the fast suite. The collection keeps
``outlet``, ``author`` and ``title`` lower-cased, ``date`` as ISO text ("" when undated),
``file_id`` and ``record``; the expression is evaluated inside Milvus before ranking, the same
conditions :meth:`qa.search.filters.Filters.where` gives SQLite. A path glob is matched against
the catalogue's file paths (a regex Milvus has no operator for) and becomes ``file_id in [...]``.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.search.filters import Filters

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def literal(value: str) -> str:
    """A Milvus string literal: double-quoted, backslash escapes for quote, backslash, controls."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def contains(field: str, value: str) -> str:
    """``field`` contains ``value`` as a substring (``like`` with its wildcards escaped)."""
    pattern = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{field} like {literal('%' + pattern + '%')}"


def expression(filters: Filters, file_ids: Sequence[int] | None = None) -> str:
    """One boolean expression for ``filters`` ("" when unscoped).

    Args:
        filters: the question's scope.
        file_ids: catalogue ids of the files a path filter matches (needed when it has one).
    """
    parts: list[str] = []
    if filters.outlet:
        parts.append(f"outlet in [{', '.join(literal(o.lower()) for o in filters.outlet)}]")
    if filters.author:
        parts.append(contains("author", filters.author.lower()))
    if filters.title:
        parts.append(contains("title", filters.title.lower()))
    if filters.since or filters.until:
        bounds = ['date != ""']
        if filters.since:
            bounds.append(f"date >= {literal(filters.since)}")
        if filters.until:
            bounds.append(f"date <= {literal(filters.until)}")
        dated = " and ".join(bounds)
        parts.append(f'(date == "" or ({dated}))' if filters.undated else f"({dated})")
    if filters.path:
        ids = sorted(set(file_ids or ()))
        parts.append(f"file_id in [{', '.join(str(int(i)) for i in ids)}]" if ids else "id < 0")
    return " and ".join(parts)
