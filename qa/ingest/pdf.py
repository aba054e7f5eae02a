"""PDF files -> one :class:`Article`: positioned text, columns, paragraphs, no page furniture.

pypdf's plain ``extract_text`` follows the content stream, which interleaves the columns of a
two-column page when the generator wrote it row by row; its ``layout`` mode keeps columns side
by side on one text line. So this reader takes every text fragment with its position (pypdf's
``visitor_text``), rebuilds the page's lines, finds column gutters and reads column by column.
Running headers and footers (lines repeated at the top or bottom of most pages, digits
ignored) and bare page numbers are dropped; wrapped lines are joined into paragraphs (vertical
gaps, first-line indents, font changes and short sentence-final lines end one), hyphenation at
line ends is undone, and a paragraph cut by a page or column break is joined back together.

pypdf is imported lazily: importing this module costs nothing until a PDF is read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import re
import statistics
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qa.errors import BadInputError
from qa.ingest.article import Article, ArticleMeta
from qa.ingest.readers import ReadOptions, Warn

__all__ = ["parse_pdf_date", "read"]

_DEFAULT_CHAR_WIDTH = 0.5  # in ems, when a font's widths are unknown
_SEGMENT_GAP = 1.2  # ems of blank space that split a text row into separate segments
_EDGE_ZONE = 3  # rows at the top and at the bottom of a page that may be header/footer
_RUNNING_SHARE = 0.4  # a header/footer repeats on at least this share of pages...
_RUNNING_MIN_PAGES = 3  # ...and on at least this many pages


@dataclass
class _Line:
    """One line of text (a row segment) with its position in PDF user space (y grows up)."""

    text: str
    x: float
    y: float
    size: float
    x_end: float
    column: int = 0
    block: int = 0


@dataclass
class _Para:
    """A paragraph being built: its lines' texts, page, and the last line's geometry."""

    lines: list[str]
    page: int
    size: float
    last: _Line
    col_right: float = 0.0


# --------------------------------------------------------------------------- entry point


def read(path: Path, options: ReadOptions, warn: Warn) -> Iterator[Article]:
    """The reader for ``.pdf`` files: one article per file, paragraphs with their pages.

    Args:
        path: The PDF file.
        options: Reader options (unused: a PDF has no fields to map).
        warn: Receives one line per recoverable problem (a damaged page, no text layer).

    Yields:
        One :class:`Article`; ``pages`` holds the 1-based page where each paragraph starts.

    Raises:
        BadInputError: the file is not a readable PDF, or is encrypted with a password.
    """
    with _quiet_pypdf() as noise:
        reader = _open(path)
        meta = _document_meta(reader)
        _report_noise(noise, f"{path}", warn)
        pages = _read_pages(reader, path, warn, noise)
    if not any(pages):
        warn(f"{path}: has no text layer (scanned images?); nothing to index")
        yield Article(meta=meta, paragraphs=[], pages=[])
        return
    paras, pairs = _paragraphs(_drop_running_lines(pages))
    paras = _take_title(paras, meta)
    yield Article(
        meta=meta,
        paragraphs=[_para_text(p.lines, pairs) for p in paras],
        pages=[p.page for p in paras],
    )


class _Noise:
    """pypdf's log records and Python warnings caught while reading, drained by :meth:`take`."""

    def __init__(self) -> None:
        self.logs: list[str] = []
        self.warnings: list[warnings.WarningMessage] = []

    def take(self) -> list[str]:
        """The messages caught since the last call."""
        out = self.logs + [str(w.message) for w in self.warnings]
        self.logs.clear()
        self.warnings.clear()
        return out


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[_Noise]:
    """Keep pypdf's log records and warnings off stderr (and out of pytest's errors)."""
    noise = _Noise()

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            noise.logs.append(record.getMessage())

    logger = logging.getLogger("pypdf")
    handler, propagate = _Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            noise.warnings = records
            yield noise
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


_USEFUL_NOISE = re.compile(r"damaged|corrupt|truncat|could not|cannot|unable|invalid|missing", re.I)


