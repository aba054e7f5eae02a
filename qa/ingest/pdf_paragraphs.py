"""PDF lines -> paragraphs: wrapped lines joined, hyphenation undone, the title taken.

A paragraph ends at a vertical gap wider than the document's usual line spacing, a first-line
indent, a bullet, a change of font size or of a whole line's boldness (a heading), a table row
of three cells or more, or a short line that ends a sentence. Across a page or column break a
paragraph goes on only when its sentence does (the next line starts in lower case, or the last
ended on a comma, hyphen or function word), even when footnotes or a caption came between.
Stdlib only.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from qa.ingest.article import ArticleMeta
from qa.ingest.pdf_layout import Line, is_page_number

__all__ = ["Para", "clean", "para_text", "paragraphs", "take_title"]


@dataclass
class Para:
    """A paragraph being built: its lines' texts, page, and the last line's geometry."""

    lines: list[str]
    page: int
    size: float
    last: Line
    col_right: float = 0.0



_SENTENCE_END = re.compile(r"(?:[.!?…][\"'”’»)\]]*|(?<=[^\W\d_])\.\d{1,2})$")  # "addressed.4": a note mark
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st",
                            "ﬆ": "st", "\u00a0": " ", "\u00ad": "\u00ad", "\x00": ""})


def clean(text: str) -> str:
    """Ligatures spelled out, no-break spaces as spaces, NULs and control characters gone."""
    text = text.translate(_LIGATURES)
    return "".join(c for c in text if c in "\n\t\u00ad" or c.isprintable())


def paragraphs(pages: list[list[Line]]) -> tuple[list[Para], set[str]]:
    """Lines of all pages -> paragraphs (bare page numbers dropped), and the hyphenated pairs.

    A paragraph cut mid-sentence by a column or page break whose next column starts with
    something else (footnotes at the column's foot, a figure caption) is picked up again by the
    first line that carries its sentence on; it keeps its place, before what came between.

    The pairs ('well-known') are the compounds written with a hyphen inside a line somewhere
    in the document: a line break at such a hyphen keeps it.
    """
    spacing = _line_spacing(pages)
    paras: list[Para] = []
    dangling: dict[tuple[float, bool], list[Any]] = {}  # font -> [cut paragraph, paragraphs since]
    cur: Para | None = None  # the paragraph the next line may continue (not always the last)
    for number, lines in enumerate(pages, start=1):
        prev: Line | None = None
        for line in lines:
            broke = _break_between(prev, line)
            cut = dangling.get(_font(line))
            if cur is not None and _continues(cur, prev, line, spacing):
                cur.lines.append(line.text)
                cur.last = line
            elif cut is not None and cur is not None and (
                broke or not _same_font(cur.last, line)
            ) and _carries_on(cut[0].last, line):
                cur = cut[0]  # stays where it began, before what came between
                cur.lines.append(line.text)
                cur.last = line
                del dangling[_font(line)]
            else:
                unfinished = cur is not None and not _SENTENCE_END.search(cur.last.text)
                if unfinished and len(cur.lines) > 1 and (broke or not _same_font(cur.last, line)):
                    dangling[_font(cur.last)] = [cur, 0]
                elif cut is not None:
                    cut[1] += 1
                    if cut[1] > _DANGLING_PARAGRAPHS:
                        del dangling[_font(line)]  # body text went on elsewhere: it has ended
                cur = Para([line.text], number, line.size, line, _right_edge(lines, line))
                paras.append(cur)
            prev = line
    pairs = {
        pair
        for lines in pages for line in lines
        for match in _COMPOUND.finditer(line.text.lower())
        for pair in _adjacent_pairs(match.group())
    }
    return [p for p in paras if not is_page_number(para_text(p.lines, pairs))], pairs


_DANGLING_PARAGRAPHS = 3  # a cut paragraph is looked for this many body paragraphs on


def _break_between(prev: Line | None, line: Line) -> bool:
    """Whether a page or column break lies between ``prev`` and ``line``."""
    return prev is None or line.block != prev.block or line.column != prev.column or line.y > prev.y


def _font(line: Line) -> tuple[float, bool]:
    """A line's font, as far as paragraphs go: its size (to the point) and whether all bold."""
    return round(line.size), line.bold > 0.95


def _same_size(a: Line, b: Line) -> bool:
    """Sizes within 8 % of each other."""
    return abs(a.size - b.size) <= 0.08 * max(a.size, b.size)


def _same_font(a: Line, b: Line) -> bool:
    """Same size (within 8 %), and not one line all bold (a heading) beside one that is not."""
    return _same_size(a, b) and (a.bold > 0.95) == (b.bold > 0.95)


_FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for from with and or but nor as than that which who whose "
    "its their his her our your is are was were be been has have had will would can could "
    "may might shall should must not into onto over under about between per via".split()
)


