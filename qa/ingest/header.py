"""The header area of an article: title, byline and dateline, split off from the body.

A scraped article starts with a few short lines (section label, headline, standfirst, byline,
date, caption, place) before its first real paragraph. :func:`split_header` finds where the body
starts; :func:`read_header` takes the title, author and date from the lines before it, and
:func:`clean_body` removes bylines, datelines, title repeats and a closing signature from the
body. All rules are about the shape of a line, never about an outlet. Stdlib only.
"""

from __future__ import annotations

import re

from qa.ingest.article import ArticleMeta
from qa.ingest.dates import find_date
from qa.ingest.junk import Dropped
from qa.ingest.keylines import URL_ONLY
from qa.ingest.paragraphs import SENTENCE_END, words

__all__ = ["clean_body", "is_name", "read_header", "split_header", "take_urls"]

#: The body starts within the first this-many paragraphs (else after the first one).
HEADER_SCAN = 10
#: A header line this long, directly before the body, is the body's lead paragraph.
LEAD_WORDS = 10

_BYLINE = re.compile(r"^by:?\s+(?P<name>[^\W\d_][\w.'’ -]*?)(?:\s*[,|–—]\s*.*|\s+-\s+.*)?$", re.I)
_NAME_STOP = frozenset("of the and for in on at to a an with from by".split())
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]+)*\.?$")
_NON_ALNUM = re.compile(r"[\W_]+")


def _note(dropped: Dropped | None, reason: str, par: str) -> None:
    """Record a removed paragraph when the caller collects them."""
    if dropped is not None:
        dropped.append((reason, par))


def is_name(text: str, low: int = 2, high: int = 4) -> bool:
    """Whether ``text`` looks like a person's name: ``low``..``high`` capitalised words."""
    found = words(text)
    if not low <= len(found) <= high:
        return False
    for word in found:
        if word.lower() in _NAME_STOP or not _NAME_WORD.match(word):
            return False
        if not word[0].isupper() or (len(word) > 2 and word.isupper()):
            return False
    return True


def _byline(par: str) -> tuple[str | None, str | None] | None:
    """(author, date) when ``par`` is a byline ('By X', 'Name | date'), else None."""
    hit = find_date(par)
    date = hit[0] if hit else None
    match = _BYLINE.match(par)
    if match and len(words(par)) <= 12 and is_name(match.group("name"), 1, 4):
        return match.group("name").strip(), date
    if par.count("|") == 1 and len(words(par)) <= 15:
        left, right = (part.strip() for part in par.split("|"))
        if right and is_name(left):  # 'Name | date or outlet'; 'Privacy Policy |' is a link row
            return left, date
    return None


def _dateline(par: str, max_rest: int) -> str | None:
    """The ISO date of a short line that is mostly a date (<= ``max_rest`` other words)."""
    hit = find_date(par)
    if hit is None:
        return None
    rest = par[: hit[1].start()] + " " + par[hit[1].end() :]
    rest_words = [w for w in words(rest) if any(c.isalpha() for c in w)]
    return hit[0] if len(rest_words) <= max_rest else None


def _absorb_meta_line(par: str, meta: ArticleMeta, max_rest: int) -> str | None:
    """Take a byline or dateline into ``meta``; its kind ('byline'/'dateline') or None."""
    byline = _byline(par)
    if byline is not None:
        meta.author = meta.author or byline[0]
        meta.date = meta.date or byline[1]
        return "byline"
    date = _dateline(par, max_rest=max_rest)
    if date is not None:
        meta.date = meta.date or date
        return "dateline"
    return None


def _is_body_like(par: str) -> bool:
    """The first real body paragraph: >= 5 words ending a sentence, or simply long."""
    n = len(words(par))
    return (n >= 5 and bool(SENTENCE_END.search(par))) or n >= 40


def _is_headline_like(par: str) -> bool:
    """A first line ending in '?', '!' or '...' that is short enough to be a headline."""
    return len(words(par)) < 20 and par.rstrip("\"'”’»)]").endswith(("?", "!", "...", "…"))