def _report_noise(noise: _Noise, where: str, warn: Warn) -> None:
    """One warning line for pypdf's messages that say the file is damaged, if any."""
    useful = [m.strip().splitlines()[0] for m in noise.take() if _USEFUL_NOISE.search(m)]
    if useful:
        more = f" ({len(useful) - 1} more like it)" if len(useful) > 1 else ""
        warn(f"{where}: PDF is partly damaged: {useful[0]}{more}; text may be incomplete")


def _open(path: Path) -> Any:
    """A decrypted ``PdfReader`` for ``path``.

    Raises:
        BadInputError: empty, not a PDF, damaged beyond reading, or needs a password.
    """
    from pypdf import PdfReader  # lazy: keeps `qa --help` light
    from pypdf.errors import DependencyError

    try:
        if path.stat().st_size == 0:
            raise BadInputError("empty file, not a PDF")
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadInputError(
                "encrypted PDF; cannot read it without the password",
                "Save an unencrypted copy (print to PDF) and index that",
            )
        len(reader.pages)
    except BadInputError:
        raise
    except DependencyError as exc:
        raise BadInputError(f"encrypted PDF that needs an extra package: {_one_line(exc)}") from exc
    except Exception as exc:  # pypdf raises many types on hostile input
        raise BadInputError(f"damaged or not a PDF: {_one_line(exc)}") from exc
    return reader


def _one_line(exc: BaseException) -> str:
    """An exception as one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


# --------------------------------------------------------------------------- metadata

_JUNK_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint|excel)\b|untitled\b|document\d*$|slide \d+$|title$|"
    r"(?:[a-z]:)?[\\/])|\.(?:docx?|pdf|tex|dvi|indd|qxd|rtf|odt|pptx?|xlsx?|ps|eps|txt)\s*$",
    re.I,
)
_PDF_DATE = re.compile(r"^\s*(?:D:)?(\d{4})(\d{2})(\d{2})")


def parse_pdf_date(value: str | None) -> str | None:
    """A PDF date string ``D:YYYYMMDDHHmmSS+hh'mm'`` as ``YYYY-MM-DD``, else None.

    Args:
        value: The raw ``/CreationDate`` value.

    Returns:
        The ISO date, or None when the value is missing, partial or not a real date.
    """
    match = _PDF_DATE.match(value or "")
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return date.isoformat() if year >= 1900 else None


def _info_text(info: Any, key: str) -> str | None:
    """A document-info entry as clean one-line text, else None."""
    try:
        value = info.get(key) if info is not None else None
        value = value.get_object() if hasattr(value, "get_object") else value
    except Exception:  # damaged info dictionary
        return None
    if value is None:
        return None
    text = " ".join(_clean(str(value)).split())
    return text or None


def _document_meta(reader: Any) -> ArticleMeta:
    """Title, author and date from the document information dictionary."""
    try:
        info = reader.metadata
    except Exception:  # damaged trailer: no metadata, text may still be fine
        info = None
    title = _info_text(info, "/Title")
    if title and (_JUNK_TITLE.search(title) or not any(c.isalpha() for c in title)):
        title = None
    return ArticleMeta(
        title=title,
        author=_info_text(info, "/Author"),
        date=parse_pdf_date(_info_text(info, "/CreationDate")),
    )


def _take_title(paras: list[_Para], meta: ArticleMeta) -> list[_Para]:
    """Fill a missing title from page 1's heading; drop the heading from the body."""
    first = paras[0] if paras and paras[0].page == 1 else None
    if first is None:
        return paras
    text = _para_text(first.lines)
    if meta.title is not None:
        return paras[1:] if _key(text) == _key(meta.title) else paras
    if _looks_like_heading(first, paras[1:]):
        meta.title = text
        return paras[1:]
    return paras