def _carries_on(last: Line, line: Line) -> bool:
    """Across a column or page break: whether ``line`` goes on with ``last``'s sentence."""
    if not _same_font(last, line) or _SENTENCE_END.search(last.text):
        return False
    first = line.text.lstrip()[:1]
    tail = last.text.rstrip()
    words = tail.split()
    return bool(first) and (
        first.islower() or tail.endswith(("-", ",", "–", "(", "\u00ad"))
        or (bool(words) and words[-1].lower() in _FUNCTION_WORDS)
    )


# second halves of compounds that keep their hyphen when a line breaks at it ("market-based")
_COMPOUND_TAILS = frozenset(
    "based related driven led oriented specific wide free friendly term scale level owned "
    "making preserving sensitive intensive efficient focused centred centered like looking "
    "sized aged income quality time bound dependent generated funded sponsored backed "
    "focused facing ready resistant proof".split()
)
_LEADER = re.compile(r"(?:\s?\.){4,}\s?")
_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")


def _adjacent_pairs(compound: str) -> list[str]:
    """'state-of-the-art' -> ['state-of', 'of-the', 'the-art']."""
    parts = compound.split("-")
    return [f"{a}-{b}" for a, b in zip(parts, parts[1:], strict=False)]


def _line_spacing(pages: list[list[Line]]) -> dict[float, float]:
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


def _right_edge(lines: list[Line], line: Line) -> float:
    """The right edge of ``line``'s column: the furthest line end in it."""
    return max((x.x_end for x in lines if x.column == line.column and x.block == line.block),
               default=line.x_end)


def _continues(
    para: Para, prev: Line | None, line: Line, spacing: dict[float, float]
) -> bool:
    """Whether ``line`` continues ``para`` (whose last line is ``para.last``)."""
    last = para.last
    run_in = last.bold > 0.95 and 0.05 < line.bold and not _SENTENCE_END.search(last.text)
    if not (_same_font(last, line) or (run_in and _same_size(last, line))):
        return False
    if line.cells >= 3 or last.cells >= 3:
        return False  # a heading, a caption or a table row (three cells or more) stands alone
    ended = bool(_SENTENCE_END.search(last.text))
    if _break_between(prev, line):
        return _carries_on(last, line)
    gap = prev.y - line.y
    if gap > 1.45 * spacing.get(line.size, 1.2 * line.size):
        return False
    if _BULLET.match(line.text):
        return False
    indented = line.x > last.x + 0.8 * line.size  # a first-line indent (or a centred line)
    if indented and (len(para.lines) > 1 or ended):  # not a hanging indent
        return False
    col_width = para.col_right - last.x
    short = col_width > 0 and last.x_end < para.col_right - 0.15 * col_width
    return not (ended and short)


_BULLET = re.compile(r"^\s*(?:[•●▪■◦○‣∙·*–—-]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s")


def para_text(lines: list[str], pairs: set[str] | None = None) -> str:
    """Join a paragraph's lines, undoing hyphenation at line ends.

    'recog-' + 'nition' -> 'recognition' (a hyphen before a lowercase letter is a soft one),
    unless the pair is written with a hyphen elsewhere in ``pairs`` ('well-' + 'known') or
    continues a compound ('state-of-the-' + 'art'); 'Anglo-' + 'French' and '1990-' + '1995'
    keep the hyphen. Other lines are joined with a space.
    """
    text = lines[0]
    for line in lines[1:]:
        text = _join_lines(text, line, pairs or set())
    text = _LEADER.sub(" … ", text.replace("\u00ad", ""))  # a contents line's dot leader
    return " ".join(text.split())


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
    tail = next_word.group().lower()
    if f"{stem_word}-{tail}" in pairs or (tail in _COMPOUND_TAILS and len(stem_word) >= 3):
        return text + line
    return text[:-1] + line


def key(text: str) -> str:
    """Comparison key: lowercase letters and digits only."""
    return re.sub(r"[\W_]+", "", text.lower())


# --------------------------------------------------------------------------- title


def take_title(paras: list[Para], meta: ArticleMeta) -> list[Para]:
    """Fill a missing title from page 1's heading; drop the heading from the body."""
    first = paras[0] if paras and paras[0].page == 1 else None
    if first is None:
        return paras
    text = para_text(first.lines)
    if meta.title is not None:
        return paras[1:] if key(text) == key(meta.title) else paras
    if _looks_like_heading(first, paras[1:]):
        meta.title = text
        return paras[1:]
    return paras


def _looks_like_heading(first: Para, rest: list[Para]) -> bool:
    """Short, no sentence end, and larger than the body text (or simply short)."""
    text = para_text(first.lines)
    words = len(text.split())
    if not 1 <= words <= 25 or text.endswith(".") or not any(c.isalpha() for c in text):
        return False
    sizes = [p.size for p in rest[:20]]
    body = statistics.median(sizes) if sizes else first.size
    return first.size >= body * 1.15 or words <= 15
