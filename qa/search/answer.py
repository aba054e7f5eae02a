"""Pick the sentence inside a passage that answers the question.

Each sentence of a hit gets a few cheap signals (:data:`FEATURES`): its own cosine to the question
(sentence vectors are late-chunked at indexing, so no model runs here) and how far it is from the
passage's best; which of the question's words it holds, each weighted by how rare it is among the
sentences of this question's hits; the names the question asks about; whether it holds the kind of
answer the question expects (a number for "how many", a date for "when", speech for "what did X
say": :mod:`qa.search.answer_types`); its place (the article's first paragraph carries a news
story's main facts) and length; its neighbours' cosines. A linear model over them, fitted on
labelled dev questions (``bench/fit_answer.py`` writes ``answer.json`` beside this module), ranks
the sentences; the best is the answer. When it opens with a pronoun or continues a quotation and
the sentence before it fits, both are shown (at most :data:`MAX_ANSWER_WORDS` words), so the
reader sees who is speaking or what "it" is.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from qa.search.answer_types import SPEECH, question_kind, sentence_kinds
from qa.search.relevance import names as question_names
from qa.search.terms import stem, stems_of

FEATURES = (
    "cosine", "cosine_gap", "overlap", "rare_overlap", "names", "kind_match", "kind_miss",
    "speech", "speaker", "lede", "first_in_passage", "position", "log_words", "neighbour_cosine",
)
MODEL_FILE = Path(__file__).with_name("answer.json")
MAX_ANSWER_WORDS = 60
_OPENS_WITH_REFERENCE = re.compile(
    r"^[\"“‘']?(?:he|she|it|they|this|that|these|those|his|her|its|their|the\s+(?:spokesman|"
    r"spokeswoman|official|minister|company|firm|group|bank|president|chancellor))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    """What the answer choice needs to know about a question, computed once per question."""

    text: str
    stems: frozenset[str]
    name_stems: frozenset[str]
    kind: str | None

    @classmethod
    def of(cls, text: str, terms: Sequence[str]) -> Question:
        return cls(
            text,
            frozenset(stem(t) for t in terms),
            frozenset(stem(n) for n in question_names(text)),
            question_kind(text),
        )


@dataclass(frozen=True)
class Passage:
    """A hit's passage as the answer choice sees it."""

    text: str
    spans: np.ndarray  # (n, 2) sentence character spans
    vectors: np.ndarray  # (n, dim) normalised sentence vectors
    paragraph: int  # the article paragraph the passage starts at (1 = the lede)
    speakers: Sequence[str | None] | None = None  # who each sentence quotes, when known

    def sentences(self) -> list[str]:
        return [self.text[a:b] for a, b in self.spans]

    @cached_property
    def stems(self) -> list[frozenset[str]]:
        """The stemmed words of each sentence (computed once per passage)."""
        return [_stems(sentence) for sentence in self.sentences()]


def rarity(passages: Sequence[Passage], question: Question) -> dict[str, float]:
    """Weight of each question word: rarer among the sentences of these hits weighs more."""
    counts: Counter[str] = Counter()
    total = 0
    for passage in passages:
        for found in passage.stems:
            counts.update(question.stems & found)
            total += 1
    return {s: math.log((total + 1) / (counts[s] + 0.5)) for s in question.stems}


def features(
    question: Question, passage: Passage, query_vector: np.ndarray, weights: dict[str, float],
    speaker: str | None = None,
) -> np.ndarray:
    """(n sentences, len(FEATURES)) signals for each sentence of ``passage``."""
    sentences = passage.sentences()
    n = len(sentences)
    cosines = passage.vectors.astype(np.float32) @ query_vector.astype(np.float32)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    total = sum(weights.values()) or 1.0
    paragraphs = _paragraph_of(passage)
    wanted = {question.kind} if question.kind is not None else set()
    for i, sentence in enumerate(sentences):
        found = passage.stems[i]
        kinds = sentence_kinds(sentence, wanted) if wanted else frozenset()
        matched = question.stems & found
        out[i, 0] = cosines[i]
        out[i, 1] = cosines[i] - cosines.max()
        out[i, 2] = len(matched) / len(question.stems) if question.stems else 0.0
        out[i, 3] = sum(weights.get(s, 0.0) for s in matched) / total
        out[i, 4] = (len(question.name_stems & found) / len(question.name_stems)
                     if question.name_stems else 0.0)
        if question.kind is not None:
            out[i, 5] = float(question.kind in kinds)
            out[i, 6] = float(question.kind not in kinds)
        out[i, 7] = float(SPEECH in kinds) * float(question.kind == SPEECH)
        if speaker is not None and passage.speakers is not None:
            out[i, 8] = float(passage.speakers[i] == speaker)
        out[i, 9] = float(passage.paragraph + paragraphs[i] == 1)
        out[i, 10] = float(i == 0)
        out[i, 11] = i / max(n - 1, 1)
        out[i, 12] = math.log1p(sentence.count(" ") + 1)
        neighbours = [cosines[j] for j in (i - 1, i + 1) if 0 <= j < n]
        out[i, 13] = max(neighbours) if neighbours else cosines[i]
    return out