def _looks_like_heading(first: _Para, rest: list[_Para]) -> bool:
    """Short, no sentence end, and larger than the body text (or simply short)."""
    text = _para_text(first.lines)
    words = len(text.split())
    if not 1 <= words <= 25 or text.endswith(".") or not any(c.isalpha() for c in text):
        return False
    sizes = [p.size for p in rest[:20]]
    body = statistics.median(sizes) if sizes else first.size
    return first.size >= body * 1.15 or words <= 15


# --------------------------------------------------------------------------- page text


def _read_pages(
    reader: Any, path: Path, warn: Warn, noise: _Noise
) -> list[list[_Line]]:
    """Each page's lines in reading order; a page that fails is warned about and left empty."""
    pages: list[list[_Line]] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            pages.append(_page_lines(page))
        except Exception as exc:  # one bad page must not lose the rest
            warn(f"{path}: page {number} is damaged and was skipped ({_one_line(exc)})")
            pages.append([])
        _report_noise(noise, f"{path}: page {number}", warn)
    return pages


def _fragments(page: Any) -> list[_Line]:
    """Every upright text fragment of ``page`` with its position, size and estimated width."""
    frags: list[_Line] = []
    fonts: dict[int, Any] = {}

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if not text or not text.strip():
            return
        m = _multiply(tm, cm)
        em = abs(float(size or 0)) * math.hypot(m[2], m[3]) or 1.0
        stretch = math.hypot(m[0], m[1]) / (math.hypot(m[2], m[3]) or 1.0)
        for i, part in enumerate(_clean(text).split("\n")):
            if part.strip():
                width = _text_width(part, font, fonts) * em * stretch
                y = m[5] - i * em * 1.2
                frags.append(_Line(part, m[4], y, round(em, 1), m[4] + width))

    page.extract_text(orientations=(0,), visitor_text=visit)
    return frags


def _multiply(tm: Any, cm: Any) -> tuple[float, ...]:
    """The text matrix ``tm`` times the transformation ``cm`` (PDF row-vector convention)."""
    a, b, c, d, e, f = (float(v) for v in tm)
    g, h, i, j, k, l_ = (float(v) for v in cm)
    return (a * g + b * i, a * h + b * j, c * g + d * i, c * h + d * j, e * g + f * i + k,
            e * h + f * j + l_)


def _text_width(text: str, font: Any, cache: dict[int, Any]) -> float:
    """Width of ``text`` in ems from the font's glyph widths (an estimate when unknown)."""
    key = id(font)
    if key not in cache:
        cache[key] = _font_metrics(font)
    metrics = cache[key]
    if metrics is None:
        return len(text) * _DEFAULT_CHAR_WIDTH
    try:
        return float(metrics.get_text_width(text)) / 1000.0
    except Exception:  # odd width tables
        return len(text) * _DEFAULT_CHAR_WIDTH


def _font_metrics(font: Any) -> Any:
    """pypdf's Font for a font resource (has ``get_text_width``), or None."""
    if font is None:
        return None
    try:
        from pypdf.generic._font import Font  # private; guarded, falls back to an estimate

        metrics = Font.from_font_resource(font)
        return metrics if metrics.get_text_width("n") > 0 else None
    except Exception:  # any version or font problem: estimate instead
        return None


def _page_lines(page: Any) -> list[_Line]:
    """The page's text lines (row segments), in reading order, column by column."""
    segments = _segments(_fragments(page))
    if not segments:
        return []
    edges = _column_edges(segments)
    if len(edges) == 2:
        segments = _unmerge_rows(segments, edges[1])
    return _reading_order(segments, edges)


def _unmerge_rows(segments: list[_Line], edge: float) -> list[_Line]:
    """Split rows that pypdf reported as one fragment across the gutter of two columns.

    pypdf only adds a space when the pen jumps right on the same baseline, so a left-column
    line and the right-column line beside it can arrive as one fragment. A segment crossing the
    gutter with column text just above and below it is such a pair; it is cut at the space
    where one of the two halves fills its column exactly (one of them almost always does).
    """
    left = [s for s in segments if s.x_end < edge]
    right = [s for s in segments if s.x >= edge - 3]
    if not left or not right:
        return segments
    ends = (max(s.x_end for s in left), max(s.x_end for s in right))
    out: list[_Line] = []
    for seg in segments:
        if seg.x < edge - 3 < seg.x_end and _between_columns(seg, left, right):
            out.extend(_cut(seg, edge, ends))
        else:
            out.append(seg)
    return out


