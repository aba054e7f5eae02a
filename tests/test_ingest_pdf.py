"""Tests for qa.ingest.pdf on PDFs generated with fpdf2 (see tests/pdf_fixtures.py)."""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
from pathlib import Path

import pytest
from pdf_fixtures import (
    Text,
    column,
    column_lines,
    paragraphs,
    sentences,
    text_width,
    wrap_mm,
    write_encrypted,
    write_image_only,
    write_lines,
    write_placed,
    write_report,
    write_two_columns,
)

from qa.errors import BadInputError
from qa.ingest.article import Article, ArticleMeta
from qa.ingest.passages import make_passages
from qa.ingest.pdf import parse_pdf_date, read
from qa.ingest.readers import ReadOptions, reader_for

HEADER = "The Harbour Review - Annual Infrastructure Report 2023"


def read_one(path: Path) -> tuple[Article, list[str]]:
    """Read ``path``; returns the single article and the warnings."""
    warnings: list[str] = []
    articles = list(read(path, ReadOptions(), warnings.append))
    assert len(articles) == 1
    return articles[0], warnings


def words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.lower())


# --------------------------------------------------------------------------- furniture, pages


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A 5+ page report with a running header and 'Page n of N' footers (written once: the
    tests only read it)."""
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    placed = write_report(path, paragraphs(40, seed=3), heading="Harbour cranes return",
                          header=HEADER, title="Harbour cranes return", author="Ann Lee")
    assert max(placed.pages) >= 5
    return path, placed


def test_running_header_footer_and_page_numbers_are_dropped(report):
    path, placed = report
    article, warnings = read_one(path)
    assert warnings == []
    text = "\n".join(article.paragraphs)
    assert "Harbour Review" not in text
    assert not re.search(r"\bPage \d+ of \d+\b", text)
    assert all(not re.fullmatch(r"[\d\s\W]*", p) for p in article.paragraphs)


def test_paragraphs_and_their_pages_match_what_was_placed(report):
    path, placed = report
    article, _ = read_one(path)
    assert article.paragraphs == placed.paragraphs
    assert article.pages == placed.pages


def test_passages_cover_the_body_words(report):
    path, placed = report
    article, _ = read_one(path)
    passages = make_passages(article.paragraphs, lambda ts: [len(t.split()) for t in ts], 200)
    shown = Counter_of(" ".join(p.text for p in passages))
    body = words(" ".join(placed.paragraphs))
    covered = sum(1 for w in body if shown.take(w))
    assert covered / len(body) >= 0.9


class Counter_of:
    """A multiset of a text's words that can be drawn from once per occurrence."""

    def __init__(self, text: str) -> None:
        from collections import Counter

        self.left = Counter(words(text))

    def take(self, word: str) -> bool:
        if self.left[word] <= 0:
            return False
        self.left[word] -= 1
        return True


def test_bare_page_numbers_are_dropped_even_on_two_pages(tmp_path):
    path = tmp_path / "short.pdf"
    body = [["First page text ends here.", "", "- 1 -"], ["12", "", "Second page text.", "", "iv"]]
    write_lines(path, body)
    article, _ = read_one(path)
    assert article.paragraphs == ["First page text ends here.", "Second page text."]
    assert article.pages == [1, 2]


def test_paragraph_continued_across_a_page_break_is_joined(tmp_path):
    path = tmp_path / "continued.pdf"
    pages = [
        ["A full paragraph on page one ends here.", "", "The committee said the bridge would",
         "reopen in spring once the"],
        ["inspectors had finished their work.", "", "A new paragraph starts page two."],
        ["Page three starts a new paragraph."],
    ]
    write_lines(path, pages)
    article, _ = read_one(path)
    assert article.paragraphs == [
        "A full paragraph on page one ends here.",
        "The committee said the bridge would reopen in spring once the inspectors had finished"
        " their work.",
        "A new paragraph starts page two.",
        "Page three starts a new paragraph.",
    ]
    assert article.pages == [1, 1, 2, 3]


# --------------------------------------------------------------------------- lines, hyphens


