"""What every reader produces: an :class:`Article` with its :class:`ArticleMeta`.

``ArticleMeta`` is the one declaration of the metadata fields; the store's columns, the JSON
contract and ``qa show`` all follow :data:`META_FIELDS`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class ArticleMeta:
    """What an article states about itself; None where it does not.

    Attributes:
        title: The headline.
        outlet: The publisher (site name, agency, newspaper).
        date: Publication date, ISO 8601 ``YYYY-MM-DD``.
        author: The byline.
        url: The article's address.
    """

    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    author: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


META_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ArticleMeta))


@dataclass
class Article:
    """One article as a reader found it.

    Attributes:
        meta: Its metadata.
        paragraphs: Cleaned body paragraphs in order; paragraph number = index + 1.
        pages: For paged formats (PDF), the 1-based page of each paragraph; else None.
        record: For record dumps, the record's 1-based position in its file (JSONL line,
            CSV/Parquet data row, JSON array element); else None.
    """

    meta: ArticleMeta
    paragraphs: list[str]
    pages: list[int] | None = None
    record: int | None = None
