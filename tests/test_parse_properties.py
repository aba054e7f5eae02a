"""Property test: parse_article + make_passages never fail and never invent text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.embed.model import resolve_model
from qa.ingest.paragraphs import normalise_lines
from qa.ingest.passages import make_passages, token_counter
from qa.ingest.text import parse_article

MAX = 254

_ALPHABET = st.one_of(
    st.sampled_from(list("abcdeXYZ .,!?;:'\"“”‘’()-—…#*_[]|©\n\n\n\t\r\u00a0\u2003\ufeff0123456789")),
    st.characters(codec="utf-8", exclude_categories=("Cs",)),
)
_WORDS = st.sampled_from(
    ["Kremlin", "said", "Mr.", "U.S.", "7.5", "Photo:", "By", "Title:", "---", "# Head",
     "cookies", "0:00", "https://x.example/a", "25.01.2023", "icon", "Read more", "\n\n", "\n",
     "http://[x", "Privacy Policy |", "©", "Sign up for our newsletter", "subscribers only", "|",
     "Log Out", "Tuesday, 1 March"]
)
TEXTS = st.one_of(
    st.text(_ALPHABET, max_size=400),
    st.lists(st.one_of(_WORDS, st.text(_ALPHABET, max_size=12)), max_size=120).map(" ".join),
    st.text(st.sampled_from(list("ab .")), min_size=3000, max_size=6000),
)

_COUNT: list[Callable[[list[str]], list[int]]] = []


def count(texts: list[str]) -> list[int]:
    """The real tokenizer, loaded once per session."""
    if not _COUNT:
        tokenizer_file = resolve_model(None).tokenizer_file
        assert tokenizer_file is not None
        _COUNT.append(token_counter(tokenizer_file))
    return _COUNT[0](texts)


@pytest.mark.parametrize("suffix", [".txt", ".md"])
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_parse_and_passages_never_invent_text(suffix: str, text: str) -> None:
    dropped: list[tuple[str, str]] = []
    article = parse_article(text, suffix, dropped=dropped)
    source = " ".join(line for line in normalise_lines(text) if line)
    for paragraph in article.paragraphs:
        assert paragraph and paragraph == paragraph.strip() and "\n" not in paragraph
        if suffix == ".txt":  # markdown markup is removed, plain text only regrouped
            assert paragraph in source
    for reason, paragraph in dropped:
        assert reason and paragraph
    cleaned = " ".join(article.paragraphs)
    passages = make_passages(article.paragraphs, count, MAX)
    if passages:
        assert max(count([p.text for p in passages])) <= MAX
    for passage in passages:
        assert passage.text.strip()
        assert 1 <= passage.paragraph <= len(article.paragraphs)
        for piece in passage.text.split("\n"):
            assert piece and piece in cleaned
