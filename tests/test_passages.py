"""Tests for qa.ingest.passages: sentence splitting, folding, and splitting to the token budget."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qa.ingest.text import decode_text, parse_article
from qa.embed.model import resolve_model
from qa.ingest.passages import Passage, make_passages, split_sentences, token_counter

MAX = 254  # 256-token window minus [CLS] and [SEP]
DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def count() -> Callable[[list[str]], list[int]]:
    """The default model's real token counter."""
    tokenizer_file = resolve_model(None).tokenizer_file
    assert tokenizer_file is not None
    return token_counter(tokenizer_file)


def words(texts: list[str]) -> list[int]:
    """A deterministic fake counter: one token per whitespace word."""
    return [len(t.split()) for t in texts]


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings."""
    return [text[s:e] for s, e in split_sentences(text)]


# --------------------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Mr. Smith met Dr. Jones in St. Louis. They talked.",
         ["Mr. Smith met Dr. Jones in St. Louis.", "They talked."]),
        ("The U.S. economy grew. Prices rose.", ["The U.S. economy grew.", "Prices rose."]),
        ("He moved to the U.S. The move was hard.", ["He moved to the U.S.", "The move was hard."]),
        ("Talks lasted 7.5 hours. Then they ended.", ["Talks lasted 7.5 hours.", "Then they ended."]),
        ("It began on Jan. 25, 2023 in Geneva. Fine.", ["It began on Jan. 25, 2023 in Geneva.", "Fine."]),
        ("J. R. R. Tolkien wrote it. Yes.", ["J. R. R. Tolkien wrote it.", "Yes."]),
        ("“We are ready,” he said.” Next came more.", ["“We are ready,” he said.”", "Next came more."]),
        ("“Why?” he asked. Nobody knew.", ["“Why?” he asked.", "Nobody knew."]),
        ("line one\nline two. Three", ["line one", "line two.", "Three"]),
        ("Wait... What happened?", ["Wait...", "What happened?"]),
        ("   ", []),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_sentence_spans_cover_all_content() -> None:
    text = "  A first one.  Then e.g. this one!\n\n  And 3.14 more?  Trailing  "
    spans = split_sentences(text)
    assert all(e > s for s, e in spans)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == "".join(text.split())


# --------------------------------------------------------------------------- folding


def test_one_passage_per_paragraph() -> None:
    paragraphs = [
        "The first paragraph has plenty of words and ends with a full stop.",
        "The second paragraph is also long enough to stand on its own here.",
    ]
    assert make_passages(paragraphs, words, MAX, pack_words=0) == [
        Passage(1, paragraphs[0]),
        Passage(2, paragraphs[1]),
    ]


def test_heading_is_prefixed_to_following_paragraph() -> None:
    paragraphs = [
        "The first paragraph has plenty of words and ends with a full stop.",
        "Various tracks",
        "In an interview, the spokesman said the sides were on completely different tracks.",
    ]
    assert make_passages(paragraphs, words, MAX, pack_words=0) == [
        Passage(1, paragraphs[0]),
        Passage(2, "Various tracks\n" + paragraphs[2], paragraph_end=3),
    ]


def test_short_fragment_is_appended_to_previous() -> None:
    paragraphs = [
        "The first paragraph has plenty of words and ends with a full stop.",
        "He agreed.",
        "Another paragraph follows with enough words to be a real paragraph.",
    ]
    assert make_passages(paragraphs, words, MAX, pack_words=0) == [
        Passage(1, paragraphs[0] + " He agreed.", paragraph_end=2),
        Passage(3, paragraphs[2]),
    ]


def test_trailing_heading_dropped_and_lone_fragment_kept() -> None:
    body = "The only real paragraph has plenty of words and ends with a full stop."
    assert make_passages([body, "Related stories"], words, MAX, pack_words=0) == [Passage(1, body)]
    assert make_passages(["Just a headline"], words, MAX, pack_words=0) == [Passage(1, "Just a headline")]
    assert make_passages([], words, MAX, pack_words=0) == []
    assert make_passages(["", "   "], words, MAX, pack_words=0) == []


def test_folding_respects_budget() -> None:
    body = " ".join(["word"] * 20) + "."
    # heading of 3 + body of 20 > 21: kept separate, never merged over budget
    passages = make_passages(["Big bold heading", body], words, 21)
    assert [p.text for p in passages] == ["Big bold heading", body]
    passages = make_passages([body, "Short one."], words, 21)
    assert [p.text for p in passages] == [body, "Short one."]


def test_seed_subheadings_are_folded(count: Callable[[list[str]], list[int]]) -> None:
    path = DATA / "realnoe-vremya-peskov-on-talks.txt"
    article = parse_article(decode_text(path.read_bytes()), path.suffix)
    passages = make_passages(article.paragraphs, count, MAX, pack_words=0)
    heading = "Biden’s statements raise concerns in the Kremlin"
    folded = [p for p in passages if p.text.startswith(heading + "\n")]
    assert len(folded) == 1
    assert folded[0].paragraph == article.paragraphs.index(heading) + 1
    assert heading not in [p.text for p in passages]


# --------------------------------------------------------------------------- long paragraphs


def check(passages: list[Passage], source: str, count: Callable[[list[str]], list[int]]) -> None:
    """Every passage non-empty, within budget, and made of verbatim pieces of ``source``."""
    assert passages
    assert max(count([p.text for p in passages])) <= MAX
    for passage in passages:
        assert passage.text.strip()
        for piece in passage.text.split("\n"):
            assert piece in source


def test_long_paragraph_split_at_sentences(count: Callable[[list[str]], list[int]]) -> None:
    sentence_list = [f"Sentence number {i} talks about the Kremlin and peace talks in Geneva." for i in range(80)]
    paragraph = " ".join(sentence_list)
    passages = make_passages(["Short intro paragraph with more than eight words here.", paragraph], count, MAX, pack_words=0)
    check(passages, paragraph + "Short intro paragraph with more than eight words here.", count)
    assert len(passages) >= 5
    long_parts = [p for p in passages if p.paragraph == 2]
    assert "".join(p.text for p in long_parts).replace(" ", "") == paragraph.replace(" ", "")
    for part in long_parts:  # cut at sentence boundaries only
        assert part.text.startswith("Sentence number") and part.text.endswith("Geneva.")


def tallied(count: Callable[[list[str]], list[int]]) -> tuple[Callable[[list[str]], list[int]], list[int]]:
    """`count`, plus a tally of the characters it was asked to tokenise (the splitter's work)."""
    tally = [0]

    def counting(texts: list[str]) -> list[int]:
        tally[0] += sum(len(t) for t in texts)
        return count(texts)

    return counting, tally


def test_huge_line_with_spaces(count: Callable[[list[str]], list[int]]) -> None:
    text = ("lorem ipsum dolor sit amet " * 8000)[:200_000]
    counting, tally = tallied(count)
    passages = make_passages([text], counting, MAX, pack_words=0)
    # Linear work: the text is tokenised a few times over, not once per passage (quadratic).
    assert tally[0] <= 4 * len(text)
    check(passages, text, count)
    assert len(passages) > 100


@pytest.mark.parametrize("unit", ["a", "x.y,", "日本語"])
def test_huge_line_without_spaces(unit: str, count: Callable[[list[str]], list[int]]) -> None:
    text = (unit * 200_000)[:200_000]
    counting, tally = tallied(count)
    passages = make_passages([text], counting, MAX, pack_words=0)
    assert tally[0] <= 4 * len(text)
    check(passages, text, count)
    assert "".join(p.text for p in passages) == text  # nothing lost


def test_over_budget_unsplittable_character_is_dropped() -> None:
    def per_char(texts: list[str]) -> list[int]:
        return [sum(5 if c == "#" else 1 for c in t if not c.isspace()) for t in texts]

    passages = make_passages(["ab#cd"], per_char, 4, pack_words=0)
    assert [p.text for p in passages] == ["ab", "cd"]


def test_non_additive_counter_still_within_budget() -> None:
    def padded(texts: list[str]) -> list[int]:  # joining costs one extra token per space
        return [len(t.split()) + t.count(" ") for t in texts]

    paragraph = " ".join(f"Word{i}." for i in range(100))
    passages = make_passages([paragraph], padded, 10)
    assert max(padded([p.text for p in passages])) <= 10
    assert " ".join(p.text for p in passages) == paragraph


def test_short_paragraphs_are_packed_with_neighbours_up_to_the_word_limit() -> None:
    paragraphs = [f"Paragraph {i} says one thing in exactly ten words now." for i in range(1, 8)]
    passages = make_passages(paragraphs, words, MAX, pack_words=30)
    # ten words each: three fit in 30 words, so 7 paragraphs make passages of 3, 3 and 1
    assert [(p.paragraph, p.paragraph_end) for p in passages] == [(1, 3), (4, 6), (7, None)]
    assert passages[0].text == "\n".join(paragraphs[:3])
    assert "".join(p.text.replace("\n", "") for p in passages) == "".join(paragraphs)


def test_packing_never_exceeds_the_token_budget() -> None:
    paragraphs = [" ".join(["word"] * 40) + "." for _ in range(6)]
    passages = make_passages(paragraphs, words, 100, pack_words=1000)
    assert all(len(p.text.split()) <= 100 for p in passages)
    assert [(p.paragraph, p.paragraph_end) for p in passages] == [(1, 2), (3, 4), (5, 6)]