def test_line_end_hyphenation_is_undone_and_real_hyphens_kept(tmp_path):
    path = tmp_path / "hyphens.pdf"
    write_lines(path, [[
        "Speech recog-",
        "nition is a well-known field, and state-of-the-",
        "art systems are used by Anglo-",
        "French teams and other well-",
        "known groups from 1990-",
        "1995 onwards.",
    ]])
    article, _ = read_one(path)
    assert article.paragraphs == [
        "Speech recognition is a well-known field, and state-of-the-art systems are used by"
        " Anglo-French teams and other well-known groups from 1990-1995 onwards."
    ]


def test_blank_rows_and_short_sentence_lines_split_paragraphs(tmp_path):
    path = tmp_path / "paras.pdf"
    write_lines(path, [[
        "The first paragraph has two lines of text that run",
        "on to here.",
        "The second one follows without a blank row and runs",
        "across two lines.",
        "",
        "The third comes after a blank row.",
    ]])
    article, _ = read_one(path)
    assert article.paragraphs == [
        "The first paragraph has two lines of text that run on to here.",
        "The second one follows without a blank row and runs across two lines.",
        "The third comes after a blank row.",
    ]


# --------------------------------------------------------------------------- columns


@pytest.mark.parametrize("interleaved", [True, False])
def test_two_columns_are_read_column_by_column(tmp_path, interleaved):
    left_text, right_text = paragraphs(2, seed=7, per=(4, 4))
    left, right = column_lines(left_text), column_lines(right_text)
    path = tmp_path / "columns.pdf"
    write_two_columns(path, left, right, interleaved=interleaved, heading="Two columns of news")
    article, _ = read_one(path)
    assert article.meta.title == "Two columns of news"
    text = " ".join(article.paragraphs)
    assert text == f"{left_text} {right_text}"


def test_plain_extraction_interleaves_the_columns(tmp_path):
    """Why the reader orders by position: pypdf's plain text mixes rows of both columns."""
    from pypdf import PdfReader

    left, right = column_lines(paragraphs(1, seed=8)[0]), column_lines(paragraphs(1, seed=9)[0])
    path = tmp_path / "columns.pdf"
    write_two_columns(path, left, right, interleaved=True)
    plain = PdfReader(path).pages[0].extract_text()
    assert plain.index(right[0]) < plain.index(left[1])


# --------------------------------------------------------------------------- metadata


def test_metadata_from_document_info(tmp_path):
    path = tmp_path / "meta.pdf"
    write_report(path, paragraphs(2), heading="Cranes are back", title="Harbour cranes return",
                 author="Ann Lee", created=dt.datetime(2021, 3, 9, 23, 50, tzinfo=dt.UTC))
    article, _ = read_one(path)
    meta = article.meta
    assert (meta.title, meta.author, meta.date) == ("Harbour cranes return", "Ann Lee", "2021-03-09")
    assert (meta.outlet, meta.url) == (None, None)
    assert article.paragraphs[0] == "Cranes are back"  # a heading that is not the title stays


@pytest.mark.parametrize("junk", ["Microsoft Word - report_final.docx", "", "untitled", "C:/x/y.pdf"])
def test_junk_title_falls_back_to_the_first_heading(tmp_path, junk):
    path = tmp_path / "meta.pdf"
    body = paragraphs(3)
    write_report(path, body, heading="Cranes are back at the harbour", title=junk)
    article, _ = read_one(path)
    assert article.meta.title == "Cranes are back at the harbour"
    assert article.paragraphs == body  # the heading became the title, not a passage


def test_no_title_when_page_one_starts_with_body_text(tmp_path):
    path = tmp_path / "notitle.pdf"
    body = paragraphs(3)
    write_report(path, body)
    article, _ = read_one(path)
    assert article.meta.title is None
    assert article.paragraphs == body


@pytest.mark.parametrize(("raw", "iso"), [
    ("D:20230125103000+01'00'", "2023-01-25"),
    ("D:20230125", "2023-01-25"),
    ("20191231235959Z", "2019-12-31"),
    ("D:2023", None),
    ("D:20231345", None),
    ("D:00010101", None),
    ("yesterday", None),
    ("", None),
    (None, None),
])
def test_parse_pdf_date(raw, iso):
    assert parse_pdf_date(raw) == iso


