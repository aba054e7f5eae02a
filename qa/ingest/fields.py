"""Which column of a record dump holds which article field, and turning a record into an Article.

Record dumps (JSONL, JSON, CSV, Parquet) name their columns freely: ``maintext`` (news-please),
``content`` (Kaggle), ``articleBody`` (schema.org). :func:`detect_fields` maps common names to
the article fields once per file; ``--fields text=COL,...`` (:func:`parse_fields_option`)
overrides it. :func:`record_article` builds one :class:`Article` from a flattened record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

from qa.errors import BadInputError
from qa.ingest.article import Article, ArticleMeta
from qa.ingest.dates import normalise_date

__all__ = [
    "FIELD_NAMES",
    "choose_fields",
    "describe_fields",
    "detect_fields",
    "flatten",
    "parse_fields_option",
    "record_article",
    "text_paragraphs",
    "wanted_columns",
]

FIELD_NAMES: tuple[str, ...] = ("text", "title", "date", "outlet", "author", "url")

# Candidate column names per field, best first (compared case-insensitively).
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "text": ("maintext", "text", "content", "body", "article", "article_body", "articlebody",
             "full_text", "story"),
    "title": ("title", "headline", "name"),
    "date": ("date_publish", "date", "published", "published_at", "publishedat", "pubdate",
             "publication_date", "datetime", "timestamp", "time"),
    "outlet": ("source_domain", "publication", "publisher", "source", "source.name", "outlet",
               "site", "site_name", "domain", "newspaper"),
    "author": ("authors", "author", "byline", "creator"),
    "url": ("url", "link", "href", "canonical_url"),
}
_FALLBACK_TEXT = "description"  # a summary: used only when no body column exists
_MAX_DEPTH = 8
_MAX_LISTED_COLUMNS = 20


# --------------------------------------------------------------------------- --fields


def parse_fields_option(value: str) -> dict[str, str]:
    """Parse ``--fields text=COL,title=COL,...`` into ``{field: column}``.

    Args:
        value: The option's value.

    Returns:
        The mapping, e.g. ``{'text': 'body', 'title': 'headline'}``.

    Raises:
        BadInputError: empty, not ``FIELD=COLUMN`` pairs, an unknown or repeated field.
    """
    hint = (
        "Use FIELD=COLUMN pairs, e.g. --fields text=body,title=headline "
        f"(fields: {', '.join(FIELD_NAMES)})"
    )
    mapping: dict[str, str] = {}
    parts = [part.strip() for part in value.split(",")]
    if not any(parts):
        raise BadInputError("--fields is empty", hint)
    for part in parts:
        key, sep, column = (s.strip() for s in part.partition("="))
        if not sep or not key or not column:
            raise BadInputError(f"--fields: '{part}' is not FIELD=COLUMN", hint)
        key = key.lower()
        if key not in FIELD_NAMES:
            raise BadInputError(f"--fields: unknown field '{key}'", hint)
        if key in mapping:
            raise BadInputError(f"--fields: '{key}' given twice", hint)
        mapping[key] = column
    return mapping


# --------------------------------------------------------------------------- detection


def detect_fields(columns: list[str]) -> dict[str, str]:
    """Map article fields to columns by their common names.

    Args:
        columns: The column names of a file (nested names flattened with dots).

    Returns:
        ``{field: column}`` for each field found; ``text`` is the best-ranked body column,
        or ``description`` when there is no body column. Fields not found are absent.
    """
    found = {field: _candidates(columns, field) for field in FIELD_NAMES}
    return {field: names[0] for field, names in found.items() if names}


def wanted_columns(columns: list[str], override: Mapping[str, str]) -> list[str]:
    """The columns that detection or ``override`` may use; all of them when that would leave no
    text column or miss an overridden one (so errors can list every column).

    Args:
        columns: The file's (flattened) column names.
        override: ``--fields`` as parsed by :func:`parse_fields_option`.

    Returns:
        A subset of ``columns`` in their order.
    """
    lower = {column.lower() for column in columns}
    named = {column.lower() for column in override.values()}
    if not named <= lower or ("text" not in override and not _candidates(columns, "text")):
        return list(columns)
    wanted = {name for field in FIELD_NAMES for name in _candidates(columns, field)}
    return [c for c in columns if c in wanted or c.lower() in named]


def _candidates(columns: list[str], field: str) -> list[str]:
    """The columns that may hold ``field``, best-ranked first."""
    by_lower: dict[str, str] = {}
    for column in columns:
        by_lower.setdefault(column.lower(), column)
    names = [by_lower[name] for name in _CANDIDATES[field] if name in by_lower]
    if field == "text" and not names and _FALLBACK_TEXT in by_lower:
        names = [by_lower[_FALLBACK_TEXT]]
    return names


def choose_fields(
    columns: list[str], samples: Iterable[Mapping[str, Any]], override: Mapping[str, str],
    name: str,
) -> dict[str, str]:
    """The field mapping of one file: ``override`` first, then detection.

    Among several body columns the one with the most text in ``samples`` wins (a dump with
    both a teaser ``text`` and a ``full_text`` takes the latter).

    Args:
        columns: The file's (flattened) column names.
        samples: The first records, flattened.
        override: ``--fields`` as parsed by :func:`parse_fields_option`.
        name: The file's name for messages.

    Returns:
        ``{field: column}``, always with ``text``.

    Raises:
        BadInputError: an override names a column the file lacks, or no text column exists.
    """
    by_lower = {column.lower(): column for column in reversed(columns)}
    mapping = detect_fields(columns)
    bodies = _candidates(columns, "text")
    if len(bodies) > 1:
        rows = list(samples)
        mapping["text"] = max(bodies, key=lambda c: (_text_size(rows, c), -bodies.index(c)))
    for field, column in override.items():
        if column.lower() not in by_lower:
            raise BadInputError(
                f"{name}: no column '{column}' for --fields {field}= (columns: "
                f"{_list_columns(columns)})",
                "Check the column name",
            )
        mapping[field] = by_lower[column.lower()]
    if "text" not in mapping:
        raise BadInputError(
            f"{name}: no article text column found (columns: {_list_columns(columns)})",
            "Name it with --fields text=COLUMN",
        )
    return {field: mapping[field] for field in FIELD_NAMES if field in mapping}


def _text_size(rows: list[Mapping[str, Any]], column: str) -> int:
    """Total characters of ``column`` over ``rows``."""
    total = 0
    for row in rows:
        value = row.get(column)
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, list):
            total += sum(len(v) for v in value if isinstance(v, str))
    return total


def _list_columns(columns: list[str]) -> str:
    """Column names for a message, at most a screenful."""
    if not columns:
        return "none"
    shown = ", ".join(c if len(c) <= 40 else c[:39] + "…" for c in columns[:_MAX_LISTED_COLUMNS])
    extra = len(columns) - _MAX_LISTED_COLUMNS
    return f"{shown}, and {extra} more" if extra > 0 else shown


def describe_fields(name: str, mapping: Mapping[str, str]) -> str:
    """One line naming the columns used: ``'news.csv: text=content, title=headline'``."""
    return f"{name}: " + ", ".join(f"{field}={column}" for field, column in mapping.items())


# --------------------------------------------------------------------------- records


def flatten(record: Mapping[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Nested objects flattened with dots: ``{'a': {'b': 1}}`` -> ``{'a.b': 1}``.

    Lists stay values; nesting deeper than a few levels is dropped.
    """
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if depth < _MAX_DEPTH:
                flat.update(flatten(value, f"{name}.", depth + 1))
        else:
            flat.setdefault(name, value)
    return flat


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def _clean(text: str) -> str:
    """One line: invisible characters dropped, controls and whitespace runs made one space."""
    if not text.isprintable():  # fast path for plain text
        text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    return " ".join(text.split())


