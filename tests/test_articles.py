"""Tests for qa.ingest.text: decoding, junk removal, metadata, the seeds and the BBC corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.ingest.article import Article
from qa.ingest.dates import find_date
from qa.ingest.decode import decode_text, looks_binary
from qa.ingest.junk import RULES, junk_rule
from qa.ingest.outlet import find_outlet
from qa.ingest.paragraphs import normalise_lines, paragraphs
from qa.ingest.text import parse_article

DATA = Path(__file__).parents[1] / "data"
BBC = Path(__file__).parents[2] / "shared" / "corpora" / "bbc"

JUNK = [
    "icon bookmark",
    "cameraicon",
    "This website uses cookies",
    "Leave a Reply",
    "Additional reporting by",
    "Podcasts",
    "0:00",
    "25:44",
    "27:19",
    "contains only a portion of the news stories",
    "Please contact us for subscription options",
    "Photo: Ramil Sitdikov",
    "FILE PHOTO",
    "Elena Teslova",
    "25.01.2023",
    "24 Dec, 2024",
    "Tatiana Dyomina",
]
LABELS = {"Russia-Ukraine War", "Social Media", "MOSCOW"}


def seed(name: str) -> Article:
    """Parse one seed article from data/."""
    path = DATA / name
    return parse_article(decode_text(path.read_bytes()), path.suffix)


def all_seeds() -> list[Path]:
    """The seed article files."""
    return sorted(DATA.glob("*.txt"))


def test_five_seeds_present() -> None:
    assert len(all_seeds()) == 5


@pytest.mark.parametrize("path", all_seeds(), ids=lambda p: p.stem)
def test_no_junk_survives(path: Path) -> None:
    article = parse_article(decode_text(path.read_bytes()), path.suffix)
    assert article.paragraphs
    for paragraph in article.paragraphs:
        assert "\n" not in paragraph and paragraph == paragraph.strip() and paragraph
        assert "\xa0" not in paragraph and "  " not in paragraph
        assert paragraph not in LABELS
        assert paragraph != article.meta.title
        for junk in JUNK:
            assert junk not in paragraph, (junk, paragraph)


def test_anadolu_seed() -> None:
    article = seed("anadolu-kremlin-no-prospects-for-peace-talks.txt")
    assert article.meta.title == "Kremlin says 'no prospects' for resumption of Russia-Ukraine peace talks"
    assert article.meta.outlet == "Anadolu Agency"
    assert article.meta.date == "2023-01-25"
    assert article.meta.author == "Elena Teslova"
    assert article.meta.url is None
    assert article.paragraphs[0].startswith("Kremlin spokesman Dmitry Peskov said on Wednesday")
    assert article.paragraphs[-1].startswith('Such "delusions" are fraught')
    assert any(
        p.startswith('Peskov said if Abrams tanks are delivered to Ukraine, they "will burn as other tanks,"')
        for p in article.paragraphs
    )
    # the standfirst belongs to the header, not the body
    assert not any(p.startswith("Spokesman Peskov says") for p in article.paragraphs)
    assert len(article.paragraphs) == 16


def test_rt_style_seed() -> None:
    article = seed("kremlin-comments-on-prospect-of-peace-talks.txt")
    assert article.meta.title == "Kremlin comments on prospect of Ukraine peace talks"
    assert article.meta.date == "2024-12-24"
    assert article.meta.author is None
    assert article.paragraphs[0] == (
        "Ukraine has shown no sign that it is ready to hold peace talks with Russia, "
        "Kremlin spokesman Dmitry Peskov has said."
    )
    assert article.paragraphs[-1].startswith("Moscow has ruled out any freeze of the conflict")
    assert article.paragraphs[-1].endswith("Zaporozhye regions.")
    assert "“remains open to talks”" in article.paragraphs[1]  # curly quotes kept
    assert len(article.paragraphs) == 8


def test_little_ground_seed() -> None:
    article = seed("little-ground-for-optimism.txt")
    assert article.meta.title == "‘Little ground for optimism’ after latest Ukraine talks, warns Russia"
    assert article.meta.outlet is None  # 'Additional reporting by Reuters' is a credit, not the outlet
    assert article.meta.date is None
    assert article.paragraphs[0].startswith("There is “little ground for optimism”")
    assert article.paragraphs[-1].startswith("Meanwhile, the west has sent weapons")
    assert "“Nothing has changed, this is the bad news,” Mr Kuleba said." in article.paragraphs


def test_no_blank_lines_seed_is_one_paragraph_per_line() -> None:
    article = seed("peskov-tension-on-border-too-high.txt")
    assert article.meta.title == (
        "Kremlin spokesman Peskov: tension on the border between Russia and Ukraine is too high"
    )
    assert article.meta.outlet is None  # 'writes Bloomberg' is a citation
    assert article.paragraphs[0].startswith("Kremlin spokesman Dmitry Peskov said that there is too much")
    assert "Various tracks" in article.paragraphs  # in-body subheading kept
    assert "Again “Russian” hackers" in article.paragraphs
    assert article.paragraphs[-1].startswith("After the deputy secretary")
    assert len(article.paragraphs) == 16


def test_realnoe_vremya_seed() -> None:
    article = seed("realnoe-vremya-peskov-on-talks.txt")
    assert article.meta.outlet == "Realnoe Vremya"  # self-reference, not 'TASS' (cited)
    assert article.meta.author == "Tatiana Dyomina"
    assert article.meta.title == (
        "Peskov on Russian-Ukrainian talks: ‘We cannot yet talk about progress and we will not’"
    )
    assert "Biden’s statements raise concerns in the Kremlin" in article.paragraphs
    assert article.paragraphs[-1].startswith("“This is rubbish, fabrication.")
    assert article.paragraphs[0].startswith("The Russian president’s spokesman Dmitry Peskov")


# --------------------------------------------------------------------------- decoding


def test_decode_utf8_strips_bom() -> None:
    assert decode_text("\ufeffCafé “quoted”".encode()) == "Café “quoted”"


def test_decode_invalid_utf8_falls_back() -> None:
    assert decode_text("Café déjà vu".encode("latin-1")) == "Café déjà vu"
    assert decode_text(b"smart \x93quotes\x94") == "smart “quotes”"  # cp1252
    assert decode_text(b"\x81\x8d\xff") == "\x81\x8d\xff"  # undefined in cp1252: latin-1


def test_decode_utf16_with_bom() -> None:
    data = "\ufeffHello world".encode("utf-16-le")
    assert decode_text(b"\xff\xfe" + data[2:]) == "Hello world"
    assert not looks_binary(b"\xff\xfe" + data[2:])


def test_looks_binary() -> None:
    assert looks_binary(b"\x00\x01\x02binary\x00data")
    assert looks_binary(b"%PDF-1.4 something")
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary("Plain text.\nWith lines.\n".encode())
    assert not looks_binary("Ünïcödé “text”".encode())
    assert not looks_binary(b"")


# --------------------------------------------------------------------------- structure


def test_empty_and_whitespace_text() -> None:
    for text in ["", "   ", "\n\n\t\n", "\xa0\u2003\n"]:
        article = parse_article(text)
        assert article.paragraphs == []
        assert article.meta.title is None


def test_markdown_front_matter_and_inline_markup() -> None:
    text = (
        "---\n"
        'title: "Market rallies on rate hopes"\n'
        "source: Example News\n"
        "date: 2023-01-25T10:00:00Z\n"
        "author: Jane Doe\n"
        "url: https://example.com/markets/rally\n"
        "---\n\n"
        "# Market rallies on rate hopes\n\n"
        "![chart](https://example.com/chart.png)\n\n"
        "Stocks rose **sharply** on Tuesday as _investors_ bet on [lower rates](https://x.y/z) soon.\n\n"
        "## Analysts react\n\n"
        "Analysts said the move was *widely expected* by markets and traders alike.\n"
    )
    article = parse_article(text, ".md")
    assert article.meta.title == "Market rallies on rate hopes"
    assert article.meta.outlet == "Example News"
    assert article.meta.date == "2023-01-25"
    assert article.meta.author == "Jane Doe"
    assert article.meta.url == "https://example.com/markets/rally"
    assert article.paragraphs == [
        "Stocks rose sharply on Tuesday as investors bet on lower rates soon.",
        "Analysts react",
        "Analysts said the move was widely expected by markets and traders alike.",
    ]


def test_txt_leading_key_lines_are_metadata() -> None:
    text = (
        "Title: Port strike ends after deal\nSource: Harbour Times\nURL: https://www.harbour.example/a\n"
        "Date: Jan. 5, 2024\n\nDock workers returned to work on Friday after a pay deal was agreed.\n"
    )
    article = parse_article(text)
    assert (article.meta.title, article.meta.outlet, article.meta.url, article.meta.date) == (
        "Port strike ends after deal", "Harbour Times", "https://www.harbour.example/a", "2024-01-05",
    )
    assert article.paragraphs == ["Dock workers returned to work on Friday after a pay deal was agreed."]


def test_url_line_gives_url_and_domain_outlet() -> None:
    text = (
        "Council approves new bridge plan\n\nhttps://www.citynews.example/2022/03/04/bridge\n\n"
        "By John Smith\n\nThe city council approved the long-debated bridge plan on Thursday evening.\n"
    )
    article = parse_article(text)
    assert article.meta.url == "https://www.citynews.example/2022/03/04/bridge"
    assert article.meta.outlet == "citynews.example"
    assert article.meta.author == "John Smith"
    assert article.meta.date == "2022-03-04"
    assert article.paragraphs == [
        "The city council approved the long-debated bridge plan on Thursday evening."
    ]


def test_hard_wrapped_lines_are_joined() -> None:
    text = (
        "Wrapped headline for the test\n\n"
        "The committee met on Monday to discuss the\n"
        "budget, and members agreed that spending\n"
        "should fall next year.\n"
        "A second paragraph starts on its own line.\n"
    )
    article = parse_article(text)
    assert article.paragraphs == [
        "The committee met on Monday to discuss the budget, and members agreed that spending "
        "should fall next year.",
        "A second paragraph starts on its own line.",
    ]


def test_copyright_and_caption_junk() -> None:
    text = (
        "Rain floods the valley towns overnight\n\n"
        "Image: Flooded street in the valley\n\n"
        "Heavy rain flooded several valley towns overnight, officials said on Sunday.\n\n"
        "Advertisement\n\nRead more: Storm season begins early\n\n"
        "Residents were moved to shelters as the river rose above its banks.\n\n"
        "Editing by Mark Brown\n\n© 2024 Reuters. All rights reserved.\n"
    )
    article = parse_article(text)
    assert article.meta.outlet == "Reuters"
    assert article.paragraphs == [
        "Heavy rain flooded several valley towns overnight, officials said on Sunday.",
        "Residents were moved to shelters as the river rose above its banks.",
    ]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("25.01.2023", "2023-01-25"),
        ("24 Dec, 2024 15:04", "2024-12-24"),
        ("January 25, 2023", "2023-01-25"),
        ("2023-01-25", "2023-01-25"),
        ("Jan. 25, 2023", "2023-01-25"),
        ("Published 3rd March 2021", "2021-03-03"),
        ("31.02.2023", None),
        ("no date here", None),
    ],
)
def test_find_date(text: str, iso: str | None) -> None:
    hit = find_date(text)
    assert (hit[0] if hit else None) == iso


def test_nbsp_and_unicode_spaces_normalised() -> None:
    text = "Headline with\u00a0spaces here\n\nFirst\u2003body  sentence\u202fis here and it is long enough.\n"
    article = parse_article(text)
    assert article.meta.title == "Headline with spaces here"
    assert article.paragraphs == ["First body sentence is here and it is long enough."]


# --------------------------------------------------------------------------- BBC corpus


@pytest.mark.slow
@pytest.mark.skipif(not BBC.is_dir(), reason="shared BBC corpus not available")
def test_bbc_corpus_parses_and_no_junk_rule_fires() -> None:
    files = sorted(BBC.glob("*/*.txt"))
    assert len(files) >= 2000
    junk_names = {rule.name for rule in RULES} | {"media-label"}
    fired: list[tuple[str, str]] = []
    for path in files:
        text = decode_text(path.read_bytes())
        dropped: list[tuple[str, str]] = []
        article = parse_article(text, path.suffix, dropped=dropped)
        first_line = " ".join(text.strip().splitlines()[0].split())
        assert article.meta.title == first_line, path
        assert article.paragraphs, path
        assert first_line not in article.paragraphs, path
        fired += [(reason, par) for reason, par in dropped if reason in junk_names]
    # BBC files hold no page junk: a junk rule may only drop text-free lines ('.')
    assert all(reason == "no-text" for reason, _ in fired), fired


@pytest.mark.skipif(not BBC.is_dir(), reason="shared BBC corpus not available")
def test_bbc_lead_without_full_stop_is_kept() -> None:
    path = BBC / "business" / "071.txt"
    lead = "Japanese brewers are increasingly making money from beer-flavoured drinks rather than beer itself"
    assert lead in decode_text(path.read_bytes())
    article = parse_article(decode_text(path.read_bytes()))
    assert article.paragraphs[0] == lead


# --------------------------------------------------------------------------- rules on other outlets' text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Sign up for our free newsletter", "paywall-blurb"),
        ("Subscribe to our daily newsletter for the latest headlines.", "paywall-blurb"),
        ("This article is for subscribers only.", "paywall-blurb"),
        ("Log in or register to continue reading.", "paywall-blurb"),
        ("The Daily Planet app offers a selection of our reporting; the full edition is in print.",
         "paywall-blurb"),
        ("Please contact us for subscription options.", "paywall-blurb"),
        ("Privacy Policy", "ui-label"),
        ("Log Out", "ui-label"),
        ("Share on Facebook", "ui-label"),
        ("12 Comments", "ui-label"),
        ("Home > World > Europe", "breadcrumb"),
        ("We use cookies to give you the best experience. By continuing you agree.", "cookie-notice"),
        ("© 2021 Example Media Group", "copyright"),
        ("Copyright 2019 The Example Post", "copyright"),
        ("Editing by Jane Roe and John Poe", "credit"),
        ("Read more: Floods hit the north again", "read-more"),
        ("A rescue worker carries a child. Photo: Jan Novak / AFP", "caption"),
        ("icon-facebook icon-twitter icon-mail fa-print", "menu"),
        ("03:12", "player-time"),
        ("• • •", "no-text"),
    ],
)
def test_junk_rules_on_other_outlets_furniture(text: str, rule: str) -> None:
    assert junk_rule(text) == rule


@pytest.mark.parametrize(
    "text",
    [
        "AOL lost 464,000 subscribers in the fourth quarter, the company said.",
        "The service had 2 million subscribers by March, up from 1.5 million a year earlier.",
        "Copyright law must change to protect musicians, the report argues.",
        "The company said it would stop using cookies to track visitors from next year.",
        "Police released a photo: a man in a grey coat leaving the bank at 9pm.",
        "The website contains details of every candidate standing in the election.",
        "Share prices rose sharply on Monday after the results were announced.",
        "Register offices will open on Saturdays from next month, the council said.",
        "The service offers some discounts to pensioners who travel off-peak.",
        "The app offers a selection of recipes chosen by the chef.",
    ],
)
def test_news_sentences_are_not_junk(text: str) -> None:
    assert junk_rule(text) is None


@pytest.mark.parametrize(
    ("blurb", "outlet"),
    [
        ("Example Times website contains only a portion of its reports, in summarized form.",
         "Example Times"),
        ("The Daily Planet app offers a selection of our reporting. Subscribe for full access.",
         "Daily Planet"),
        ("© 2022 Harbour News Ltd. All rights reserved.", "Harbour News Ltd"),
        ("Find out more in Example Radio’s interview with the mayor.", "Example Radio"),
    ],
)
def test_outlet_from_self_references(blurb: str, outlet: str) -> None:
    assert find_outlet(["The council met on Monday to discuss the new budget plan.", blurb]) == outlet


@pytest.mark.parametrize(
    "citation",
    [
        "The talks will continue next week, writes Bloomberg.",
        "According to Reuters, the deal was signed on Friday.",
        "Additional reporting by Reuters",
        "Subscribers of the Example Times complained about the price rise, the paper said.",
    ],
)
def test_cited_sources_are_not_the_outlet(citation: str) -> None:
    assert find_outlet(["The council met on Monday to discuss the new budget plan.", citation]) is None


def test_lead_kept_but_repeated_pull_quote_dropped() -> None:
    lead = "Ministers have agreed a new plan to cut waiting times in hospitals across the country"
    quote = "“We will not stop until every patient is seen on time”"
    text = (f"Hospital waits plan agreed\n\n{quote}\n\n{lead}\n\n"
            "The plan was agreed on Monday. “We will not stop until every patient is seen on time,” "
            "the health minister said.\n")
    dropped: list[tuple[str, str]] = []
    article = parse_article(text, dropped=dropped)
    assert article.paragraphs[0] == lead
    assert quote not in article.paragraphs and ("header", quote) in dropped


def test_link_row_and_ui_label_are_not_author() -> None:
    text = ("Storm closes ports along the coast\n\nPrivacy Policy |\n\n"
            "Ports along the coast were closed on Sunday as the storm moved north.\n\nLog Out\n")
    article = parse_article(text)
    assert article.meta.author is None
    assert article.paragraphs == ["Ports along the coast were closed on Sunday as the storm moved north."]


def test_url_with_unclosed_bracket_does_not_raise() -> None:
    article = parse_article("Title of the story here\n\nhttp://[abc\n\nSome body text that is long enough.\n")
    assert article.meta.url == "http://[abc" and article.meta.outlet is None


@pytest.mark.parametrize("path", all_seeds(), ids=lambda p: p.stem)
def test_every_seed_paragraph_is_kept_or_has_a_reason(path: Path) -> None:
    text = decode_text(path.read_bytes())
    dropped: list[tuple[str, str]] = []
    article = parse_article(text, path.suffix, dropped=dropped)
    found = paragraphs(normalise_lines(text))
    assert sorted(found) == sorted(article.paragraphs + [par for _, par in dropped])
