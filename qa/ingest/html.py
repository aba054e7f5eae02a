"""Saved web pages (``.html``/``.htm``) -> :class:`Article` with trafilatura.

One page is one article. trafilatura finds the main content and the page's metadata (JSON-LD,
OpenGraph, ``<meta>`` tags); navigation, comments, related links, cookie banners and share
widgets stay out of the body. Each block of trafilatura's body tree (``<p>``, heading, list item,
table row, quote line) becomes one paragraph, so paragraph numbers follow the page.

Around trafilatura, three measured additions (``bench/html_f1.py``, numbers in
``bench/README-html.md``): a body that the page split into several same-class containers is
joined first; a page where the precision-favouring extraction finds almost nothing is extracted
again favouring recall; label lines trafilatura lets through ("Comments", "Read more: ...",
copyright lines) are dropped. trafilatura and lxml are imported only when a page is read.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qa.errors import BadInputError
from qa.ingest.article import Article, ArticleMeta
from qa.ingest.junk import matches_any
from qa.ingest.readers import ReadOptions, Warn
from qa.ingest.text import looks_binary

__all__ = ["DEFAULT", "Extraction", "decode_html", "parse_html", "read"]


@dataclass(frozen=True)
class Extraction:
    """How a page is extracted (``bench/html_f1.py`` compares these).

    Attributes:
        favor: ``"precision"``, ``"recall"`` or ``"balanced"`` (trafilatura's own default).
        fast: Skip trafilatura's internal fallback extractors (readability port, jusText).
        tables: Keep table rows as paragraphs.
        headings: Keep in-article headings as paragraphs.
        stitch: Join an article body split into same-class containers before extracting.
        retry_below: Below this many body words, extract again favouring recall and keep the
            longer body (0: never).
        furniture: Drop page-furniture label lines left in the body.
    """

    favor: str = "balanced"
    fast: bool = False
    tables: bool = True
    headings: bool = True
    stitch: bool = False
    retry_below: int = 0
    furniture: bool = False


#: The measured best (see bench/README-html.md).
DEFAULT = Extraction(favor="precision", stitch=True, retry_below=50, furniture=True)


# --------------------------------------------------------------------------- bytes -> text

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
# Browsers read these labels as windows-1252 (WHATWG Encoding Standard).
_AS_CP1252 = frozenset({"iso8859-1", "ascii", "latin-1", "cp819"})
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _declared_charset(data: bytes) -> str | None:
    """The codec named by an XML declaration or ``<meta charset>`` near the top, if known."""
    head = data[:4096]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith("utf-16"):  # ASCII-readable bytes that claim UTF-16 are not UTF-16
        return "utf-8"
    return "cp1252" if name in _AS_CP1252 else name


def decode_html(data: bytes) -> str:
    """Decode page bytes: BOM, else declared charset, else UTF-8, else cp1252. Never raises.

    A declared charset that the bytes contradict gives way to UTF-8, then cp1252; when no
    codec takes every byte, the likeliest one (declared, else UTF-8 if most high bytes form
    UTF-8 sequences, else cp1252) decodes with U+FFFD for the bad bytes.

    Args:
        data: Raw file content.

    Returns:
        The page as text.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    declared = _declared_charset(data)
    for codec in (declared, "utf-8", "cp1252"):
        if codec is not None:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue
    if declared not in (None, "utf-8"):
        return data.decode(declared, errors="replace")
    utf8 = data.decode("utf-8", errors="replace")
    if len(_UTF8_SEQUENCE.findall(data)) > utf8.count("\ufffd"):
        return utf8  # mostly UTF-8 with a few bad bytes
    return data.decode("cp1252", errors="replace")


# --------------------------------------------------------------------------- split bodies

_STITCH_MIN_PARAGRAPHS = 3


def _paragraph_containers(tree: Any) -> tuple[dict[Any, int], dict[Any, int]]:
    """Elements with ``<p>`` children, in document order: (words, paragraph count) of each."""
    words: dict[Any, int] = {}
    count: dict[Any, int] = {}
    for par in tree.iter("p"):
        parent = par.getparent()
        if parent is not None:
            words[parent] = words.get(parent, 0) + len(par.text_content().split())
            count[parent] = count.get(parent, 0) + 1
    return words, count


def _stitch(tree: Any) -> None:
    """Join an article body that the page cut into same-class containers around ads.

    The container with the most ``<p>`` words (and at least 3 ``<p>``) is the body; when
    non-sibling, non-nested elements of its tag and class hold 30% more words again, their
    children are moved into the first of them (extractors otherwise keep only one part).
    Siblings are left alone: what lies between them is content and would be reordered.
    """
    words, count = _paragraph_containers(tree)
    if not words:
        return
    top = max(words, key=words.__getitem__)
    if not top.get("class") or count[top] < _STITCH_MIN_PARAGRAPHS:
        return
    group = [el for el in words if el.tag == top.tag and el.get("class") == top.get("class")]
    if len(group) < 2 or sum(words[el] for el in group) < 1.3 * words[top]:
        return
    parents = [el.getparent() for el in group]
    if len(set(parents)) < len(parents):
        return
    if any(a is not b and b in a.iterdescendants() for a in group for b in group):
        return
    for other in group[1:]:
        group[0].extend(list(other))
        other.getparent().remove(other)


# --------------------------------------------------------------------------- JSON-LD body

_JSON_LD = re.compile(r"<script[^>]*application/ld\+json[^>]*>(.*?)</script>", re.S | re.I)
_MARKUP = re.compile(r"</?(?:p|br|div|h[1-6]|li|blockquote)\b[^>]*>", re.I)


def _article_bodies(node: Any) -> Iterator[str]:
    """Every schema.org ``articleBody`` string in a parsed JSON-LD value."""
    if isinstance(node, list):
        for item in node:
            yield from _article_bodies(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "articleBody" and isinstance(value, str):
                yield value
            else:
                yield from _article_bodies(value)


def _json_ld_paragraphs(text: str) -> list[str]:
    """The publisher's own ``articleBody`` (JSON-LD) as paragraphs; [] when there is none."""
    import html
    import json

    bodies: list[str] = []
    for match in _JSON_LD.finditer(text):
        try:
            bodies.extend(_article_bodies(json.loads(match.group(1), strict=False)))
        except ValueError:
            continue
    if not bodies:
        return []
    body = _MARKUP.sub("\n", html.unescape(max(bodies, key=len)))
    return [par for par in map(_clean, re.sub(r"<[^>]+>", "", body).split("\n")) if par]


# --------------------------------------------------------------------------- body tree

_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTAINERS = frozenset({"quote", "div", "body", "section", "article"})


def _clean(text: str) -> str:
    """Collapse whitespace and drop invisible characters."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


def _pieces(el: Any) -> Iterator[str]:
    """The text of ``el`` with ``"\\n"`` for each line break (``<lb/>``), nested lists aside."""
    if el.text:
        yield el.text
    for child in el:
        if child.tag == "lb":
            yield "\n"
        elif isinstance(child.tag, str) and child.tag not in ("list", "table"):
            yield from _pieces(child)
        if child.tail:
            yield child.tail


def _lines(el: Any) -> list[str]:
    """The non-empty lines of ``el`` (split at line breaks), whitespace-normalised."""
    return [line for line in map(_clean, "".join(_pieces(el)).split("\n")) if line]


def _blocks(el: Any, settings: Extraction) -> Iterator[str]:
    """Paragraph texts of trafilatura's body tree, in document order."""
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in ("graphic", "ref"):
            continue
        if tag == "head":
            if settings.headings:
                yield from _lines(child)
        elif tag == "list":
            for item in child.iterchildren("item"):
                yield from _lines(item)
                for nested in item.iterchildren("list"):
                    yield from _blocks(nested, settings)
        elif tag == "table":
            if settings.tables:
                yield from _table_rows(child)
        elif tag in _CONTAINERS and any(isinstance(c.tag, str) and c.tag != "lb" for c in child):
            yield from _blocks(child, settings)
        else:
            yield from _lines(child)


def _table_rows(table: Any) -> Iterator[str]:
    """One paragraph per table row: its cells joined by ' | '."""
    for row in table.iter("row"):
        cells = (" ".join(_lines(cell)) for cell in row.iterchildren("cell"))
        text = " | ".join(cell for cell in cells if cell)
        if text:
            yield text


# --------------------------------------------------------------------------- furniture

_LABEL = re.compile(
    r"^(?:\d* ?comments?|leave a (?:reply|comment)|post a comment|share(?: this)?(?: article"
    r"| story| post| page)?(?: on \w+)?|advertisement|sponsored(?: content)?|you may also like"
    r"|related(?: articles| stories| coverage| content| posts)?|recommended(?: for you)?"
    r"|more on this story|most (?:read|popular)|(?:read|see) (?:more|also|next)|continue reading"
    r"|sign up(?: now| for \w+(?: \w+)?)?|subscribe(?: now)?|follow us(?: on \w+)?"
    r"|skip to (?:main )?content|back to top|click here\b.*)[\s.:!>»›→…|-]*$",
    re.I,
)
_SHARED_RULES = ("read-more", "copyright", "cookie-notice")  # the text reader's, qa.ingest.junk


def _is_furniture(par: str) -> bool:
    """Page-furniture lines: labels, 'Read more: ...' teasers, copyright, cookie notices."""
    return bool(_LABEL.match(par)) or matches_any(par, _SHARED_RULES)


# --------------------------------------------------------------------------- metadata

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_KEY = re.compile(r"[\W_]+")
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|·)\s+")
_DATE_LIKE = re.compile(r"^[\d./-]+$")


def _key(text: str) -> str:
    """Comparison key: lowercase letters and digits only."""
    return _KEY.sub("", text.lower())


def _host(url: str | None) -> str | None:
    """The host of ``url`` without ``www.``, else None."""
    if not url:
        return None
    host = urlparse(url if "://" in url else f"http://{url}").hostname or ""
    return host.removeprefix("www.") or None


def _text_or_none(value: Any) -> str | None:
    """A cleaned non-empty string, else None."""
    text = _clean(str(value)) if value else ""
    return text or None


def _clean_title(title: str | None, names: list[str]) -> str | None:
    """Drop trailing ' | Site' / ' - Site' / ' | 19.01.2020' parts from a page title.

    Args:
        title: The page's title.
        names: The outlet's names (site name, host) that a trailing part may repeat.
    """
    if not title:
        return None
    keys = [k for k in map(_key, names) if len(k) >= 2]
    end = len(title)
    for sep in reversed(list(_TITLE_SEPARATOR.finditer(title))):
        part = title[sep.end() : end].strip()
        last = _key(part)
        is_site = len(last) >= 2 and any(k.startswith(last) or last.startswith(k) for k in keys)
        if not (is_site or _DATE_LIKE.match(part)):
            break
        end = sep.start()
    return title[:end].strip() or title


def _meta(doc: Any) -> ArticleMeta:
    """Article metadata from a trafilatura ``Document``."""
    url = _text_or_none(doc.url)
    if url and not url.lower().startswith(("http://", "https://")):
        url = None
    host = _host(url) or _text_or_none(doc.hostname)
    outlet = _text_or_none(doc.sitename) or host
    date = _ISO_DATE.match(str(doc.date or ""))
    return ArticleMeta(
        title=_clean_title(_text_or_none(doc.title), [n for n in (outlet, host) if n]),
        outlet=outlet,
        date="-".join(date.groups()) if date else None,
        author=_text_or_none(doc.author),
        url=url,
    )


# --------------------------------------------------------------------------- extraction


def _extract(text: str, settings: Extraction) -> Any:
    """trafilatura's ``Document`` for a page, or None when it finds nothing."""
    import trafilatura  # heavy: lxml, htmldate, courlan, jusText
    from trafilatura.utils import load_html

    page: Any = text
    if settings.stitch:
        page = load_html(text)
        if page is None:
            return None
        _stitch(page)
    return trafilatura.bare_extraction(
        page,
        with_metadata=True,
        include_comments=False,
        include_tables=settings.tables,
        include_images=False,
        include_links=False,
        include_formatting=False,
        favor_precision=settings.favor == "precision",
        favor_recall=settings.favor == "recall",
        fast=settings.fast,
        deduplicate=False,
    )


def _paragraphs(doc: Any, settings: Extraction, title: str | None) -> list[str]:
    """Body paragraphs of a trafilatura ``Document``, less a repeated headline and furniture."""
    body = doc.body if doc is not None and doc.body is not None else []
    paragraphs = list(_blocks(body, settings))
    if settings.furniture:
        paragraphs = [par for par in paragraphs if not _is_furniture(par)]
    title_key = _key(title or "")
    if title_key:  # the <h1> (or a kicker line above it) kept at the top of the body
        head = [par for par in paragraphs[:3] if _key(par) == title_key]
        paragraphs = [par for par in paragraphs if par not in head]
    return paragraphs


def _word_count(paragraphs: list[str]) -> int:
    return sum(len(par.split()) for par in paragraphs)


def parse_html(data: bytes | str, settings: Extraction = DEFAULT) -> Article:
    """Extract one page's article: metadata and body paragraphs.

    Args:
        data: The page, as file bytes (decoded with :func:`decode_html`) or text.
        settings: Extraction options; the default is the measured best.

    Returns:
        The :class:`Article`; its ``paragraphs`` is empty when the page has no article body.
    """
    text = decode_html(data) if isinstance(data, bytes) else data
    if not text.strip():
        return Article(ArticleMeta(), [])
    doc = _extract(text, settings)
    if doc is None:
        return Article(ArticleMeta(), [])
    meta = _meta(doc)
    paragraphs = _paragraphs(doc, settings, meta.title)
    if settings.retry_below and _word_count(paragraphs) < settings.retry_below:
        paragraphs = _retry(text, settings, meta.title, paragraphs)
    return Article(meta, paragraphs)


def _retry(text: str, settings: Extraction, title: str | None, found: list[str]) -> list[str]:
    """A longer body for a page where extraction found almost nothing.

    Tries trafilatura favouring recall, then the page's JSON-LD ``articleBody``; keeps the
    longest of the three.
    """
    again = _extract(text, replace(settings, favor="recall", retry_below=0))
    candidates = [found, _paragraphs(again, settings, title), _json_ld_paragraphs(text)]
    if settings.furniture:
        candidates[2] = [par for par in candidates[2] if not _is_furniture(par)]
    return max(candidates, key=_word_count)


def read(path: Path, options: ReadOptions, warn: Warn) -> Iterator[Article]:
    """The reader for ``.html`` and ``.htm`` files: one article per page.

    Args:
        path: The page file.
        options: Reader options (none apply to pages).
        warn: Unused: a page without an article body is yielded with no paragraphs and the
            indexer reports it.

    Raises:
        BadInputError: the file holds binary data, not HTML.
    """
    data = path.read_bytes()
    if looks_binary(data):
        raise BadInputError("binary data, not HTML", hint="Save the page as HTML and index it")
    yield parse_html(data)