def _between_columns(seg: _Line, left: list[_Line], right: list[_Line]) -> bool:
    """Whether both columns have lines just above and just below ``seg``."""
    near = 2.5 * seg.size
    return all(
        any(0 < s.y - seg.y < near for s in side) and any(0 < seg.y - s.y < near for s in side)
        for side in (left, right)
    )


def _cut(seg: _Line, edge: float, ends: tuple[float, float]) -> list[_Line]:
    """``seg`` split into a left-column and a right-column line (see :func:`_unmerge_rows`)."""
    scale = (seg.x_end - seg.x) / max(len(seg.text), 1)
    best: tuple[float, int] | None = None
    for i, char in enumerate(seg.text):
        if char != " ":
            continue
        left_end = seg.x + i * scale
        right_end = edge + (len(seg.text) - i - 1) * scale
        miss = min(abs(left_end - ends[0]), abs(right_end - ends[1]))
        best = min(best or (miss, i), (miss, i))
    if best is None:
        return [seg]
    i = best[1]
    return [
        replace(seg, text=seg.text[:i].strip(), x_end=seg.x + i * scale),
        replace(seg, text=seg.text[i:].strip(), x=edge, x_end=ends[1]),
    ]


def _segments(frags: list[_Line]) -> list[_Line]:
    """Fragments grouped into rows (same baseline), then split at wide horizontal gaps."""
    frags = sorted(frags, key=lambda f: (-f.y, f.x))
    rows: list[list[_Line]] = []
    for frag in frags:
        if rows and abs(rows[-1][0].y - frag.y) <= 0.4 * min(rows[-1][0].size, frag.size):
            rows[-1].append(frag)
        else:
            rows.append([frag])
    segments: list[_Line] = []
    for row in rows:
        segments.extend(_split_row(sorted(row, key=lambda f: f.x)))
    return segments


def _split_row(row: list[_Line]) -> list[_Line]:
    """Merge a row's fragments left to right; a wide gap starts a new segment."""
    out = [replace(row[0], text=row[0].text.strip())]
    for frag in row[1:]:
        cur = out[-1]
        gap = frag.x - cur.x_end
        if gap > _SEGMENT_GAP * max(cur.size, frag.size):
            out.append(replace(frag, text=frag.text.strip()))
            continue
        glue = "" if gap < 0.15 * frag.size and not frag.text[:1].isspace() else " "
        cur.text = (cur.text + glue + frag.text.strip()).strip()
        cur.x_end = max(cur.x_end, frag.x_end)
        cur.size = max(cur.size, frag.size)
    return [seg for seg in out if seg.text]


def _column_edges(segments: list[_Line]) -> list[float]:
    """Left edges of the page's text columns (one edge for a single-column page).

    A column edge is an x where many segments start and almost none cross: the segments
    left of it end before it. Paragraph indents fail the test because full lines cross them.
    """
    left = min(s.x for s in segments)
    right = max(s.x_end for s in segments)
    need = max(3, 0.2 * len({round(s.y) for s in segments}))
    starts = Counter(round(s.x / 3) * 3 for s in segments if s.x > left + 0.2 * (right - left))
    edges = [left]
    for x, count in sorted(starts.items()):
        if count < need or x - edges[-1] < 0.2 * (right - left):
            continue
        crossing = sum(1 for s in segments if s.x < x - 3 and s.x_end > x + 3)
        if crossing <= 0.15 * len(segments):
            edges.append(float(x) - 3)
    return edges


