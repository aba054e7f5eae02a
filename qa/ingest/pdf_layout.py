"""PDF page layout: text fragments -> lines in reading order; running headers/footers dropped.

Works on positioned fragments (:class:`Line`, PDF user space, y grows up) from any extractor:
rows are rebuilt from baselines and split at gaps wider than three quarters of an em; column
gutters are vertical strips almost no segment crosses with running text on both sides (a
table's narrow columns fail that, so a table row stays one line); a page without such gutters
is cut into bands at wide vertical gaps and each band laid out on its own (a full-width
introduction above a two-column box). Each column is read top to bottom before the next.
Running headers and footers (lines repeated at the top or bottom of most pages, digits
ignored), folios (a section name beside the printed page number) and bare page numbers are
dropped. Stdlib only.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, replace

__all__ = ["Line", "drop_running_lines", "is_page_number", "page_lines"]

_SEGMENT_GAP = 0.75  # ems of blank space that split a text row into separate segments
_EDGE_ZONE = 3  # rows at the top and at the bottom of a page that may be header/footer
_RUNNING_SHARE = 0.4  # a header/footer repeats on at least this share of pages...
_RUNNING_MIN_PAGES = 3  # ...and on at least this many pages
_FOLIO_WORDS = 6  # an edge line this short may carry the page number beside a section name


@dataclass
class Line:
    """One line of text (a row segment) with its position in PDF user space (y grows up).

    ``bold`` is the share of its letters set in a bold font; ``column`` and ``block`` say which
    column and which band between full-width lines it was read from; ``cells`` how many
    segments of a row (table cells) it joins; ``turned`` marks text set at an angle or vertically.
    """

    text: str
    x: float
    y: float
    size: float
    x_end: float
    bold: float = 0.0
    column: int = 0
    block: int = 0
    cells: int = 1
    turned: bool = False


def page_lines(frags: list[Line]) -> list[Line]:
    """A page's text fragments -> its lines, in reading order, column by column.

    Segments of one row within one column (the cells of a table row) become one line.
    """
    segments = _segments(frags)
    if not segments:
        return []
    return _rows_as_lines(_layout(segments, [0]))


def _layout(segments: list[Line], block: list[int]) -> list[Line]:
    """Reading order of ``segments`` (sorted top to bottom): columns if the whole set has them,
    else each horizontal band between wide vertical gaps on its own (a full-width introduction
    above a two-column box). ``block`` numbers the bands and column blocks in order."""
    gutters = _gutters(segments)
    if gutters:
        return _reading_order(segments, gutters, block)
    bands = _bands(segments)
    if len(bands) == 1:
        for seg in segments:
            seg.column, seg.block = 0, block[0]
        block[0] += 1
        return segments
    return [seg for band in bands for seg in _layout(band, block)]


def _bands(segments: list[Line]) -> list[list[Line]]:
    """``segments`` cut where no text at all lies across a vertical gap of two lines or more."""
    ys = sorted({round(s.y, 1) for s in segments}, reverse=True)
    steps = [a - b for a, b in zip(ys, ys[1:], strict=False)]
    if not steps:
        return [segments]
    usual = statistics.median(steps)
    size = statistics.median(s.size for s in segments)
    cuts = {b for a, b, step in zip(ys, ys[1:], steps, strict=False)
            if step > max(1.8 * usual, 1.5 * size)}
    bands: list[list[Line]] = [[]]
    for seg in segments:
        if round(seg.y, 1) in cuts and bands[-1] and round(bands[-1][-1].y, 1) != round(seg.y, 1):
            bands.append([])
        bands[-1].append(seg)
    return bands


def _segments(frags: list[Line]) -> list[Line]:
    """Fragments grouped into rows (same baseline), then split at wide horizontal gaps."""
    frags = sorted(frags, key=lambda f: (-f.y, f.x))
    rows: list[list[Line]] = []
    for frag in frags:
        if rows and abs(rows[-1][0].y - frag.y) <= 0.4 * min(rows[-1][0].size, frag.size):
            rows[-1].append(frag)
        else:
            rows.append([frag])
    segments: list[Line] = []
    for row in rows:
        segments.extend(_split_row(sorted(row, key=lambda f: f.x)))
    return segments


def _split_row(row: list[Line]) -> list[Line]:
    """Merge a row's fragments left to right; a wide gap starts a new segment."""
    out = [replace(row[0], text=row[0].text.strip())]
    for frag in row[1:]:
        cur = out[-1]
        gap = frag.x - cur.x_end
        if gap > _SEGMENT_GAP * max(cur.size, frag.size):
            out.append(replace(frag, text=frag.text.strip()))
            continue
        glue = "" if gap < 0.15 * frag.size and not frag.text[:1].isspace() else " "
        letters = len(cur.text) + len(frag.text)
        cur.bold = (cur.bold * len(cur.text) + frag.bold * len(frag.text)) / max(letters, 1)
        cur.text = (cur.text + glue + frag.text.strip()).strip()
        cur.x_end = max(cur.x_end, frag.x_end)
        cur.size = max(cur.size, frag.size)
    return [seg for seg in out if seg.text]


