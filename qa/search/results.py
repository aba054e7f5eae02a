"""What a question returns, and the one JSON contract for it (CLI, HTTP and MCP share it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa.index.store import ArticleRow, PassageRow
from qa.ingest.article import ArticleMeta
from qa.ingest.files import display_path


def source_ref(path: str, record: int | None) -> str:
    """How a source is named to the user and to `qa show`: ``path``, or ``path#record``."""
    return path if record is None else f"{path}#{record}"


def article_ref(article: ArticleRow) -> str:
    """:func:`source_ref` of an indexed article, its path as qa prints paths."""
    return source_ref(display_path(article.path), article.record)


def paragraph_span(first: int, last: int | None) -> str:
    """'3', or '3-6' for a passage that spans paragraphs 3 to 6."""
    return f"{first}-{last}" if last else f"{first}"


@dataclass(frozen=True)
class HitSource:
    """Where a passage comes from.

    Attributes:
        path: the file, relative to the working directory when it lies below it.
        record: the record's position in a dump (JSONL line, CSV row, JSON element), else None.
        paragraph: the first body paragraph of the passage (from 1).
        paragraph_end: the last one, when the passage spans several; else None.
        page: the 1-based page of a PDF passage, else None.
        meta: title, outlet, date, author, url.
    """

    path: str
    record: int | None
    paragraph: int
    paragraph_end: int | None
    page: int | None
    meta: ArticleMeta

    @property
    def ref(self) -> str:
        """What `qa show` takes for this article: the path, or ``path#record``."""
        return source_ref(self.path, self.record)


@dataclass(frozen=True)
class Copy:
    """Another article holding a near-duplicate of a hit's passage (wire copy)."""

    path: str
    record: int | None
    paragraph: int
    meta: ArticleMeta


def publication_order(meta: ArticleMeta, path: str, record: int | None) -> tuple[Any, ...]:
    """Sort key among copies of a story: dated ones by date, then undated; then by path."""
    return (meta.date is None, meta.date or "", path, record or 0)


@dataclass(frozen=True)
class Hit:
    """One ranked passage with its answer sentence."""

    rank: int
    score: float
    relevance: float
    passage_id: int
    text: str
    answer: str
    answer_start: int
    source: HitSource
    also_in: tuple[Copy, ...] = ()
    speaker: str | None = None  # who the answer sentence quotes (qa/quotes/), None: nobody


@dataclass(frozen=True)
class Answer:
    """Everything `qa ask` says about one question."""

    question: str
    hits: list[Hit]
    no_match: bool
    filters: dict[str, Any] = field(default_factory=dict)
    excluded_by: str | None = None  # the filter that left nothing in scope, if one did


def source_to_dict(source: HitSource) -> dict[str, Any]:
    return {
        "path": source.path,
        "record": source.record,
        "paragraph": source.paragraph,
        "paragraph_end": source.paragraph_end,
        "page": source.page,
        **source.meta.to_dict(),
    }


def first_published(hit: Hit) -> int | None:
    """Which of a hit and its copies is the earliest dated: -1 the hit, i ``also_in[i]``.

    None when the hit has no copies or none of them is dated. Copies of one date: the one
    whose path sorts first (:func:`publication_order`).
    """
    dated = [(publication_order(hit.source.meta, hit.source.path, hit.source.record), -1)] + [
        (publication_order(c.meta, c.path, c.record), i) for i, c in enumerate(hit.also_in)
    ]
    dated = [(key, i) for key, i in dated if not key[0]]  # key[0]: undated
    return min(dated)[1] if hit.also_in and dated else None


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    """One result in the JSON contract's shape."""
    first = first_published(hit)
    return {
        "rank": hit.rank,
        "score": round(hit.score, 6),
        "relevance": round(hit.relevance, 4),
        "passage_id": hit.passage_id,
        "text": hit.text,
        "answer": hit.answer,
        "speaker": hit.speaker,
        "source": source_to_dict(hit.source),
        "first": first == -1,
        "also_in": [
            {"path": c.path, "record": c.record, "outlet": c.meta.outlet, "date": c.meta.date,
             "title": c.meta.title, "paragraph": c.paragraph, "first": first == i}
            for i, c in enumerate(hit.also_in)
        ],
    }


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """The whole `qa ask --json` object."""
    out: dict[str, Any] = {"question": answer.question}
    if answer.filters:
        out["filters"] = answer.filters
    out["no_match"] = answer.no_match
    out["results"] = [hit_to_dict(h) for h in answer.hits]
    return out


def article_to_dict(article: ArticleRow) -> dict[str, Any]:
    """One `qa sources --json` element."""
    return {
        "path": display_path(article.path),
        "record": article.record,
        **article.meta.to_dict(),
        "passages": article.passages,
    }


def show_to_dict(article: ArticleRow, passages: list[PassageRow]) -> dict[str, Any]:
    """The `qa show --json` object: the article as qa parsed it."""
    return {
        "path": display_path(article.path),
        "record": article.record,
        **article.meta.to_dict(),
        "passages": [
            {"paragraph": p.paragraph, "paragraph_end": p.paragraph_end, "page": p.page,
             "text": p.text}
            for p in passages
        ],
    }