def _reading_order(segments: list[_Line], edges: list[float]) -> list[_Line]:
    """Top to bottom; between full-width lines, each column's lines before the next column's."""
    out: list[_Line] = []
    pending: list[list[_Line]] = [[] for _ in edges]
    block = 0

    def flush() -> None:
        nonlocal block
        for column in pending:
            out.extend(column)
            column.clear()
        block += 1

    for seg in segments:  # already sorted top to bottom, left to right
        column = max(i for i, edge in enumerate(edges) if i == 0 or seg.x >= edge)
        spans = column + 1 < len(edges) and seg.x_end > edges[column + 1] + 3
        if spans and len(edges) > 1:
            flush()
            seg.column, seg.block = -1, block
            out.append(seg)
            continue
        seg.column, seg.block = column, block
        pending[column].append(seg)
    flush()
    return out


# --------------------------------------------------------------------------- furniture

_PAGE_NUMBER = re.compile(
    r"^[\s\W]*(?:(?:page|p\.|pg\.?)\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})"
    r"(?:\s*(?:of|/|\|)\s*\d{1,4})?[\s\W]*$",
    re.I,
)


def _is_page_number(text: str) -> bool:
    """A bare page number: '12', '- 4 -', 'Page 3 of 10', 'iv', '3/10'."""
    return bool(_PAGE_NUMBER.match(text))


def _running_key(text: str) -> str:
    """Comparison key for running lines: digits as '#', spacing and case ignored."""
    return " ".join(re.sub(r"\d+", "#", text.lower()).split())


def _edge_lines(lines: list[_Line]) -> list[_Line]:
    """The lines in the top and bottom few rows of a page."""
    ys = sorted({round(line.y, 1) for line in lines}, reverse=True)
    edge_ys = set(ys[:_EDGE_ZONE]) | set(ys[-_EDGE_ZONE:])
    return [line for line in lines if round(line.y, 1) in edge_ys]


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Remove running headers/footers and bare page numbers from the pages' edges."""
    seen: Counter[str] = Counter()
    for lines in pages:
        seen.update({_running_key(line.text) for line in _edge_lines(lines)})
    texted = sum(1 for lines in pages if lines)
    need = max(_RUNNING_MIN_PAGES, _RUNNING_SHARE * texted)
    running = {key for key, count in seen.items() if count >= need}
    cleaned: list[list[_Line]] = []
    for lines in pages:
        edge = {id(line) for line in _edge_lines(lines)}
        cleaned.append([
            line for line in lines
            if id(line) not in edge
            or not (_running_key(line.text) in running or _is_page_number(line.text))
        ])
    return cleaned


# --------------------------------------------------------------------------- paragraphs

_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st",
                            "ﬆ": "st", "\u00a0": " ", "\u00ad": "\u00ad", "\x00": ""})


def _clean(text: str) -> str:
    """Ligatures spelled out, no-break spaces as spaces, NULs and control characters gone."""
    text = text.translate(_LIGATURES)
    return "".join(c for c in text if c in "\n\t\u00ad" or c.isprintable())


def _paragraphs(pages: list[list[_Line]]) -> tuple[list[_Para], set[str]]:
    """Lines of all pages -> paragraphs (bare page numbers dropped), and the hyphenated pairs.

    The pairs ('well-known') are the compounds written with a hyphen inside a line somewhere
    in the document: a line break at such a hyphen keeps it.
    """
    spacing = _line_spacing(pages)
    paras: list[_Para] = []
    for number, lines in enumerate(pages, start=1):
        prev: _Line | None = None
        for line in lines:
            cur = paras[-1] if paras else None
            if cur is not None and _continues(cur, prev, line, spacing):
                cur.lines.append(line.text)
                cur.last = line
            else:
                paras.append(_Para([line.text], number, line.size, line, _right_edge(lines, line)))
            prev = line
    pairs = {
        pair
        for lines in pages for line in lines
        for match in _COMPOUND.finditer(line.text.lower())
        for pair in _adjacent_pairs(match.group())
    }
    return [p for p in paras if not _is_page_number(_para_text(p.lines, pairs))], pairs


_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")


