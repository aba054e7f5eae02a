"""How likely a passage answers the question: a small logistic model over query-time signals.

The fused score ranks candidates against each other; it says nothing about whether the best of
them answers at all. ``relevance`` does, as the product of two small logistic models:

- per hit, P(the passage answers, given that the archive answers the question) from signals that
  do not depend on the other candidates: the passage's cosine to the question, its best
  sentence's cosine, and the share of the question's content words it contains;
- per question, P(the archive answers it at all) from the best hit's log-odds, the names in the
  question the archive never mentions ("what did Macron say"), the share of its content words
  the archive never uses.

Both are fitted on labelled dev questions plus questions the archive cannot answer
(``bench/calibrate_relevance.py`` writes ``relevance.json`` beside this module). ``no_match``
is set when P(the archive answers) is under the threshold chosen there.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.search.terms import stem

FEATURES = ("passage_cosine", "sentence_cosine", "term_coverage")
QUESTION_INPUTS = ("best_hit_logit", "unknown_names", "missing_terms")
MODEL_FILE = Path(__file__).with_name("relevance.json")


@dataclass(frozen=True)
class RelevanceModel:
    """Two logistic models: per hit (does this passage answer?) and per question (does the
    archive answer at all?, from the best hit's log-odds and the unknown names)."""

    weights: tuple[float, ...]
    bias: float
    question_weights: tuple[float, ...]
    question_bias: float
    threshold: float

    def hit_probability(self, features: np.ndarray) -> float:
        """P(this passage answers | its own signals, the archive answering the question)."""
        return _sigmoid(float(np.dot(self.weights, features)) + self.bias)

    def answerable(self, best_hit: float, unknown_names: int, missing_terms: float) -> float:
        """P(the archive answers the question at all)."""
        inputs = np.array([_logit(best_hit), min(unknown_names, 2), missing_terms])
        return _sigmoid(float(np.dot(self.question_weights, inputs)) + self.question_bias)

    def judge(
        self, hit_features: list[np.ndarray], unknown_names: int, missing_terms: float
    ) -> tuple[list[float], bool]:
        """(each hit's relevance, no_match).

        relevance = P(the archive answers the question) x P(this passage answers | it does);
        no_match when P(the archive answers) is under the threshold.
        """
        hits = [self.hit_probability(f) for f in hit_features]
        if not hits:
            return [], True
        question = self.answerable(max(hits), unknown_names, missing_terms)
        return [h * question for h in hits], question < self.threshold


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@lru_cache(maxsize=1)
def model() -> RelevanceModel:
    """The shipped model (fitted by bench/calibrate_relevance.py)."""
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{MODEL_FILE} is for features {data['features']}, not {FEATURES}")
    q = data["question"]
    if tuple(q["inputs"]) != QUESTION_INPUTS:
        raise ValueError(f"{MODEL_FILE} question model is for {q['inputs']}, not {QUESTION_INPUTS}")
    return RelevanceModel(
        tuple(float(w) for w in data["weights"]), float(data["bias"]),
        tuple(float(w) for w in q["weights"]), float(q["bias"]), float(data["threshold"]),
    )


def term_coverage(text_stems: set[str], terms: list[str]) -> float:
    """Share of the question's content terms (stemmed) among the stems of a text."""
    wanted = {stem(t) for t in terms}
    if not wanted:
        return 0.0
    return len(wanted & text_stems) / len(wanted)


def names(question: str) -> list[str]:
    """Words of the question that name something: capitalised (not the first word) or all caps.

    A question about someone or something the archive never mentions ("what did Macron say")
    cannot be answered from it, however close its other words come.
    """
    found = []
    for i, match in enumerate(_TOKEN.finditer(question)):
        word = match.group(0)
        if len(word) > 1 and word[0].isupper() and (i > 0 or word.isupper()):
            if word.lower() not in _CALENDAR:
                found.append(word)
    return list(dict.fromkeys(found))


_TOKEN = re.compile(r"[^\W\d_][\w-]*")  # "Putin's" -> "Putin"
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)


def features(passage_cosine: float, sentence_cosine: float, coverage: float) -> np.ndarray:
    return np.array([passage_cosine, sentence_cosine, coverage], dtype=np.float64)


def question_signals(
    question: str, terms: list[str], mentions: Callable[[str], bool]
) -> tuple[int, float]:
    """Question-level evidence: (names the archive never mentions, share of the question's
    content terms it never uses)."""
    unknown = sum(not mentions(name) for name in names(question))
    missing = sum(not mentions(term) for term in terms) / len(terms) if terms else 0.0
    return unknown, missing
