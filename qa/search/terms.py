"""Words of a question: one tokeniser for the lexical query, answer overlap and highlighting."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves tell say said says""".split()
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` (letters/digits, inner apostrophes kept)."""
    return [m.group(0).lower().replace("’", "'") for m in _WORD.finditer(text)]


def content_terms(text: str) -> list[str]:
    """The question's meaningful words: stopwords dropped, order kept, no repeats.

    Falls back to all words when the question is only stopwords ("who is he").
    """
    all_words = list(dict.fromkeys(words(text)))
    kept = [w for w in all_words if w not in STOPWORDS]
    return kept or all_words


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stem, enough to match 'tanks'/'tank' or 'talks'/'talked' when highlighting."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def stems_of(text: str) -> set[str]:
    """The stems of the words of ``text``."""
    return {stem(w) for w in words(text)}


def fts_query(text: str) -> str | None:
    """A safe FTS5 MATCH expression: each content term quoted, joined with OR.

    Quoting makes every FTS5 operator character (``" * ( ) : ^ -`` and the words AND/OR/NOT/NEAR)
    plain text, so no question can raise a syntax error. Returns None when there is no word at all.
    """
    terms = content_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def term_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Character spans of the words in ``text`` whose stem matches a stem of ``terms``."""
    wanted = {stem(t) for t in terms}
    return [(m.start(), m.end()) for m in _WORD.finditer(text) if stem(m.group(0)) in wanted]