# --------------------------------------------------------------------------- layout (PDFium)


def _words(paras: list[str]) -> str:
    return " ".join(" ".join(paras).split())


def test_folios_with_a_section_name_are_dropped(tmp_path):
    """'Key questions 9' / 'Treatment 35': the printed page number beside a changing name."""
    body = paragraphs(5, seed=8, per=(2, 3))
    pages = []
    for number, par in enumerate(body, start=1):
        section = "Key questions" if number <= 2 else "Treatment"
        items = column([par], 20, 30, 170)[0]
        items.append(Text(20, 285, f"{section} {number + 8}", size=8))
        pages.append(items)
    path = tmp_path / "folios.pdf"
    write_placed(path, pages)
    article, _ = read_one(path)
    assert article.paragraphs == body
    assert article.pages == [1, 2, 3, 4, 5]


def test_spans_placed_apart_without_a_space_get_one_and_touching_spans_none(tmp_path):
    """A span that starts where a space would end is a new word; one that touches is not."""
    path = tmp_path / "spans.pdf"
    first = "The company repurchased"
    gap = text_width(" ")
    second_x = 20 + text_width(first) + gap
    touching = "Growth in inter"
    write_placed(path, [[
        Text(20, 30, first),
        Text(second_x, 30, "$793 million", style="B"),  # another font: another text object
        Text(second_x + text_width("$793 million", style="B") + gap, 30, "of its shares."),
        Text(20, 34.5, touching),
        Text(20 + text_width(touching), 34.5, "national markets rose."),
    ]])
    article, _ = read_one(path)
    assert _words(article.paragraphs) == (
        "The company repurchased $793 million of its shares. Growth in international markets rose."
    )


def test_sentence_at_a_line_end_is_spaced_from_the_next_line(tmp_path):
    lines = ["Demand cooled sharply during the long", "summer slowdown. Economic activity",
             "picked up again in the autumn months", "as exports to Asia recovered fully."]
    path = tmp_path / "lines.pdf"
    write_lines(path, [lines])
    article, _ = read_one(path)
    assert _words(article.paragraphs) == " ".join(lines)


def test_three_narrow_columns_are_read_one_after_another(tmp_path):
    """A Federal Register page: three columns, gutters about one em wide."""
    cols = [paragraphs(2, seed=s, per=(3, 4)) for s in (31, 32, 33)]
    items: list[Text] = []
    for i, paras in enumerate(cols):
        items.extend(column(paras, 12 + i * 63, 30, 59, size=9, leading=4)[0])
    path = tmp_path / "three.pdf"
    write_placed(path, [items])
    article, _ = read_one(path)
    assert article.paragraphs == [p for paras in cols for p in paras]


def test_full_width_introduction_above_a_two_column_box(tmp_path):
    intro = paragraphs(2, seed=41, per=(3, 3))
    left, right = paragraphs(2, seed=42, per=(3, 3)), paragraphs(2, seed=43, per=(3, 3))
    items, y = column(intro, 20, 30, 170)
    items.append(Text(20, y + 6, "Inherited risk", size=12, style="B"))
    items.extend(column(left, 20, y + 14, 80)[0])
    items.extend(column(right, 110, y + 14, 80)[0])
    path = tmp_path / "box.pdf"
    write_placed(path, [items])
    article, _ = read_one(path)
    assert article.paragraphs == [*intro, "Inherited risk", *left, *right]


def test_paragraph_cut_by_footnotes_goes_on_in_the_next_column(tmp_path):
    """Footnotes at the foot of column 1 sit between a sentence and its end in column 2."""
    body = sentences(random.Random(5), 6)
    lines = wrap_mm(body, 80)
    cut = len(lines) // 2
    second = [lines[cut][:1].lower() + lines[cut][1:], *lines[cut + 1:]]
    notes = ["1 Figures are seasonally adjusted.", "2 Source: the harbour authority survey."]
    items = [Text(20, 30 + 4.5 * i, line) for i, line in enumerate(lines[:cut])]
    items += [Text(20, 120 + 3.5 * i, note, size=7) for i, note in enumerate(notes)]
    items += [Text(110, 30 + 4.5 * i, line) for i, line in enumerate(second)]
    path = tmp_path / "notes.pdf"
    write_placed(path, [items])
    article, _ = read_one(path)
    assert article.paragraphs == [" ".join([*lines[:cut], *second]), *notes]


