"""`qa quotes`: a speaker's quotes from the index, in date order or ranked by a topic.

Plain SQL over the ``quotes`` table for listing (no model, no numpy: a cold `qa quotes` is as
quick as `qa sources`); ``--about`` ranks with the Searcher's hybrid search restricted to the
passages that hold the quotes, then orders each passage's quotes by their sentence's cosine.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qa.errors import BadInputError, IndexError_
from qa.index.store import ArticleRow, Store, _ARTICLE_COLUMNS
from qa.ingest.files import display_path
from qa.quotes.indexing import META_KEY
from qa.search.filters import Filters
from qa.search.results import HitSource, source_to_dict

if TYPE_CHECKING:
    from qa.search.searcher import Searcher

MAX_SPEAKER_CHARS = 200
_QUOTE_JOIN = (
    "quotes q JOIN passages p ON p.id = q.passage_id JOIN articles a ON a.id = p.article_id "
    "JOIN files f ON f.id = a.file_id"
)
SORTS = ("date", "relevance")


class UnknownSpeakerError(BadInputError):
    """No quote in the index is by that speaker (the hint names the closest ones)."""


@dataclass(frozen=True)
class QuoteHit:
    """One speech-reporting sentence with its speaker and source."""

    speaker: str
    quote: str
    kind: str
    passage_id: int
    start: int
    end: int
    source: HitSource
    article_id: int
    relevance: float | None = None


def quote_to_dict(hit: QuoteHit) -> dict[str, Any]:
    """One `qa quotes --json` element."""
    out: dict[str, Any] = {"speaker": hit.speaker, "quote": hit.quote, "kind": hit.kind}
    if hit.relevance is not None:
        out["relevance"] = round(hit.relevance, 4)
    out["source"] = source_to_dict(hit.source)
    return out


def check_attributed(store: Store) -> None:
    """Raise the one "run qa index again" error for an index built before attribution."""
    try:
        has_table = store.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'quotes'"
        ).fetchone() is not None
    except sqlite3.DatabaseError:
        has_table = False
    if not has_table or META_KEY not in store.meta():
        raise IndexError_(
            f"the index in {store.index_dir}/ was built before qa attributed quotes",
            "Run `qa index` again (or `qa index --rebuild PATH ...`) to find who said what",
        )


def speakers(store: Store, filters: Filters | None = None) -> list[tuple[str, int]]:
    """(speaker, quotes) within the scope, most quoted first."""
    where, args = (filters or Filters()).where()
    rows = store.conn.execute(
        f"SELECT q.speaker, COUNT(*) FROM {_QUOTE_JOIN} "
        f"WHERE {where} GROUP BY q.speaker ORDER BY COUNT(*) DESC, q.speaker",
        args,
    )
    return [(name, int(n)) for name, n in rows]


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’&-]+", text.lower().replace("’", "'"))


def match_speakers(known: list[str], asked: str) -> list[str]:
    """The known speakers an asked name means: every word of it is a word of their name
    ("Peskov", "dmitry peskov"; "the" and "Mr" are ignored).

    Raises:
        UnknownSpeakerError: none match; the hint lists the closest names.
    """
    asked = asked.strip()
    if not asked:
        raise BadInputError("the speaker is empty", "Name one, e.g. qa quotes Peskov (or see qa quotes --speakers)")
    if len(asked) > MAX_SPEAKER_CHARS:
        raise BadInputError(f"the speaker name is {len(asked)} characters long, over {MAX_SPEAKER_CHARS}",
                            "Give a shorter name")
    wanted = [w for w in _words(asked) if w not in _IGNORED]
    if not wanted:
        wanted = _words(asked)
    found = [name for name in known if set(wanted) <= set(_words(name))]
    if found:
        return found
    raise UnknownSpeakerError(
        f"no quotes by {asked!r} in the index",
        "Closest names: " + ", ".join(closest(known, asked)) if known else "The index holds no quotes yet",
    )


_IGNORED = frozenset("the a an mr mrs ms dr sir".split())


def closest(known: list[str], asked: str, n: int = 5) -> list[str]:
    """The known speakers whose name (or a word of it) is nearest to what was asked."""
    by_part: dict[str, str] = {}
    for name in known:
        by_part.setdefault(name.lower(), name)
        for word in _words(name):
            if word not in _IGNORED and len(word) > 2:
                by_part.setdefault(word, name)
    picks: list[str] = []
    for hit in difflib.get_close_matches(asked.lower(), list(by_part), n=3 * n, cutoff=0.5):
        name = by_part[hit]
        if name not in picks:
            picks.append(name)
    if not picks:
        picks = known[:n]
    return picks[:n]


def list_quotes(
    store: Store, names: list[str] | None, filters: Filters | None = None, k: int | None = None
) -> list[QuoteHit]:
    """Every quote by these speakers (all when None) in scope, oldest article first."""
    where, args = (filters or Filters()).where()
    extra, extra_args = _speaker_condition(names)
    limit = " LIMIT ?" if k else ""
    rows = store.conn.execute(
        "SELECT q.speaker, q.kind, q.start_char, q.end_char, p.id, p.text, p.paragraph, "
        f"p.paragraph_end, p.page, {_ARTICLE_COLUMNS} FROM {_QUOTE_JOIN} "
        f"WHERE ({where}){extra} "
        "ORDER BY a.date IS NULL, a.date, f.path, a.record, p.id, q.start_char" + limit,
        [*args, *extra_args, *([k] if k else [])],
    )
    return [_hit(row) for row in rows]


def _speaker_condition(names: list[str] | None) -> tuple[str, list[str]]:
    if names is None:
        return "", []
    if not names:
        return " AND 0", []
    return f" AND q.speaker IN ({','.join('?' * len(names))})", list(names)


def _hit(row: tuple, relevance: float | None = None) -> QuoteHit:
    speaker, kind, start, end, pid, text, paragraph, paragraph_end, page = row[:9]
    article = ArticleRow.from_row(row[9:])
    source = HitSource(display_path(article.path), article.record, paragraph, paragraph_end,
                       page, article.meta)
    return QuoteHit(speaker, text[start:end], kind, pid, start, end, source, article.id, relevance)


def quotes_about(
    searcher: Searcher, about: str, names: list[str] | None, filters: Filters | None = None,
    k: int = 10, sort: str = "relevance", query_vector: Any = None,
) -> list[QuoteHit]:
    """The quotes (by these speakers, or anyone's) that best answer ``about``.

    Passages holding the quotes are ranked by the Searcher's hybrid search restricted to them;
    a quote's relevance is its passage's fused score plus its sentence's cosine to ``about``,
    halved (0..1). ``sort="date"`` then puts the best ``k`` in date order.
    """
    about = about.strip()
    if not about:
        raise BadInputError("--about is empty", 'Give a topic, e.g. --about "tanks"')
    every = list_quotes(searcher.store, names, filters)
    if not every:
        return []
    by_passage: dict[int, list[QuoteHit]] = {}
    for hit in every:
        by_passage.setdefault(hit.passage_id, []).append(hit)
    vector, ranked = searcher.rank_within(about, list(by_passage), max(2 * k, 50), query_vector)
    cosines = searcher.sentence_cosines(vector, [pid for pid, _ in ranked])
    scored: list[QuoteHit] = []
    for pid, score in ranked:
        spans = cosines.get(pid, {})
        for hit in by_passage[pid]:
            relevance = (score + max(spans.get((hit.start, hit.end), 0.0), 0.0)) / 2
            scored.append(_with_relevance(hit, relevance))
    scored.sort(key=lambda h: -(h.relevance or 0.0))
    best = scored[:k]
    if sort == "date":
        order = {id(h): i for i, h in enumerate(every)}
        position = {(h.passage_id, h.start): order.get(id(h), 0) for h in every}
        best.sort(key=lambda h: position.get((h.passage_id, h.start), 0))
    return best


def _with_relevance(hit: QuoteHit, relevance: float) -> QuoteHit:
    return QuoteHit(hit.speaker, hit.quote, hit.kind, hit.passage_id, hit.start, hit.end,
                    hit.source, hit.article_id, relevance)


def check_sort(sort: str) -> str:
    if sort not in SORTS:
        raise BadInputError(f"unknown sort {sort!r}", "Use one of: date, relevance")
    return sort


@dataclass(frozen=True)
class QuotesAnswer:
    """What `qa quotes` says: the speakers the asked name matched, and their quotes."""

    asked: str | None
    names: list[str]
    about: str | None
    quotes: list[QuoteHit]


def answer_quotes(
    store: Store, speaker: str | None, about: str | None, filters: Filters | None, k: int | None,
    sort: str | None, searcher: Searcher | None = None, query_vector: Any = None,
) -> QuotesAnswer:
    """The one core call behind `qa quotes`, `/quotes`, `:quotes` and the MCP tool.

    Args:
        speaker: a name or part of one (None: everyone).
        about: a topic to rank by (needs ``searcher``); None lists in date order.
        k: how many quotes at most (None: all; with ``about``: 10).
        sort: "date" (oldest first; the default without ``about``) or "relevance" (the
            default with it).

    Raises:
        IndexError_: the index predates attribution. UnknownSpeakerError: nobody by that name.
    """
    check_attributed(store)
    sort = check_sort(sort or ("relevance" if about else "date"))
    names = None
    if speaker is not None:
        names = match_speakers([name for name, _ in speakers(store)], speaker)
    if about is not None:
        if searcher is None:
            raise BadInputError("--about needs the search index", "Run qa quotes from an index with vectors")
        found = quotes_about(searcher, about, names, filters, k or 10, sort, query_vector)
    else:
        found = list_quotes(store, names, filters, k)
        if sort == "relevance":
            raise BadInputError("--sort relevance needs --about TEXT", "Add --about, or sort by date")
    return QuotesAnswer(speaker, names or [], about, found)


def answer_to_list(answer: QuotesAnswer) -> list[dict[str, Any]]:
    """The `qa quotes --json` list."""
    return [quote_to_dict(q) for q in answer.quotes]
