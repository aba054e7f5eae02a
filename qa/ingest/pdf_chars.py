"""PDF page -> positioned text fragments, from PDFium's characters (pypdfium2).

PDFium gives every character with its origin, box, matrix and font weight, in content-stream
order, and inserts the spaces a PDF only implies by moving the pen (``generated`` characters).
A fragment is a run of characters on one baseline with no backward or wide forward jump; a gap
of a fifth of an em or more with no space character in it gets one.

pypdfium2 is imported lazily, by the caller passing in its text page.
"""

from __future__ import annotations

import ctypes
import math
import re
from typing import Any

from qa.ingest.pdf_layout import Line

__all__ = ["page_fragments"]

_WORD_GAP = 0.2  # ems of blank space between two characters that mean a space between words
_JUMP = 0.75  # ems of blank space (or any jump back) that end a fragment
_BASELINE = 0.45  # ems a baseline may move within a fragment (superscript note markers)
_MAX_TILT = 0.35  # radians (20 degrees): more than that is vertical text, left out
_BOLD = 600  # font weight from which a letter counts as bold
_BREAKS = {"\r", "\n"}


class _Run:
    """A fragment being built."""

    __slots__ = ("chars", "x", "y", "x_end", "size", "bold", "letters", "last_y")

    def __init__(self, x: float, y: float, size: float) -> None:
        self.chars: list[str] = []
        self.x, self.y, self.x_end, self.size = x, y, x, size
        self.bold = self.letters = 0
        self.last_y = y

    def line(self) -> Line | None:
        text = "".join(self.chars).strip()
        if not text:
            return None
        bold = self.bold / self.letters if self.letters else 0.0
        return Line(text, self.x, self.y, round(self.size, 1), self.x_end, bold)


def page_fragments(textpage: Any) -> list[list[Line]]:
    """A page's text fragments with their position, font size and boldness, by orientation.

    Upright text comes first; text set at a slight tilt (up to 20 degrees, a design touch on
    brochure pages) follows, one list per tilt, its positions turned upright so its lines
    rebuild like any other. Vertical text (margin notes, axis labels) is left out.

    Args:
        textpage: A ``pypdfium2.PdfTextPage``.

    Returns:
        Lists of fragments, each in content-stream order; the first holds the upright text.
    """
    import pypdfium2.raw as pdfium_c  # lazy: keeps `qa --help` light

    handle = textpage.raw
    count = pdfium_c.FPDFText_CountChars(handle)
    ox, oy = ctypes.c_double(), ctypes.c_double()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    loose = pdfium_c.FS_RECTF()
    name = ctypes.create_string_buffer(128)
    matrix = pdfium_c.FS_MATRIX()
    frames: dict[int, list[Line]] = {0: []}
    runs: dict[int, _Run | None] = {}
    frame = 0

    def close(key: int) -> None:
        run = runs.pop(key, None)
        if run is not None and (line := run.line()) is not None:
            frames.setdefault(key, []).append(line)

    for index in range(count):
        char = chr(pdfium_c.FPDFText_GetUnicode(handle, index) or 0xFFFD)
        run = runs.get(frame)
        if char == "\x02":  # PDFium's mark for a hyphen that ends a line
            char = "-"
        elif char == "\ufffe":  # ... and for a soft hyphen (the word goes on, unbroken)
            if run is not None:
                run.chars.append("\u00ad")
            continue
        if char in _BREAKS:
            close(frame)
            continue
        if char.isspace():
            if run is not None and run.chars and run.chars[-1] != " ":
                run.chars.append(" ")
            continue
        angle = pdfium_c.FPDFText_GetCharAngle(handle, index)
        tilt = angle if angle <= math.pi else angle - 2 * math.pi  # -pi..pi
        if abs(tilt) > _MAX_TILT:
            continue  # vertical or upside down: not part of the page's lines
        key = 0 if abs(tilt) < 0.03 else round(tilt / 0.03)
        if key != frame:
            frame, run = key, runs.get(key)
        pdfium_c.FPDFText_GetCharOrigin(handle, index, ox, oy)
        pdfium_c.FPDFText_GetCharBox(handle, index, left, right, bottom, top)
        size = _char_size(pdfium_c, handle, index, matrix, top.value - bottom.value)
        x, y = ox.value, oy.value
        # the advance (loose box) rather than the ink box: a narrow "1" is not followed by a gap
        if pdfium_c.FPDFText_GetLooseCharBox(handle, index, loose):
            width = max(loose.right - x, right.value - x, 0.0)
        else:
            width = max(right.value - x, 0.0)
        if key:  # turn the tilted text upright around the page origin
            cos, sin = math.cos(tilt), math.sin(tilt)  # PDFium measures the angle clockwise
            x, y = x * cos - y * sin, x * sin + y * cos
            width *= math.cos(tilt)
        x_end = x + width
        if run is not None:
            gap = x - run.x_end
            if abs(y - run.y) > _BASELINE * max(size, run.size) or gap < -0.3 * size or (
                gap > _JUMP * max(size, run.size)
            ):
                close(key)
                run = None
            elif run.chars[-1] != " " and (
                gap > _WORD_GAP * size
                or (char.isalpha() and run.chars[-1].isdigit() and run.last_y - y > 0.15 * size)
            ):
                run.chars.append(" ")  # a word gap, or a raised note mark before a word ("8 MCAS")
        if run is None:
            run = runs[key] = _Run(x, y, size)
        run.chars.append(char)
        run.x_end = max(run.x_end, x_end)
        run.last_y = y
        if char.isalpha():
            if not run.letters:
                run.y = y  # the baseline of the text, not of a raised note mark before it
            run.letters += 1
            run.size = max(run.size, size) if run.letters > 1 else size
            if _is_bold(pdfium_c, handle, index, name):
                run.bold += 1
    for key in list(runs):
        close(key)
    return [frames[0], *(frames[k] for k in sorted(frames) if k)]


_BOLD_NAME = re.compile(rb"bold|black|heavy|semibold|demi", re.I)


def _is_bold(pdfium_c: Any, handle: Any, index: int, name: Any) -> bool:
    """Whether a character is set in a bold font: its weight, else its font's name (the
    standard fonts, such as Helvetica-Bold, carry no weight)."""
    weight = pdfium_c.FPDFText_GetFontWeight(handle, index)
    if weight > 0:
        return weight >= _BOLD
    flags = ctypes.c_int()
    if not pdfium_c.FPDFText_GetFontInfo(handle, index, name, len(name), ctypes.byref(flags)):
        return False
    return bool(_BOLD_NAME.search(name.value))


def _char_size(pdfium_c: Any, handle: Any, index: int, matrix: Any, height: float) -> float:
    """The character's font size in user space: nominal size times the text matrix's scale."""
    nominal = pdfium_c.FPDFText_GetFontSize(handle, index)
    if pdfium_c.FPDFText_GetMatrix(handle, index, ctypes.byref(matrix)):
        scale = math.hypot(matrix.c, matrix.d)
        if nominal > 0 and scale > 0:
            return nominal * scale
    return nominal if nominal > 0 else max(height, 1.0)
