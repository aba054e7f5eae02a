"""PDF files -> one :class:`Article`: every word, in reading order, as the page's paragraphs.

The text comes from PDFium (pypdfium2): its characters carry their positions and it inserts
the spaces a PDF only implies by moving the pen, so words are not glued where a line, a span
or a column ends (pypdf and pdfplumber were measured against it: bench/README.md). The layout
steps are ours: :mod:`qa.ingest.pdf_chars` builds positioned fragments, :mod:`qa.ingest.pdf_layout`
rebuilds lines, reads columns in order and drops running headers/footers and bare page numbers,
:mod:`qa.ingest.pdf_paragraphs` joins lines into paragraphs and takes the title.

pypdfium2 (and pypdf, which only checks a page that yields no text for a damaged content
stream) are imported lazily: importing this module costs nothing until a PDF is read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.errors import BadInputError
from qa.ingest.article import Article, ArticleMeta
from qa.ingest.pdf_chars import page_fragments
from qa.ingest.pdf_layout import Line, drop_running_lines, page_lines
from qa.ingest.pdf_paragraphs import clean, para_text, paragraphs, take_title
from qa.ingest.readers import ReadOptions, Warn

__all__ = ["parse_pdf_date", "read"]

_PDFIUM = threading.Lock()  # PDFium is not thread-safe: one document at a time per process
_NEEDS_PASSWORD = 4  # PDFium's FPDF_ERR_PASSWORD
_SECURITY = 5  # FPDF_ERR_SECURITY: an unsupported security handler


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
    with _PDFIUM:
        doc = _open(path)
        try:
            meta = _document_meta(doc)
            pages = _read_pages(doc, path, warn)
        finally:
            doc.close()
    if not any(pages):
        warn(f"{path}: has no text layer (scanned images?); nothing to index")
        yield Article(meta=meta, paragraphs=[], pages=[])
        return
    paras, pairs = paragraphs(drop_running_lines(pages))
    paras = take_title(paras, meta)
    yield Article(
        meta=meta,
        paragraphs=[para_text(p.lines, pairs) for p in paras],
        pages=[p.page for p in paras],
    )


def _open(path: Path) -> Any:
    """A ``pypdfium2.PdfDocument`` for ``path`` (an empty user password is tried).

    Raises:
        BadInputError: empty, not a PDF, damaged beyond reading, or needs a password.
    """
    import pypdfium2 as pdfium  # lazy: keeps `qa --help` light

    try:
        if path.stat().st_size == 0:
            raise BadInputError("empty file, not a PDF")
        doc = pdfium.PdfDocument(path)
        len(doc)
    except BadInputError:
        raise
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == _NEEDS_PASSWORD:
            raise BadInputError(
                "encrypted PDF; cannot read it without the password",
                "Save an unencrypted copy (print to PDF) and index that",
            ) from exc
        if code == _SECURITY:
            raise BadInputError("encrypted PDF with an unsupported security handler") from exc
        raise BadInputError(f"damaged or not a PDF: {_one_line(exc)}") from exc
    except OSError:
        raise
    except Exception as exc:  # anything else PDFium's binding raises on hostile input
        raise BadInputError(f"damaged or not a PDF: {_one_line(exc)}") from exc
    return doc


def _one_line(exc: BaseException) -> str:
    """An exception as one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


# --------------------------------------------------------------------------- page text


def _read_pages(doc: Any, path: Path, warn: Warn) -> list[list[Line]]:
    """Each page's lines in reading order; a page that fails is warned about and left empty."""
    pages: list[list[Line]] = []
    for number in range(1, len(doc) + 1):
        try:
            page = doc[number - 1]
            try:
                textpage = page.get_textpage()
                try:
                    frags = page_fragments(textpage)
                finally:
                    textpage.close()
            finally:
                page.close()
            pages.append(_lines(frags))
        except Exception as exc:  # one bad page must not lose the rest
            warn(f"{path}: page {number} is damaged and was skipped ({_one_line(exc)})")
            pages.append([])
    empty = [n for n, lines in enumerate(pages, start=1) if not lines]
    if empty:
        for number, reason in _damaged_pages(path, empty).items():
            warn(f"{path}: page {number} is damaged and was skipped ({reason})")
    return pages


def _lines(frames: list[list[Line]]) -> list[Line]:
    """The page's lines: the upright text's, then each turned text's (a block of its own)."""
    out: list[Line] = []
    for turned, frags in enumerate(frames):
        for frag in frags:
            frag.text = clean(frag.text)
            frag.turned = bool(turned)
        lines = page_lines([f for f in frags if f.text.strip()])
        offset = (out[-1].block + 1) if out else 0
        for line in lines:
            line.block += offset
        out.extend(lines)
    return out


_USEFUL_NOISE = re.compile(r"damaged|corrupt|truncat|could not|cannot|unable|invalid|missing", re.I)


def _damaged_pages(path: Path, numbers: list[int]) -> dict[int, str]:
    """Of the pages PDFium found no text on, those whose content stream does not decode.

    PDFium skips a broken content stream silently, so pypdf decodes those pages' streams to
    tell a damaged page from a blank or image-only one. Its log records and warnings are
    caught (they must not reach stderr).
    """
    from pypdf import PdfReader  # lazy

    found: dict[int, str] = {}
    with _quiet_pypdf() as noise:
        try:
            reader = PdfReader(path, strict=False)
            if reader.is_encrypted:
                reader.decrypt("")
            for number in numbers:
                try:
                    contents = reader.pages[number - 1].get_contents()
                    if contents is not None:
                        contents.get_data()
                except Exception as exc:  # pypdf raises many types on hostile input
                    found[number] = _one_line(exc)
                    continue
                useful = [m for m in noise.take() if _USEFUL_NOISE.search(m)]
                if useful:
                    found[number] = " ".join(useful[0].split())[:160]
        except Exception:  # pypdf cannot read what PDFium could: nothing more to say
            return found
    return found


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


def _info_text(info: dict[str, str], key: str) -> str | None:
    """A document-info entry as clean one-line text, else None."""
    text = " ".join(clean(str(info.get(key) or "")).split())
    return text or None


def _document_meta(doc: Any) -> ArticleMeta:
    """Title, author and date from the document information dictionary."""
    try:
        info = doc.get_metadata_dict(skip_empty=True)
    except Exception:  # damaged info dictionary: no metadata, text may still be fine
        info = {}
    title = _info_text(info, "Title")
    if title and (_JUNK_TITLE.search(title) or not any(c.isalpha() for c in title)):
        title = None
    return ArticleMeta(
        title=title,
        author=_info_text(info, "Author"),
        date=parse_pdf_date(_info_text(info, "CreationDate")),
    )