def test_dot_leaders_of_a_contents_page_are_shortened(tmp_path):
    path = tmp_path / "contents.pdf"
    write_lines(path, [["The chapters of this booklet are listed below.", "",
                        "Mammogram " + "." * 60 + " 13", "Radiotherapy . . . . . . . . . . . 42"]])
    article, _ = read_one(path)
    assert _words(article.paragraphs) == (
        "The chapters of this booklet are listed below. Mammogram … 13 Radiotherapy … 42"
    )


def test_a_table_stays_row_by_row(tmp_path):
    """Four narrow columns of cells are a table, not text columns: each row is one line."""
    rows = [("Crop", "2019", "2020", "Change"), ("Wheat", "12.5", "13.1", "+4.8%"),
            ("Barley", "8.2", "7.9", "-3.7%"), ("Maize", "20.4", "22.0", "+7.8%"),
            ("Oats", "3.1", "3.3", "+6.5%"), ("Rye", "1.2", "1.1", "-8.3%")]
    intro = "Harvest figures for the region are shown below in million tonnes per year."
    items = [Text(20, 30, intro)]
    for r, row in enumerate(rows):
        items += [Text(20 + 35 * c, 42 + 6 * r, cell) for c, cell in enumerate(row)]
    path = tmp_path / "table.pdf"
    write_placed(path, [items])
    article, _ = read_one(path)
    assert article.paragraphs == [intro, *(" ".join(row) for row in rows)]


def test_bold_heading_of_body_size_is_its_own_paragraph(tmp_path):
    before = wrap_mm(sentences(random.Random(7), 2), 170)
    body = wrap_mm(sentences(random.Random(6), 3), 170)
    items = [Text(20, 30 + 4.5 * i, line) for i, line in enumerate(before)]
    y = 30 + 4.5 * len(before)
    items.append(Text(20, y, "Costs of Compliance", style="B"))
    items += [Text(20, y + 4.5 * (i + 1), line) for i, line in enumerate(body)]
    path = tmp_path / "heading.pdf"
    write_placed(path, [items])
    article, _ = read_one(path)
    assert article.paragraphs == [" ".join(before), "Costs of Compliance", " ".join(body)]


def test_tilted_and_vertical_text_kept_and_a_repeated_margin_note_dropped(tmp_path):
    body = paragraphs(3, seed=9, per=(2, 2))
    pages = [column([par], 20, 30, 170)[0] for par in body]
    for items in pages:
        items.append(Text(200, 250, "jbell on DSK30NT082PROD with PROPOSALS", size=6, angle=90))
    pages[0].append(Text(40, 160, "Stand facing the wall with your toes apart.", angle=10))
    pages[1].append(Text(15, 200, "Tonnes per year", size=8, angle=90))
    path = tmp_path / "turned.pdf"
    write_placed(path, pages)
    article, _ = read_one(path)
    assert article.paragraphs == [
        body[0], "Stand facing the wall with your toes apart.", body[1], "Tonnes per year", body[2],
    ]


def test_raised_note_mark_before_a_word_is_spaced(tmp_path):
    path = tmp_path / "mark.pdf"
    write_placed(path, [[
        Text(20, 29, "8", size=6),
        Text(20 + text_width("8", size=6), 30, "MCAS is a function of the Speed Trim System."),
    ]])
    article, _ = read_one(path)
    assert article.paragraphs == ["8 MCAS is a function of the Speed Trim System."]


def test_passages_never_join_paragraphs_that_start_on_different_pages():
    from qa.index.indexer import article_passages

    article = Article(meta=ArticleMeta(), paragraphs=["One.", "Two.", "Three.", "Four.", "Five."],
                      pages=[1, 1, 2, 3, 3])
    passages = article_passages(article, lambda texts: [len(t.split()) for t in texts], 100)
    assert [(p.paragraph, p.paragraph_end, p.page, p.text) for p in passages] == [
        (1, 2, 1, "One.\nTwo."), (3, None, 2, "Three."), (4, 5, 3, "Four.\nFive."),
    ]


