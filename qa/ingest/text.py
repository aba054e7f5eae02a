"""Raw article files -> :class:`Article`: metadata plus cleaned body paragraphs.

Scraped news pages carry page junk (menus, cookie banners, captions, podcast timers,
subscription blurbs) around the story. Everything here is a general rule over lines and
paragraphs, never a per-outlet hack, so the same code works on unknown sources.
Stdlib only: this module is imported by the light CLI paths.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from qa.errors import BadInputError
from qa.ingest.article import Article, ArticleMeta
from qa.ingest.readers import ReadOptions, Warn

__all__ = ["decode_text", "looks_binary", "parse_article", "read"]


# --------------------------------------------------------------------------- bytes -> text

_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_text(data: bytes) -> str:
    """Decode file bytes: UTF-8 (BOM stripped), else cp1252, else latin-1. Never raises.

    Args:
        data: Raw file content.

    Returns:
        The decoded text.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def looks_binary(data: bytes) -> bool:
    """Whether bytes look like a binary file rather than text (the caller skips those).

    Args:
        data: Raw file content (only the first 8 KiB are inspected).

    Returns:
        True for known binary signatures, NUL bytes or many control characters.
    """
    sample = data[:8192]
    if not sample or sample.startswith(_UTF16_BOMS):
        return False
    if sample.startswith(_BINARY_MAGIC) or b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in b"\t\n\r\x0b\x0c\x1b")
    return control / len(sample) > 0.1


# --------------------------------------------------------------------------- normalising

_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")


def _normalise_lines(text: str) -> list[str]:
    """Unify line breaks and spaces; return stripped lines ('' for blank lines)."""
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text)
    return [line.strip() for line in text.split("\n")]


# --------------------------------------------------------------------------- metadata keys

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
_URL_ONLY = re.compile(r"^<?(https?://[^\s<>]+|www\.[^\s<>]+\.[a-z]{2,}[^\s<>]*)>?$", re.I)


def _key_value(line: str) -> tuple[str, str] | None:
    """(field, value) when ``line`` is a ``Key: value`` metadata line with a known key."""
    match = _KEY_LINE.match(line)
    if not match:
        return None
    key = re.sub(r"[ -]", "_", match.group(1).strip().lower())
    value = match.group(2).strip().strip("\"'").strip()
    field = _KEY_FIELDS.get(key)
    if field is None or not value:
        return None
    if field == "outlet" and _URL_ONLY.match(value):
        field = "url"
    return field, value