def _as_text(value: Any) -> str | None:
    """A metadata value as one clean string: lists joined with ', ', objects by their name."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, list | tuple):
        parts = [_as_text(item) for item in value]
        return ", ".join(p for p in parts if p) or None
    if isinstance(value, Mapping):
        return _as_text(value.get("name"))
    if isinstance(value, float) and value != value:  # NaN from a data frame
        return None
    return _clean(str(value)) or None


def _url_outlet(url: str | None) -> str | None:
    """The URL's host without 'www.', e.g. 'https://www.rt.com/x' -> 'rt.com'."""
    if not url:
        return None
    try:
        host = urlparse(url if "://" in url else f"http://{url}").hostname or ""
    except ValueError:
        return None
    return host.removeprefix("www.") or None


def record_article(
    record: Mapping[str, Any], mapping: Mapping[str, str], number: int
) -> Article | None:
    """The article of one flattened record, or None when its text is empty.

    Args:
        record: The record, flattened with :func:`flatten`.
        mapping: ``{field: column}`` from :func:`choose_fields`.
        number: The record's 1-based position in its file.

    Returns:
        The article; the outlet falls back to the URL's host.
    """
    paragraphs = text_paragraphs(record.get(mapping["text"]))
    if not paragraphs:
        return None
    value = {field: record.get(column) for field, column in mapping.items()}
    url = _as_text(value.get("url"))
    meta = ArticleMeta(
        title=_as_text(value.get("title")),
        outlet=_as_text(value.get("outlet")) or _url_outlet(url),
        date=normalise_date(value.get("date")),
        author=_as_text(value.get("author")),
        url=url,
    )
    return Article(meta=meta, paragraphs=paragraphs, record=number)


