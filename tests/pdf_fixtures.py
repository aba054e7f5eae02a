"""Test PDFs made with fpdf2 at test time (no binary fixtures in the repository).

Every writer returns what it put on the pages, so tests derive their expectations from the
input: the paragraphs, the page each paragraph starts on, the lines of each column.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

_WORDS = (
    "harbour council budget river bridge tunnel ferry school teacher nurse doctor farmer market "
    "price wheat coffee copper steel engine rocket signal cable tower station village city "
    "province border treaty minister senator mayor court judge lawyer witness report survey "
    "museum gallery painting novel poet singer festival stadium league season coach striker "
    "goalkeeper storm flood drought harvest forest glacier volcano island coast desert canyon "
    "airport runway cargo container crane warehouse factory worker union strike wage pension "
    "hospital vaccine patient clinic research laboratory sample protein genome battery solar "
    "turbine pipeline reservoir canal railway tram bicycle highway traffic accident ambulance "
    "election ballot campaign debate parliament cabinet policy reform subsidy tariff export"
).split()
_GLUE = "the a of and in to with for on by from after before during about".split()


def sentences(rng: random.Random, count: int, words: tuple[int, int] = (9, 16)) -> str:
    """``count`` deterministic sentences of plain words, each ending with a full stop."""
    out = []
    for _ in range(count):
        n = rng.randint(*words)
        body = [rng.choice(_WORDS) if i % 3 else rng.choice(_GLUE) for i in range(n)]
        body[0] = rng.choice(_WORDS).capitalize()
        out.append(" ".join(body) + ".")
    return " ".join(out)


def paragraphs(count: int, seed: int = 1, per: tuple[int, int] = (3, 6)) -> list[str]:
    """``count`` paragraphs of a few sentences each."""
    rng = random.Random(seed)
    return [sentences(rng, rng.randint(*per)) for _ in range(count)]


@dataclass
class Placed:
    """What a writer put into a PDF: the body paragraphs and the page each starts on."""

    paragraphs: list[str]
    pages: list[int]


class _Report(FPDF):
    """An FPDF with an optional running header and a 'Page n of N' footer."""

    running_header: str | None = None
    running_footer: bool = True

    def header(self) -> None:
        if self.running_header:
            self.set_font("Helvetica", "I", 8)
            self.cell(0, 6, self.running_header, align="C")
            self.ln(12)

    def footer(self) -> None:
        if self.running_footer:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def write_report(
    path: Path,
    body: list[str],
    *,
    heading: str | None = None,
    header: str | None = None,
    footer: bool = True,
    title: str | None = None,
    author: str | None = None,
    created: dt.datetime | None = None,
    break_before: set[int] | None = None,
) -> Placed:
    """A single-column report: optional heading, body paragraphs flowing over pages.

    Args:
        path: Where to write the PDF.
        body: The body paragraphs (wrapped by fpdf2, 11 pt Helvetica, 4 mm between them).
        heading: A 18 pt bold first line on page 1.
        header: Running header text on every page.
        footer: Whether every page has a 'Page n of N' footer.
        title: The document-info /Title.
        author: The document-info /Author.
        created: The /CreationDate.
        break_before: Indexes of paragraphs that start on a new page.

    Returns:
        The paragraphs and the page each one starts on.
    """
    pdf = _Report()
    pdf.running_header, pdf.running_footer = header, footer
    if title is not None:
        pdf.set_title(title)
    if author is not None:
        pdf.set_author(author)
    pdf.set_creation_date(created or dt.datetime(2023, 1, 25, 10, 30, tzinfo=dt.UTC))
    pdf.add_page()
    if heading:
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.set_font("Helvetica", size=11)
    pages = []
    for i, par in enumerate(body):
        if i in (break_before or set()):
            pdf.add_page()
        if pdf.get_y() > pdf.h - pdf.b_margin - 6:
            pdf.add_page()
        pages.append(pdf.page_no())
        pdf.multi_cell(0, 6, par, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(path))
    return Placed(list(body), pages)


def write_lines(path: Path, pages: list[list[str]], *, size: float = 11) -> None:
    """Exact lines, one per row at the left margin; an empty string leaves a blank row."""
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2023, 1, 25, tzinfo=dt.UTC))
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=size)
        y = 30.0
        for line in lines:
            if line:
                pdf.text(20, y, line)
            y += size * 0.5
    pdf.output(str(path))


def write_two_columns(
    path: Path, left: list[str], right: list[str], *, interleaved: bool = True,
    heading: str | None = None,
) -> None:
    """One page with two text columns; ``interleaved`` writes them row by row (left, right)."""
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2023, 1, 25, tzinfo=dt.UTC))
    pdf.add_page()
    top = 30.0
    if heading:
        pdf.set_font("Helvetica", "B", 16)
        pdf.text(20, 22, heading)
    pdf.set_font("Helvetica", size=10)
    rows = max(len(left), len(right))
    order = (
        [(col, i) for i in range(rows) for col in (0, 1)] if interleaved
        else [(0, i) for i in range(rows)] + [(1, i) for i in range(rows)]
    )
    for col, i in order:
        lines = left if col == 0 else right
        if i < len(lines) and lines[i]:
            pdf.text(15 if col == 0 else 110, top + i * 5, lines[i])
    pdf.output(str(path))


def column_lines(text: str, width: int = 38) -> list[str]:
    """``text`` wrapped into lines of at most ``width`` characters (for a 10 pt column)."""
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return [*lines, cur] if cur else lines


def write_image_only(path: Path, pages: int = 2) -> None:
    """Pages holding only a raster image (a 'scan'), no text layer."""
    from PIL import Image

    image = Image.new("RGB", (200, 120), (230, 230, 230))
    for x in range(20, 180):
        image.putpixel((x, 60), (0, 0, 0))
    pdf = FPDF()
    pdf.set_title("Scanned letter")
    for _ in range(pages):
        pdf.add_page()
        pdf.image(image, x=20, y=20, w=160)
    pdf.output(str(path))


def write_encrypted(path: Path, user_password: str, text: str = "A secret paragraph.") -> None:
    """An encrypted one-page PDF (empty ``user_password``: opens without one)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, text)
    pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    pdf.output(str(path))


