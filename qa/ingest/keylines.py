"""``Key: value`` metadata lines (``Title:``, ``Source:``, ``Date:``, ...) -> article fields.

Saved articles often start with such lines, and markdown front matter is made of them. Only
known keys count, so a body line such as ``Note: ...`` stays text. Stdlib only.
"""

from __future__ import annotations

import re

__all__ = ["URL_ONLY", "key_value", "leading_keys"]

_KEY_FIELDS = {
    "title": "title", "headline": "title",
    "outlet": "outlet", "source": "outlet", "publisher": "outlet", "site": "outlet",
    "site_name": "outlet", "publication": "outlet",
    "date": "date", "published": "date", "published_at": "date", "pubdate": "date",
    "date_published": "date",
    "author": "author", "by": "author", "authors": "author", "byline": "author",
    "url": "url", "link": "url", "source_url": "url", "canonical_url": "url",
}
_KEY_LINE = re.compile(r"^([A-Za-z][A-Za-z _-]{0,20}?)\s*:\s*(.*)$")
#: A line that is nothing but a web address (optionally in angle brackets).
URL_ONLY = re.compile(r"^<?(https?://[^\s<>]+|www\.[^\s<>]+\.[a-z]{2,}[^\s<>]*)>?$", re.I)


def key_value(line: str) -> tuple[str, str] | None:
    """``(field, value)`` when ``line`` is a ``Key: value`` metadata line with a known key.

    Args:
        line: One normalised line.

    Returns:
        The article field (``title``, ``outlet``, ``date``, ``author``, ``url``) and the raw
        value, or None. A ``Source:`` that is a web address counts as the ``url``.
    """
    match = _KEY_LINE.match(line)
    if not match:
        return None
    key = re.sub(r"[ -]", "_", match.group(1).strip().lower())
    value = match.group(2).strip().strip("\"'").strip()
    field = _KEY_FIELDS.get(key)
    if field is None or not value:
        return None
    if field == "outlet" and URL_ONLY.match(value):
        field = "url"
    return field, value


def leading_keys(lines: list[str], meta: dict[str, str]) -> list[str]:
    """Move leading ``Key: value`` lines (known keys only) into ``meta``; return the rest.

    Args:
        lines: Normalised lines.
        meta: Field -> raw value; values already there are kept.

    Returns:
        The lines after the leading metadata lines.
    """
    i = 0
    while i < len(lines):
        if lines[i]:
            kv = key_value(lines[i])
            if kv is None:
                break
            meta.setdefault(*kv)
        i += 1
    return lines[i:]