def split_header(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Split at the first body-like paragraph (searched within the first few).

    Args:
        paragraphs: The article's paragraphs after junk removal.

    Returns:
        (header, body); with no body-like paragraph early on, the first paragraph alone is
        the header.
    """
    for i, par in enumerate(paragraphs[:HEADER_SCAN]):
        if i == 0 and len(paragraphs) > 1 and _is_headline_like(par):
            continue
        if _is_body_like(par) and _byline(par) is None:
            return paragraphs[:i], paragraphs[i:]
    return paragraphs[:1], paragraphs[1:]


def _pick_title(candidates: list[str]) -> str:
    """The headline: among the first few lines, the first of >= 4 words not ending in '.'.

    Short section labels ('Social Media') are skipped; failing that, the first line wins.
    """
    for line in candidates[:3]:
        if len(words(line)) >= 4 and not line.endswith("."):
            return line
    return candidates[0]


def _is_lead(par: str, body_key: str) -> bool:
    """Prose of >= 10 words that the body does not repeat (a pull quote or standfirst does)."""
    return len(words(par)) >= LEAD_WORDS and _key(par) not in body_key


def read_header(
    header: list[str], body: list[str], meta: ArticleMeta, dropped: Dropped | None = None
) -> list[str]:
    """Fill title, author and date from the header area's lines; return its lead paragraphs.

    Lines that are neither title, byline nor dateline are dropped (section labels, standfirst,
    place names) except a lead: prose at the very end of the header, directly before the body
    with no byline, date or title between, whose text the body does not repeat, is the body's
    first paragraph (an opening sentence without a full stop is still body text).

    Args:
        header: The paragraphs before the body.
        body: The paragraphs from the body's start (to tell a lead from a repeated quote).
        meta: Filled in place; fields already set are kept.
        dropped: When given, collects ``(reason, paragraph)`` for each dropped header line.

    Returns:
        The lead paragraphs, to go before the body.
    """
    kinds = [_absorb_meta_line(par, meta, max_rest=6) for par in header]
    candidates = [par for par, kind in zip(header, kinds, strict=True) if kind is None]
    if meta.title is None and candidates:
        meta.title = _pick_title(candidates)
    body_key = _key(" ".join(body))
    start = len(header)
    while start > 0 and kinds[start - 1] is None and header[start - 1] != meta.title:
        if not _is_lead(header[start - 1], body_key):
            break
        start -= 1
    for par, kind in zip(header[:start], kinds[:start], strict=True):
        _note(dropped, kind or ("title" if par == meta.title else "header"), par)
    return header[start:]


def _key(text: str) -> str:
    """Comparison key: lowercase letters and digits only."""
    return _NON_ALNUM.sub("", text.lower())


def _repeats_title(par: str, title: str | None) -> bool:
    """A caption that merely repeats the title (optionally plus a few words)."""
    if not title or len(words(par)) - len(words(title)) > 3:
        return False
    title_key = _key(title)
    return bool(title_key) and _key(par).startswith(title_key)


def clean_body(body: list[str], meta: ArticleMeta, dropped: Dropped | None = None) -> list[str]:
    """Drop title repeats, bylines and datelines from the body; take a closing signature.

    Args:
        body: The paragraphs after the header.
        meta: Filled in place (author, date); fields already set are kept.
        dropped: When given, collects ``(reason, paragraph)`` for each removed paragraph.

    Returns:
        The body paragraphs to index.
    """
    kept: list[str] = []
    for par in body:
        if _repeats_title(par, meta.title):
            _note(dropped, "title-repeat", par)
            continue
        kind = None if len(words(par)) > 8 else _absorb_meta_line(par, meta, max_rest=2)
        if kind:
            _note(dropped, kind, par)
        else:
            kept.append(par)
    if kept and is_name(kept[-1], 2, 3) and (len(kept) == 1 or SENTENCE_END.search(kept[-2])):
        meta.author = meta.author or kept[-1]
        _note(dropped, "signature", kept.pop())
    return kept


def take_urls(paragraphs: list[str], meta: ArticleMeta, dropped: Dropped | None = None) -> list[str]:
    """Remove paragraphs that are only a URL; the first one becomes the article's url."""
    kept: list[str] = []
    for par in paragraphs:
        if URL_ONLY.match(par):
            meta.url = meta.url or par.strip("<>")
            _note(dropped, "url-line", par)
        else:
            kept.append(par)
    return kept