def _gutters(segments: list[Line]) -> list[tuple[float, float]]:
    """The x ranges between the page's text columns (none for a single-column page).

    A gutter is a vertical strip that (almost) no segment crosses, at least half an em wide,
    with a column of running text on each side: five lines or more, many of them three words
    or more and eight ems wide. The columns of a table fail that test, so a table row stays one line.
    """
    size = statistics.median(s.size for s in segments)
    allowed = max(1, int(0.08 * len(segments)))  # full-width lines (titles) may cross
    events = sorted([(s.x, 1) for s in segments] + [(s.x_end, -1) for s in segments])
    strips: list[tuple[float, float]] = []
    active, start = 0, None
    for x, step in events:
        active += step
        if active <= allowed and start is None and step < 0:
            start = x
        elif active > allowed and start is not None:
            if x - start >= 0.5 * size:
                strips.append((start, x))
            start = None
    while True:
        bounds = [-math.inf, *[g for strip in strips for g in strip], math.inf]
        regions = list(zip(bounds[::2], bounds[1::2], strict=True))
        texty = [_is_text_column(segments, lo, hi, size) for lo, hi in regions]
        bad = [i for i in range(len(strips)) if not (texty[i] and texty[i + 1])]
        if not bad:
            return strips
        worst = min(bad, key=lambda i: strips[i][1] - strips[i][0])
        strips.pop(worst)


def _is_text_column(segments: list[Line], lo: float, hi: float, size: float) -> bool:
    """Whether the segments starting in [lo, hi) read as a column of running text."""
    inside = [s for s in segments if lo <= s.x < hi]
    if len(inside) < 5:
        return False
    wordy = sum(1 for s in inside if s.x_end - s.x >= 8 * size and len(s.text.split()) >= 3)
    return wordy >= 0.4 * len(inside)


def _reading_order(
    segments: list[Line], gutters: list[tuple[float, float]], block: list[int]
) -> list[Line]:
    """Top to bottom; between full-width lines, each column's lines before the next column's."""
    out: list[Line] = []
    pending: list[list[Line]] = [[] for _ in range(len(gutters) + 1)]

    def flush() -> None:
        for column in pending:
            out.extend(column)
            column.clear()
        block[0] += 1

    for seg in segments:  # already sorted top to bottom, left to right
        column = sum(1 for start, _ in gutters if seg.x >= start)
        spans = column < len(gutters) and seg.x_end > gutters[column][1] + 1
        if spans:
            flush()
            seg.column, seg.block = -1, block[0]
            out.append(seg)
            continue
        seg.column, seg.block = column, block[0]
        pending[column].append(seg)
    flush()
    return out


def _rows_as_lines(lines: list[Line]) -> list[Line]:
    """Join the segments of one row in one column (table cells) into one line, cells spaced."""
    out: list[Line] = []
    for line in lines:
        prev = out[-1] if out else None
        same_row = (
            prev is not None and prev.column == line.column and prev.block == line.block
            and abs(prev.y - line.y) <= 0.4 * min(prev.size, line.size) and line.x > prev.x
        )
        if not same_row:
            out.append(line)
            continue
        letters = len(prev.text) + len(line.text)
        prev.bold = (prev.bold * len(prev.text) + line.bold * len(line.text)) / letters
        prev.text = f"{prev.text} {line.text}"
        prev.x_end = max(prev.x_end, line.x_end)
        prev.size = max(prev.size, line.size)
        prev.cells += 1
    return out


# --------------------------------------------------------------------------- furniture

_PAGE_NUMBER = re.compile(
    r"^[\s\W]*(?:(?:page|p\.|pg\.?)\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})"
    r"(?:\s*(?:of|/|\|)\s*\d{1,4})?[\s\W]*$",
    re.I,
)


def is_page_number(text: str) -> bool:
    """A bare page number: '12', '- 4 -', 'Page 3 of 10', 'iv', '3/10'."""
    return bool(_PAGE_NUMBER.match(text))


def _running_key(text: str) -> str:
    """Comparison key for running lines: digits as '#', spacing and case ignored."""
    return " ".join(re.sub(r"\d+", "#", text.lower()).split())


def _edge_lines(lines: list[Line]) -> list[Line]:
    """The lines in the top and bottom few rows of a page, and its turned (margin) lines."""
    upright = [line for line in lines if not line.turned]
    ys = sorted({round(line.y, 1) for line in upright}, reverse=True)
    edge_ys = set(ys[:_EDGE_ZONE]) | set(ys[-_EDGE_ZONE:])
    return [line for line in lines if line.turned or round(line.y, 1) in edge_ys]


def drop_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Remove running headers/footers and bare page numbers from the pages' edges.

    A running line repeats (digits aside) on many pages; a folio ("Treatment 35", "Key
    questions 9") is a short edge line whose number is the page's printed number: that
    number minus the page's place in the file is the same on many pages.
    """
    seen: Counter[str] = Counter()
    offsets: Counter[int] = Counter()
    for number, lines in enumerate(pages, start=1):
        edge = _edge_lines(lines)
        seen.update({_running_key(line.text) for line in edge})
        offsets.update({n - number for line in edge for n in _folio_numbers(line.text)})
    texted = sum(1 for lines in pages if lines)
    need = max(_RUNNING_MIN_PAGES, _RUNNING_SHARE * texted)
    running = {key for key, count in seen.items() if count >= need}
    folio = {k for k, count in offsets.items() if count >= max(_RUNNING_MIN_PAGES, 0.25 * texted)}
    cleaned: list[list[Line]] = []
    for number, lines in enumerate(pages, start=1):
        edge = {id(line) for line in _edge_lines(lines)}
        cleaned.append([
            line for line in lines
            if id(line) not in edge
            or not (_running_key(line.text) in running or is_page_number(line.text)
                    or any(n - number in folio for n in _folio_numbers(line.text)))
        ])
    return cleaned


def _folio_numbers(text: str) -> list[int]:
    """The numbers a short edge line could print as its page number (none for long lines)."""
    if len(text.split()) > _FOLIO_WORDS:
        return []
    return [int(n) for n in re.findall(r"(?<![\d.,])\d{1,4}(?![\d.,])", text)]