# --------------------------------------------------------------------------- body text

_LINE_BREAKS = re.compile(r"[\r\v\f\x85\u2028\u2029]")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_HTML_HINT = re.compile(
    r"<(?:p|br|div|span|a|h[1-6]|li|ul|ol|table|tr|td|strong|em|b|i|img|figure|section|article"
    r"|blockquote|html|body)\b[^<>]{0,500}>|</(?:p|div|span|a|h[1-6]|li|b|i|em|strong)>",
    re.I,
)
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol table tr blockquote section article figure figcaption "
    "header footer aside pre dd dt dl".split()
)
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,500}>")


def text_paragraphs(value: Any) -> list[str]:
    """Body paragraphs of a text value.

    A string splits on blank lines, or on single newlines when it has no blank lines; HTML is
    reduced to its text first (block elements end paragraphs). A list of strings is taken as
    the paragraphs themselves.

    Args:
        value: The record's text value.

    Returns:
        Clean, non-empty paragraphs (possibly none).
    """
    if isinstance(value, list | tuple):
        return [p for item in value if isinstance(item, str) for p in text_paragraphs(item)]
    if value is None or isinstance(value, bool | Mapping):
        return []
    text = value if isinstance(value, str) else str(value)
    if _HTML_HINT.search(text):
        text = html_to_text(text)
    text = _LINE_BREAKS.sub("\n", text.replace("\r\n", "\n"))
    blocks = _BLANK_LINE.split(text) if _BLANK_LINE.search(text) else text.split("\n")
    return [par for par in (_clean(block) for block in blocks) if par]


def html_to_text(markup: str) -> str:
    """Text of an HTML fragment: block elements and ``<br>`` become line breaks.

    Args:
        markup: HTML, a full page or a fragment.

    Returns:
        The text with a blank line after each block element; tags stripped by a regex when
        lxml cannot parse the markup.
    """
    import lxml.etree
    import lxml.html

    parser = lxml.html.HTMLParser(huge_tree=True)  # else text nodes over 10 MB vanish
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div", parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return _TAG.sub(" ", markup)
    for element in list(root.iter("script", "style", "noscript")):
        element.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in _BLOCK_TAGS:
            element.tail = "\n\n" + (element.tail or "")
        elif element.tag == "br":
            element.tail = "\n" + (element.tail or "")
    return str(root.text_content())