def _front_matter(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split YAML-ish ``---`` front matter off the top of markdown lines."""
    start = next((i for i, line in enumerate(lines) if line), None)
    if start is None or lines[start] != "---":
        return {}, lines
    end = next((i for i in range(start + 1, len(lines)) if lines[i] in ("---", "...")), None)
    if end is None:
        return {}, lines
    meta: dict[str, str] = {}
    for line in lines[start + 1 : end]:
        kv = _key_value(line)
        if kv:
            meta.setdefault(*kv)
    return meta, lines[end + 1 :]


def _leading_keys(lines: list[str], meta: dict[str, str]) -> list[str]:
    """Move leading ``Key: value`` lines (known keys only) into ``meta``; return the rest."""
    i = 0
    while i < len(lines):
        if lines[i]:
            kv = _key_value(lines[i])
            if kv is None:
                break
            meta.setdefault(*kv)
        i += 1
    return lines[i:]


# --------------------------------------------------------------------------- markdown

_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)|\[([^\]]+)\]\[[^\]]*\]")
_MD_REF_DEF = re.compile(r"^\[[^\]]+\]:\s*\S+.*$")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)(?:\s+#+)?$")
_MD_RULE = re.compile(r"^(?:[-*_]\s*){3,}$")
_MD_EMPHASIS = re.compile(r"(?<![\w*])(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_PREFIX = re.compile(r"^(?:>\s*)+|^[-*+]\s+")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")


def _markdown_inline(line: str) -> str:
    """Strip inline markdown from one line: images, links, emphasis, code ticks, tags."""
    line = _MD_IMAGE.sub("", line)
    line = _MD_LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), line)
    for _ in range(2):
        line = _MD_EMPHASIS.sub(r"\2", line)
    line = line.replace("`", "")
    line = _HTML_TAG.sub("", line)
    return _SPACES.sub(" ", line).strip()


def _markdown_lines(lines: list[str]) -> list[str]:
    """Turn markdown lines into plain lines; headings become their own blocks."""
    out: list[str] = []
    for line in lines:
        if _MD_RULE.match(line) or _MD_REF_DEF.match(line):
            out.append("")
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            out.extend(["", _markdown_inline(heading.group(1)), ""])
            continue
        out.append(_markdown_inline(_MD_PREFIX.sub("", line)))
    return out


# --------------------------------------------------------------------------- paragraphs

_TERMINAL = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
_JOIN_WORDS = frozenset(
    "a an the of and or but to in on at by for from with that as is was are were his her "
    "its their our your this these those who which than into over after before".split()
)


def _is_wrapped(prev: str, nxt: str) -> bool:
    """Whether ``nxt`` continues ``prev`` (a hard-wrapped line) rather than starting anew."""
    if _TERMINAL.search(prev):
        return False
    if nxt[:1].islower():
        return True
    last = prev.rsplit(" ", 1)[-1].lower()
    return prev.endswith((",", "-", "–", "—", "(", "&")) or last in _JOIN_WORDS


def _unwrap(block: list[str]) -> list[str]:
    """Join hard-wrapped lines of one block; other lines stay separate paragraphs."""
    out = [block[0]]
    for line in block[1:]:
        if _is_wrapped(out[-1], line):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _paragraphs(lines: list[str]) -> list[str]:
    """Paragraphs: blank-line separated blocks, or one per line when there are no blanks."""
    content = [line for line in lines if line]
    first = next((i for i, line in enumerate(lines) if line), 0)
    last = max((i for i, line in enumerate(lines) if line), default=0)
    if all(lines[first : last + 1]):
        return content
    paragraphs: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:
        if line:
            block.append(line)
        elif block:
            paragraphs.extend(_unwrap(block))
            block = []
    return paragraphs


# --------------------------------------------------------------------------- dates

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")]
    )
    for name in names
}
_MONTH_RE = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?![\d.]\d)"),
    re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})(?![\d/])"),
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH_RE + r",?\s+(?P<y>\d{4})\b", re.I),
    re.compile(r"\b" + _MONTH_RE + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})\b", re.I),
)
_URL_DATE = re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/|$)")


def _ymd(match: re.Match[str]) -> tuple[int, int, int]:
    """Year, month, day from one of the date pattern matches."""
    groups = match.groupdict()
    if groups.get("mon"):
        return int(groups["y"]), _MONTHS[groups["mon"].lower()], int(groups["d"])
    if groups.get("a"):
        a, b = int(groups["a"]), int(groups["b"])
        day, month = (b, a) if b > 12 else (a, b)  # day-first unless impossible
        return int(groups["y"]), month, day
    return int(groups["y"]), int(groups["m"]), int(groups["d"])


def find_date(text: str) -> tuple[str, re.Match[str]] | None:
    """The first valid date written in ``text`` as (ISO string, match), else None.

    Args:
        text: Any text, e.g. a dateline '24 Dec, 2024 15:04' or 'Jan. 25, 2023'.

    Returns:
        ``('YYYY-MM-DD', match)`` for the earliest date found, or None.
    """
    found: list[tuple[int, str, re.Match[str]]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                iso = dt.date(*_ymd(match)).isoformat()
            except ValueError:
                continue
            found.append((match.start(), iso, match))
            break
    if not found:
        return None
    _, iso, match = min(found, key=lambda item: item[0])
    return iso, match


def _normalise_date(value: str) -> str | None:
    """ISO date from a metadata value (ISO timestamps included), else None."""
    hit = find_date(value)
    return hit[0] if hit else None


# --------------------------------------------------------------------------- junk rules

_STANDALONE = re.compile(
    r"^(?:leave a (?:reply|comment)|post a comment|(?:\d+ )?comments?|add comment"
    r"|share(?: this)?(?: article| story| post| page)?(?: on \w+)?|advertisement|advert"
    r"|sponsored(?: content)?|(?:read|see) (?:more|also|next)|continue reading|related"
    r"(?: articles| stories| news| content| posts| topics)?|more on this story|most read"
    r"|top stories|you may also like|recommended(?: for you)?|subscribe(?: now)?"
    r"|sign up(?: now)?|sign in|log in|follow us(?: on \w+)?|print(?: this)?|e-?mail"
    r"|tweet|facebook|twitter|whatsapp|telegram|linkedin|skip to (?:main )?content"
    r"|back to top|menu|home|loading|click here(?: .*)?|tags?|topics?|copy link)"
    r"[\s.:!>»›→…|-]*$",
    re.I,
)
_READ_MORE = re.compile(r"^(?:read|see|watch|listen)(?: more| also| next)?\s*[:›»>|-]", re.I)
_TIMER = re.compile(r"^(?:\d{1,2}:)?\d{1,2}:\d{2}(?:\s*[/|-]?\s*(?:\d{1,2}:)?\d{1,2}:\d{2})*$")
_MEDIA_LABEL = re.compile(
    r"^(?:podcasts?|videos?|audio|listen|watch|gallery|photos?|live|play|pause)[\s:.]*$", re.I
)
_COOKIE = re.compile(r"\bcookies?\b", re.I)
_COOKIE_VERB = re.compile(r"\b(?:uses?|using|accept|consent|policy|continuing|agree)\b", re.I)
_SUBSCRIPTION = re.compile(
    r"contains only a portion of|subscription options|for subscription|subscribers? only",
    re.I,
)
_COPYRIGHT = re.compile(r"^(?:©|\(c\)\s*\d{4}|copyright\b)|all rights reserved", re.I)
_CAPTION = re.compile(
    r"\b(?:photo|image|picture|photograph|pic|illustration|video|credit)s?(?: credit)?\s*:\s*\S"
    r"|\b(?:file photo|getty images|shutterstock|image caption|image source|photo credit"
    r"|ap photo|afp photo|reuters photo|via reuters|epa-efe)\b",
    re.I,
)
_CREDIT = re.compile(
    r"^\(?(?:additional )?(?:reporting|writing|editing|edited|compiled|translated|research"
    r"|fact-checking|produced|graphics|written) by\b",
    re.I,
)
_BYLINE = re.compile(r"^by:?\s+(?P<name>[^\W\d_][\w.'’ -]*?)(?:\s*[,|–—]\s*.*|\s+-\s+.*)?$", re.I)
_ICON = re.compile(r"icon", re.I)


def _words(text: str) -> list[str]:
    """Whitespace-separated words."""
    return text.split()


def _is_menu(par: str) -> bool:
    """Icon/menu word runs: many '...icon' tokens, or long lowercase-only word lists."""
    words = _words(par)
    icons = sum(1 for w in words if _ICON.search(w))
    if icons >= 3 and icons >= 0.3 * len(words):
        return True
    if len(words) < 8 or any(c.isupper() for c in par) or re.search(r"[-.,;:!?\"“”()]", par):
        return False
    return sum(1 for w in words if w in _JOIN_WORDS) < 0.1 * len(words)


def _is_breadcrumb(par: str) -> bool:
    """Navigation trails like 'Home > News > World' or 'News | Sport | Weather'."""
    parts = [p.strip() for p in re.split(r"\s[>|›»/]\s", par)]
    return len(parts) >= 3 and all(0 < len(_words(p)) <= 3 for p in parts)


def _is_junk(par: str) -> bool:
    """Context-free page-junk test for one paragraph."""
    n = len(_words(par))
    if n > 80 or not any(c.isalnum() for c in par):
        return n <= 80
    if _STANDALONE.match(par) or _TIMER.match(par) or _is_menu(par) or _is_breadcrumb(par):
        return True
    if _SUBSCRIPTION.search(par) or (n <= 60 and _COOKIE.search(par) and _COOKIE_VERB.search(par)):
        return True
    if n <= 40 and (_COPYRIGHT.search(par) or _CREDIT.match(par)):
        return True
    if n <= 25 and _READ_MORE.match(par):
        return True
    return n <= 30 and _is_caption(par, n)


def _is_caption(par: str, n: int) -> bool:
    """Photo credits and captions: 'X. Photo: Y / Agency', '... FILE PHOTO', 'Getty Images'."""
    if not _CAPTION.search(par):
        return False
    return n <= 12 or not _SENTENCE_END.search(par)


def _drop_junk(paragraphs: list[str]) -> list[str]:
    """Remove junk paragraphs, and media labels ('Podcasts') with nothing real after them."""
    junk = [_is_junk(p) for p in paragraphs]
    kept: list[str] = []
    for i, par in enumerate(paragraphs):
        if junk[i]:
            continue
        if _MEDIA_LABEL.match(par):
            rest = junk[i + 1 :]
            if all(rest) or (rest and _TIMER.match(paragraphs[i + 1])):
                continue
        kept.append(par)
    return kept


# --------------------------------------------------------------------------- names, outlets

_NAME_STOP = frozenset("of the and for in on at to a an with from by".split())
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]+)*\.?$")


def _is_name(text: str, low: int = 2, high: int = 4) -> bool:
    """Whether ``text`` looks like a person's name: low..high capitalised words."""
    words = _words(text)
    if not low <= len(words) <= high:
        return False
    for word in words:
        if word.lower() in _NAME_STOP or not _NAME_WORD.match(word):
            return False
        if not word[0].isupper() or (len(word) > 2 and word.isupper()):
            return False
    return True


_OUTLET_PATTERNS = (
    re.compile(
        r"^(?P<name>[A-Z][\w&.'’ -]{1,60}?)(?:['’]s)?(?: (?:website|web site|site|service|app))?"
        r" contains only a portion of"
    ),
    re.compile(
        r"^(?:©|\([cC]\)|[Cc]opyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?,?\s*)?"
        r"(?P<name>[A-Z][\w&'’-]*(?:\.\w+)*(?: [A-Z][\w&'’-]*(?:\.\w+)*){0,4})"
    ),
    re.compile(
        r"\bRead (?:more |the full story |it )?(?:in|on|at) (?P<name>[A-Z][\w.&-]*"
        r"(?: [A-Z][\w.&-]*){0,3})(?:['’]s)? (?:report|article|story|piece|material|interview)"
    ),
)


def _find_outlet(paragraphs: list[str]) -> str | None:
    """Outlet named by a subscription/copyright blurb or a self-reference, else None."""
    for pattern in _OUTLET_PATTERNS:
        for par in paragraphs:
            match = pattern.search(par) if len(_words(par)) <= 80 else None
            if match:
                name = re.sub(r"\s+All$", "", match.group("name")).strip(" .,-")
                if name and name.lower() not in ("all", "the", "all rights"):
                    return name
    return None


def _url_outlet(url: str | None) -> str | None:
    """The URL's host without 'www.', e.g. 'www.rt.com' -> 'rt.com'."""
    if not url:
        return None
    host = urlparse(url if "://" in url else f"http://{url}").hostname or ""
    host = host.removeprefix("www.")
    return host or None


# --------------------------------------------------------------------------- header area

_HEADER_SCAN = 10


def _is_body_like(par: str) -> bool:
    """The first real body paragraph: >= 8 words ending a sentence, or simply long."""
    n = len(_words(par))
    return (n >= 5 and bool(_SENTENCE_END.search(par))) or n >= 40


def _is_headline_like(par: str) -> bool:
    """A first line ending in '?', '!' or '...' that is short enough to be a headline."""
    return len(_words(par)) < 20 and par.rstrip("\"'”’»)]").endswith(("?", "!", "...", "…"))


def _byline(par: str) -> tuple[str | None, str | None] | None:
    """(author, date) when ``par`` is a byline ('By X', 'Name | date'), else None."""
    hit = find_date(par)
    date = hit[0] if hit else None
    match = _BYLINE.match(par)
    if match and len(_words(par)) <= 12 and _is_name(match.group("name"), 1, 4):
        return match.group("name").strip(), date
    if "|" in par and len(_words(par)) <= 15:
        left = par.split("|", 1)[0].strip()
        if _is_name(left):
            return left, date
    return None


def _is_dateline(par: str, max_rest: int) -> bool:
    """A short line that is mostly a date (at most ``max_rest`` other words)."""
    hit = find_date(par)
    if hit is None:
        return False
    rest = par[: hit[1].start()] + " " + par[hit[1].end() :]
    rest_words = [w for w in _words(rest) if any(c.isalpha() for c in w)]
    return len(rest_words) <= max_rest


def _split_header(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """Split at the first body-like paragraph (searched within the first few)."""
    for i, par in enumerate(paragraphs[:_HEADER_SCAN]):
        if i == 0 and len(paragraphs) > 1 and _is_headline_like(par):
            continue
        if _is_body_like(par) and _byline(par) is None:
            return paragraphs[:i], paragraphs[i:]
    return paragraphs[:1], paragraphs[1:]


def _absorb_meta_line(par: str, meta: ArticleMeta, max_rest: int) -> bool:
    """Take a byline or dateline into ``meta``; True when ``par`` was one."""
    byline = _byline(par)
    if byline is not None:
        meta.author = meta.author or byline[0]
        meta.date = meta.date or byline[1]
        return True
    if _is_dateline(par, max_rest=max_rest):
        meta.date = meta.date or _normalise_date(par)
        return True
    return False


def _read_header(header: list[str], meta: ArticleMeta) -> None:
    """Fill title, author and date from the header area's lines."""
    candidates = [par for par in header if not _absorb_meta_line(par, meta, max_rest=6)]
    if meta.title is None and candidates:
        meta.title = _pick_title(candidates)


def _pick_title(candidates: list[str]) -> str:
    """The headline: among the first few lines, the first of >= 4 words not ending in '.'.

    Short section labels ('Social Media') are skipped; failing that, the first line wins.
    """
    for line in candidates[:3]:
        if len(_words(line)) >= 4 and not line.endswith("."):
            return line
    return candidates[0]


_NON_ALNUM = re.compile(r"[\W_]+")


def _key(text: str) -> str:
    """Comparison key: lowercase letters and digits only."""
    return _NON_ALNUM.sub("", text.lower())


def _repeats_title(par: str, title: str | None) -> bool:
    """A caption that merely repeats the title (optionally plus a few words)."""
    if not title or len(_words(par)) - len(_words(title)) > 3:
        return False
    key, title_key = _key(par), _key(title)
    if not title_key or not key.startswith(title_key):
        return False
    return len(_words(par)) - len(_words(title)) <= 3


def _clean_body(body: list[str], meta: ArticleMeta) -> list[str]:
    """Drop title repeats, bylines and datelines from the body; take a trailing sign-off."""
    kept: list[str] = []
    for par in body:
        if _repeats_title(par, meta.title):
            continue
        if len(_words(par)) > 8 or not _absorb_meta_line(par, meta, max_rest=2):
            kept.append(par)
    if kept and _is_name(kept[-1], 2, 3) and (len(kept) == 1 or _SENTENCE_END.search(kept[-2])):
        meta.author = meta.author or kept[-1]
        kept.pop()
    return kept


def _take_urls(paragraphs: list[str], meta: ArticleMeta) -> list[str]:
    """Remove paragraphs that are only a URL; the first one becomes the article's url."""
    kept: list[str] = []
    for par in paragraphs:
        if _URL_ONLY.match(par):
            meta.url = meta.url or par.strip("<>")
        else:
            kept.append(par)
    return kept


# --------------------------------------------------------------------------- entry point


def _meta_from_keys(keys: dict[str, str]) -> ArticleMeta:
    """Metadata from front matter / leading key lines."""
    return ArticleMeta(
        title=keys.get("title"),
        outlet=keys.get("outlet"),
        date=_normalise_date(keys["date"]) if "date" in keys else None,
        author=keys.get("author"),
        url=keys.get("url"),
    )


def parse_article(text: str, suffix: str = ".txt") -> Article:
    """Parse one article's text into metadata and cleaned body paragraphs.

    Args:
        text: The decoded file content.
        suffix: The file's suffix; ``.md``/``.markdown`` enables front matter and markdown
            stripping.

    Returns:
        The parsed :class:`Article` (fields not stated in the text are None).
    """
    lines = _normalise_lines(text)
    keys: dict[str, str] = {}
    if suffix.lower() in (".md", ".markdown"):
        keys, lines = _front_matter(lines)
        lines = _markdown_lines(lines)
    lines = _leading_keys(lines, keys)
    meta = _meta_from_keys(keys)
    raw = _take_urls(_paragraphs(lines), meta)
    outlet = _find_outlet(raw)
    header, body = _split_header(_drop_junk(raw))
    _read_header(header, meta)
    body = _clean_body(body, meta)
    if meta.date is None and meta.url:
        hit = _URL_DATE.search(meta.url)
        meta.date = _normalise_date("-".join(hit.group("y", "m", "d"))) if hit else None
    meta.outlet = meta.outlet or outlet or _url_outlet(meta.url)
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