def test_short_lines_that_end_a_page_are_kept_in_its_passages():
    """A heading at a page's foot (its text on the next page) or a table's last rows."""
    from qa.index.indexer import article_passages

    article = Article(meta=ArticleMeta(), paragraphs=[
        "Body one.", "Closing heading", "Body two.", "Wheat 12.5 13.1", "Barley 8.2 7.9",
    ], pages=[1, 1, 2, 2, 2])
    passages = article_passages(article, lambda texts: [len(t.split()) for t in texts], 100)
    assert [(p.paragraph, p.paragraph_end, p.page, p.text) for p in passages] == [
        (1, 2, 1, "Body one.\nClosing heading"),
        (3, 5, 2, "Body two.\nWheat 12.5 13.1\nBarley 8.2 7.9"),
    ]


def test_pdfs_read_from_several_threads_at_once(report):
    """PDFium is not thread-safe; the reader serialises it."""
    from concurrent.futures import ThreadPoolExecutor

    path, placed = report
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _i: read_one(path)[0].paragraphs, range(4)))
    assert results == [placed.paragraphs] * 4


# --------------------------------------------------------------------------- hostile input


def test_encrypted_with_a_password_is_a_one_line_error(tmp_path):
    path = tmp_path / "locked.pdf"
    write_encrypted(path, user_password="s3cret")
    with pytest.raises(BadInputError, match="encrypted PDF; cannot read it without the password"):
        read_one(path)


def test_encrypted_with_an_empty_password_is_read(tmp_path):
    path = tmp_path / "owner-only.pdf"
    write_encrypted(path, user_password="", text="The harbour opens at dawn.")
    article, _ = read_one(path)
    assert article.paragraphs == ["The harbour opens at dawn."]


def test_image_only_pdf_warns_and_has_no_paragraphs(tmp_path):
    path = tmp_path / "scan.pdf"
    write_image_only(path)
    article, warnings = read_one(path)
    assert article.paragraphs == [] and article.pages == []
    assert article.meta.title == "Scanned letter"
    assert len(warnings) == 1 and "no text layer" in warnings[0] and "scan.pdf" in warnings[0]


@pytest.mark.parametrize("content", [
    b"",
    b"%PDF-1.7\n",
    b"%PDF-1.4\n1 0 obj << /Type /Catalog",
    b"<html><body>not a pdf</body></html>",
    bytes(range(256)) * 40,
])
def test_garbage_is_a_one_line_error(tmp_path, content):
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    with pytest.raises(BadInputError) as info:
        read_one(path)
    assert "\n" not in str(info.value) and str(info.value)


def test_truncated_pdf_is_a_one_line_error_or_keeps_what_it_can(tmp_path):
    path = tmp_path / "cut.pdf"
    write_report(path, paragraphs(12))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    try:
        article, _ = read_one(path)
    except BadInputError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(article.paragraphs, list)


def test_damaged_page_is_warned_and_the_others_kept(tmp_path, caplog, capsys):
    from pypdf import PdfWriter

    good = tmp_path / "good.pdf"
    placed = write_report(good, paragraphs(3), break_before={1, 2}, footer=False)
    writer = PdfWriter(clone_from=good)
    writer.pages[1]["/Contents"].get_object()._data = b"x\x9c this is not zlib data" * 3
    path = tmp_path / "damaged.pdf"
    writer.write(path)
    with caplog.at_level(logging.WARNING):
        article, warnings = read_one(path)
    assert article.paragraphs == [placed.paragraphs[0], placed.paragraphs[2]]
    assert article.pages == [1, 3]
    assert len(warnings) == 1 and "page 2" in warnings[0]
    assert caplog.records == []  # pypdf's own logging is silenced
    assert capsys.readouterr().err == ""


def test_pdf_suffix_is_registered():
    assert reader_for("Report.PDF") is read