@lru_cache(maxsize=65536)
def _stems(sentence: str) -> frozenset[str]:
    return frozenset(stems_of(sentence))


def _paragraph_of(passage: Passage) -> list[int]:
    """For each sentence, how many paragraph breaks precede it inside the passage."""
    breaks = [m.start() for m in re.finditer("\n", passage.text)]
    return [sum(b < start for b in breaks) for start, _ in passage.spans]


@dataclass(frozen=True)
class AnswerModel:
    """A linear score over :data:`FEATURES` (fitted by bench/fit_answer.py)."""

    weights: np.ndarray
    widen: float = 1.01  # show a neighbour too when it is this likely relative to the best

    def scores(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weights


@lru_cache(maxsize=1)
def model() -> AnswerModel:
    """The shipped model."""
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{MODEL_FILE} is for features {data['features']}, not {FEATURES}")
    return AnswerModel(np.asarray(data["weights"], dtype=np.float64), float(data.get("widen", 1.01)))


@dataclass(frozen=True)
class Choice:
    """The answer inside one passage: its character span, and the best sentence cosine."""

    start: int
    end: int
    best_cosine: float
    sentence: int  # index of the chosen sentence


def choose(
    question: Question, passage: Passage, query_vector: np.ndarray, weights: dict[str, float],
    speaker: str | None = None, answer_model: AnswerModel | None = None,
    speaker_only: bool = False,
) -> Choice:
    """The answer of ``passage``: its best sentence, widened as :func:`pick` says.

    ``speaker``: the person a "what did X say" question asks about, as this passage's quotes
    name them (the model's speaker signal); ``speaker_only``: the question asks nothing but
    what X said ("what did Blinken warn"), so the answer is one of X's sentences when the
    passage has any."""
    if len(passage.spans) == 0:
        return Choice(0, len(passage.text), 0.0, 0)
    current = answer_model or model()
    x = features(question, passage, query_vector, weights, speaker)
    scores = current.scores(x)
    if speaker_only and speaker is not None and passage.speakers is not None:
        theirs = np.array([s == speaker for s in passage.speakers], dtype=bool)
        if theirs.any():
            scores = np.where(theirs, scores, -np.inf)
    chosen = pick(passage, scores, current.widen)
    return Choice(chosen.start, chosen.end, float(x[:, 0].max()), chosen.sentence)


def pick(passage: Passage, scores: np.ndarray, widen: float) -> Choice:
    """The best-scoring sentence, with a neighbour when the reader needs it.

    The sentence before is added when the best one opens with a pronoun or a title ("He
    added", "The spokesman said") or continues a quotation; either neighbour is added when the
    model finds it nearly as likely to answer (its softmax probability at least ``widen`` times
    the best's). The answer stays within :data:`MAX_ANSWER_WORDS` words.
    """
    best = int(np.argmax(scores))
    probability = np.exp(scores - scores[best])
    start, end = (int(v) for v in passage.spans[best])
    candidates = []
    if best > 0 and _needs_context(passage.text[start:end]):
        candidates.append((2.0, best - 1))
    for j in (best - 1, best + 1):
        if 0 <= j < len(scores) and probability[j] >= widen:
            candidates.append((float(probability[j]), j))
    for _, j in sorted(candidates, reverse=True):
        a = min(start, int(passage.spans[j][0]))
        b = max(end, int(passage.spans[j][1]))
        if len(passage.text[a:b].split()) <= MAX_ANSWER_WORDS:
            return Choice(a, b, 0.0, best)
    return Choice(start, end, 0.0, best)


def _needs_context(sentence: str) -> bool:
    """A sentence whose subject is a pronoun or title ("He added", "The spokesman said"), or a
    quotation's continuation, reads wrongly alone."""
    return bool(_OPENS_WITH_REFERENCE.match(sentence.strip()))
