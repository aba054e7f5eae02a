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
_MAX_TILT = 0.35  # radians (20 degrees) of slant still read; and vertical text
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

    Upright text comes first; text set at a tilt (a design touch on brochure pages) or
    vertically (margin notes, axis labels) follows, one list per angle, its positions turned
    upright so its lines rebuild like any other.

    Args:
        textpage: A ``pypdfium2.PdfTextPage``.

    Returns:
        Lists of fragments, each in content-stream order; the first holds the upright text.
    """
    import pypdfium2.raw as pdfium_c  # lazy: keeps `qa --help` light

    handle = textpage.raw
    count = pdfium_c.FPDFText_CountChars(handle)
    text = textpage.get_text_range(0, count)
    if len(text) != count:  # characters outside the BMP: read them one by one
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(handle, i) or 0xFFFD) for i in range(count))
    ox, oy = ctypes.c_double(), ctypes.c_double()
    loose = pdfium_c.FS_RECTF()
    text_object = _text_object_address(pdfium_c)
    fonts: dict[int | None, tuple[float, float, bool]] = {}  # text object -> size, tilt, bold
    frames: dict[int, list[Line]] = {0: []}
    runs: dict[int, _Run | None] = {}
    frame = 0

    def close(key: int) -> None:
        run = runs.pop(key, None)
        if run is not None and (line := run.line()) is not None:
            frames.setdefault(key, []).append(line)

    get_origin, get_loose = pdfium_c.FPDFText_GetCharOrigin, pdfium_c.FPDFText_GetLooseCharBox
    for index, char in enumerate(text):
        run = runs.get(frame)
        if char in "\x02\ufffe":  # PDFium's mark for a hyphen that ends a line
            char = "-"
        if char in _BREAKS:
            close(frame)
            continue
        if char.isspace():
            if run is not None and run.chars and run.chars[-1] != " ":
                run.chars.append(" ")
            continue
        key_obj = text_object(handle, index)
        font = fonts.get(key_obj)
        if font is None or key_obj is None:  # no text object (generated): look it up
            font = fonts[key_obj] = _font(pdfium_c, handle, index)
        size, tilt, bold, drop = font
        vertical = abs(abs(tilt) - math.pi / 2) < 0.05
        if abs(tilt) > _MAX_TILT and not vertical:
            continue  # set at a steep slant or upside down: not read
        key = 0 if abs(tilt) < 0.03 else round(tilt / 0.03)
        if key != frame:
            frame, run = key, runs.get(key)
        # the advance (loose box) rather than the ink box: a narrow "1" is not followed by a gap
        get_loose(handle, index, loose)
        if key or drop is None:
            get_origin(handle, index, ox, oy)
            x, y = ox.value, oy.value
        else:  # upright: the baseline lies a fixed depth below the box's top, per font
            x, y = loose.left, loose.top - drop
        width = loose.right - x
        if width < 0:
            width = 0.0
        if key:  # turn the tilted text upright around the page origin
            cos, sin = math.cos(tilt), math.sin(tilt)  # PDFium measures the angle clockwise
            x, y = x * cos - y * sin, x * sin + y * cos
            width = loose.top - loose.bottom if vertical else width * cos
        x_end = x + width
        if run is not None:
            gap = x - run.x_end
            big = size if size > run.size else run.size
            if abs(y - run.y) > _BASELINE * big or gap < -0.3 * size or gap > _JUMP * big:
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
        if x_end > run.x_end:
            run.x_end = x_end
        run.last_y = y
        if char.isalpha():
            if not run.letters:
                run.y = y  # the baseline of the text, not of a raised note mark before it
                run.size = size
            elif size > run.size:
                run.size = size
            run.letters += 1
            run.bold += bold
    for key in list(runs):
        close(key)
    return [frames[0], *(frames[k] for k in sorted(frames) if k)]


_TEXT_OBJECT: Any = None


def _text_object_address(pdfium_c: Any) -> Any:
    """``FPDFText_GetTextObject`` returning the object's address as an int (a cache key).

    pypdfium2's binding returns a ctypes pointer, and casting it costs more than the call; a
    private copy of the function with an integer result is made once (falls back to casting).
    """
    global _TEXT_OBJECT
    if _TEXT_OBJECT is None:
        try:
            import pypdfium2_raw.bindings as bindings

            func = bindings._libs["pdfium"]["FPDFText_GetTextObject"]
            func.argtypes = pdfium_c.FPDFText_GetTextObject.argtypes
            func.restype = ctypes.c_void_p
            _TEXT_OBJECT = func
        except Exception:  # another binding layout: the slower, public way
            def _TEXT_OBJECT(handle: Any, index: int) -> int | None:
                obj = pdfium_c.FPDFText_GetTextObject(handle, index)
                return ctypes.cast(obj, ctypes.c_void_p).value if obj else None
    return _TEXT_OBJECT


def _font(pdfium_c: Any, handle: Any, index: int) -> tuple[float, float, bool, float | None]:
    """A character's text object: size in user space, tilt (radians, -pi..pi), boldness, and
    how far the baseline lies below the top of the loose box (None when it cannot be told)."""
    angle = pdfium_c.FPDFText_GetCharAngle(handle, index)
    tilt = angle if angle <= math.pi else angle - 2 * math.pi
    matrix = pdfium_c.FS_MATRIX()
    nominal = pdfium_c.FPDFText_GetFontSize(handle, index)
    size = nominal
    if pdfium_c.FPDFText_GetMatrix(handle, index, ctypes.byref(matrix)):
        scale = math.hypot(matrix.c, matrix.d)
        if nominal > 0 and scale > 0:
            size = nominal * scale
    box = pdfium_c.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    drop = None
    if pdfium_c.FPDFText_GetLooseCharBox(handle, index, box) and pdfium_c.FPDFText_GetCharOrigin(
        handle, index, ox, oy
    ) and abs(box.left - ox.value) < 0.01:
        drop = box.top - oy.value
    if size <= 0:
        size = max(box.top - box.bottom, 1.0)
    return size, tilt, _is_bold(pdfium_c, handle, index, ctypes.create_string_buffer(128)), drop


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
