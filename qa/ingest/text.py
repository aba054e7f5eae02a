"""The reader for plain-text and markdown articles (``.txt``, ``.md``, ``.markdown``).

One file is one article. The steps, each in its own module:

1. bytes -> text (:mod:`qa.ingest.decode`), text -> normalised lines and paragraphs
   (:mod:`qa.ingest.paragraphs`); markdown front matter and markup (:mod:`qa.ingest.markdown`)
   and leading ``Key: value`` lines (:mod:`qa.ingest.keylines`) become metadata;
2. page junk is dropped (:mod:`qa.ingest.junk`);
3. the header area gives title, byline and date, the body is cleaned (:mod:`qa.ingest.header`);
4. the outlet comes from the article's self-references or its URL (:mod:`qa.ingest.outlet`),
   dates from :mod:`qa.ingest.dates`.

The rules are documented in ``docs/text-rules.md`` and measured by ``bench/text_rules.py``.
Stdlib only: this module is imported by the light CLI paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from qa.errors import BadInputError
from qa.ingest.article import Article, ArticleMeta
from qa.ingest.dates import date_from_url, normalise_date
from qa.ingest.decode import decode_text, looks_binary
from qa.ingest.header import clean_body, read_header, split_header, take_urls
from qa.ingest.junk import Dropped, drop_junk
from qa.ingest.keylines import leading_keys
from qa.ingest.markdown import front_matter, markdown_lines
from qa.ingest.outlet import find_outlet, url_outlet
from qa.ingest.paragraphs import normalise_lines, paragraphs
from qa.ingest.readers import ReadOptions, Warn

__all__ = ["decode_text", "looks_binary", "parse_article", "read"]

_MARKDOWN = (".md", ".markdown")


def _meta_from_keys(keys: dict[str, str]) -> ArticleMeta:
    """Metadata from front matter / leading key lines."""
    return ArticleMeta(
        title=keys.get("title"),
        outlet=keys.get("outlet"),
        date=normalise_date(keys["date"]) if "date" in keys else None,
        author=keys.get("author"),
        url=keys.get("url"),
    )


def parse_article(text: str, suffix: str = ".txt", dropped: Dropped | None = None) -> Article:
    """Parse one article's text into metadata and cleaned body paragraphs.

    Args:
        text: The decoded file content.
        suffix: The file's suffix; ``.md``/``.markdown`` enables front matter and markdown
            stripping.
        dropped: When given, every paragraph that does not reach the body is appended as
            ``(reason, paragraph)``: a junk rule's name, or ``title``, ``header``, ``byline``,
            ``dateline``, ``title-repeat``, ``signature``, ``url-line``.

    Returns:
        The parsed :class:`Article` (fields not stated in the text are None).
    """
    lines = normalise_lines(text)
    keys: dict[str, str] = {}
    if suffix.lower() in _MARKDOWN:
        keys, lines = front_matter(lines)
        lines = markdown_lines(lines)
    lines = leading_keys(lines, keys)
    meta = _meta_from_keys(keys)
    raw = take_urls(paragraphs(lines), meta, dropped)
    header, body = split_header(drop_junk(raw, dropped))
    body = clean_body(read_header(header, body, meta, dropped) + body, meta, dropped)
    if meta.date is None and meta.url:
        meta.date = date_from_url(meta.url)
    meta.outlet = meta.outlet or find_outlet(raw) or url_outlet(meta.url)
    return Article(meta, body)


def read(path: Path, options: ReadOptions, warn: Warn) -> Iterator[Article]:
    """The reader for ``.txt`` and ``.md`` files: one article per file.

    Raises:
        BadInputError: the file holds binary data, not text.
    """
    data = path.read_bytes()
    if looks_binary(data):
        raise BadInputError("binary data, not text")
    yield parse_article(decode_text(data), path.suffix.lower())