def _adjacent_pairs(compound: str) -> list[str]:
    """'state-of-the-art' -> ['state-of', 'of-the', 'the-art']."""
    parts = compound.split("-")
    return [f"{a}-{b}" for a, b in zip(parts, parts[1:], strict=False)]


def _line_spacing(pages: list[list[_Line]]) -> dict[float, float]:
    """The document's usual baseline distance between lines of a paragraph, per font size."""
    gaps: dict[float, Counter[float]] = {}
    for lines in pages:
        for a, b in zip(lines, lines[1:], strict=False):
            same = a.column == b.column and a.block == b.block and a.size == b.size
            if same and 0 < a.y - b.y < 3 * a.size:
                gaps.setdefault(a.size, Counter())[round(a.y - b.y, 1)] += 1
    return {size: _usual_gap(count) for size, count in gaps.items()}


def _usual_gap(gaps: Counter[float]) -> float:
    """The smallest gap that is common (>= 20% as frequent as the commonest one).

    The commonest gap alone fails on short texts, where paragraph gaps can outnumber line gaps.
    """
    top = gaps.most_common(1)[0][1]
    return min(gap for gap, count in gaps.items() if count >= 0.2 * top)


def _right_edge(lines: list[_Line], line: _Line) -> float:
    """The right edge of ``line``'s column: the furthest line end in it."""
    return max((x.x_end for x in lines if x.column == line.column and x.block == line.block),
               default=line.x_end)


def _continues(
    para: _Para, prev: _Line | None, line: _Line, spacing: dict[float, float]
) -> bool:
    """Whether ``line`` continues ``para`` (whose last line is ``para.last``)."""
    last = para.last
    if abs(last.size - line.size) > 0.15 * max(last.size, line.size):
        return False
    ended = bool(_SENTENCE_END.search(last.text))
    if prev is None or line.block != prev.block or line.column != prev.column or line.y > prev.y:
        return not ended  # page or column break: only an unfinished sentence carries on
    gap = prev.y - line.y
    if gap > 1.45 * spacing.get(line.size, 1.2 * line.size):
        return False
    indented = line.x > last.x + 0.8 * line.size  # a first-line indent (or a centred line)
    if indented and (len(para.lines) > 1 or ended):  # not a hanging indent
        return False
    col_width = para.col_right - last.x
    short = col_width > 0 and last.x_end < para.col_right - 0.15 * col_width
    return not (ended and short)


def _para_text(lines: list[str], pairs: set[str] | None = None) -> str:
    """Join a paragraph's lines, undoing hyphenation at line ends.

    'recog-' + 'nition' -> 'recognition' (a hyphen before a lowercase letter is a soft one),
    unless the pair is written with a hyphen elsewhere in ``pairs`` ('well-' + 'known') or
    continues a compound ('state-of-the-' + 'art'); 'Anglo-' + 'French' and '1990-' + '1995'
    keep the hyphen. Other lines are joined with a space.
    """
    text = lines[0]
    for line in lines[1:]:
        text = _join_lines(text, line, pairs or set())
    return " ".join(text.replace("\u00ad", "").split())


def _join_lines(text: str, line: str, pairs: set[str]) -> str:
    """``text`` followed by the next line ``line``."""
    if text.endswith("\u00ad"):
        return text[:-1] + line
    last = text.rsplit(None, 1)[-1] if text.strip() else ""
    if len(last) < 2 or not last.endswith("-") or not last[-2].isalnum():
        return f"{text} {line}"
    stem = last[:-1]
    first = line.split(None, 1)[0] if line.strip() else ""
    next_word = re.match(r"[^\W\d_]+", first)
    if next_word is None or not first[:1].islower() or not stem[-1].isalpha() or "-" in stem:
        return text + line
    stem_word = re.split(r"[\W_]", stem)[-1].lower()
    if f"{stem_word}-{next_word.group().lower()}" in pairs:
        return text + line
    return text[:-1] + line


def _key(text: str) -> str:
    """Comparison key: lowercase letters and digits only."""
    return re.sub(r"[\W_]+", "", text.lower())