@dataclass
class Text:
    """One piece of text placed exactly: baseline start in mm from the top-left corner."""

    x: float
    y: float
    text: str
    size: float = 10
    style: str = ""
    angle: float = 0.0  # degrees, counter-clockwise


def write_placed(path: Path, pages: list[list[Text]]) -> None:
    """Pages of exactly placed text pieces (Helvetica), in the order given."""
    pdf = FPDF()
    pdf.set_creation_date(dt.datetime(2023, 1, 25, tzinfo=dt.UTC))
    for items in pages:
        pdf.add_page()
        for item in items:
            pdf.set_font("Helvetica", item.style, item.size)
            if item.angle:
                with pdf.rotation(item.angle, item.x, item.y):
                    pdf.text(item.x, item.y, item.text)
            else:
                pdf.text(item.x, item.y, item.text)
    pdf.output(str(path))


def text_width(text: str, size: float = 10, style: str = "") -> float:
    """Width in mm of ``text`` in Helvetica at ``size`` points."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", style, size)
    return pdf.get_string_width(text)


def wrap_mm(text: str, width: float, size: float = 10, style: str = "") -> list[str]:
    """``text`` wrapped into lines at most ``width`` mm wide (Helvetica at ``size`` points)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", style, size)
    lines, cur = [], ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if cur and pdf.get_string_width(trial) > width:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    return [*lines, cur] if cur else lines


def column(
    paras: list[str], x: float, top: float, width: float, *, size: float = 10,
    leading: float = 4.5, gap: float = 3.0, style: str = "",
) -> tuple[list[Text], float]:
    """Paragraphs wrapped into a column ``width`` mm wide at ``x``: pieces, and the next y."""
    items: list[Text] = []
    y = top
    for par in paras:
        for line in wrap_mm(par, width, size, style):
            items.append(Text(x, y, line, size, style))
            y += leading
        y += gap
    return items, y
