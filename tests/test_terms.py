import sqlite3

import pytest

from qa.search.terms import content_terms, fts_query, stem, term_spans


def test_content_terms_drop_stopwords_and_repeats():
    assert content_terms("What did Peskov say about the tanks, the TANKS?") == ["peskov", "tanks"]


def test_only_stopwords_falls_back_to_all_words():
    assert content_terms("who is he") == ["who", "is", "he"]


def test_stem_matches_plural_and_possessive():
    assert stem("tanks") == stem("tank") == "tank"
    assert stem("Peskov’s") == "peskov"


def test_term_spans_find_inflected_words():
    text = "Abrams tanks will burn as other tanks; the tank is expensive."
    spans = term_spans(text, ["tank"])
    assert [text[a:b] for a, b in spans] == ["tanks", "tanks", "tank"]


HOSTILE = [
    '"AND OR NOT * ( ) NEAR:',
    'NEAR(a b) OR "unterminated',
    "col:val ^start -minus +plus {a b}",
    "' ; DROP TABLE passages; --",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and émoji 🙂 “quotes”",
]


@pytest.mark.parametrize("question", HOSTILE)
def test_fts_query_never_breaks_fts5(question):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61')")
    conn.execute("INSERT INTO t VALUES ('and or not near start minus unicode quotes')")
    match = fts_query(question)
    if match is not None:
        conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()


def test_fts_query_of_punctuation_only_is_none():
    assert fts_query('"*()^:') is None
