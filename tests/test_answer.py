"""The answer-sentence choice: answer kinds, features, the model and the shown span."""

from __future__ import annotations

import numpy as np
import pytest

from qa.ingest.passages import split_sentences
from qa.search import answer as A
from qa.search.answer_types import (
    DATE, NUMBER, PERSON, PLACE, REASON, SPEECH, question_kind, sentence_kinds,
)
from qa.search.terms import content_terms


@pytest.mark.parametrize("question, kind", [
    ("how many soldiers has Moscow massed near Ukraine", NUMBER),
    ("How much did France's economy expand over 2004", NUMBER),
    ("what percentage of voters back the constitution", NUMBER),
    ("when did the Russia-NATO Council meet", DATE),
    ("in what year was the ban imposed", DATE),
    ("who is leaving the band Busted", PERSON),
    ("which official accused the Americans", PERSON),
    ("where is the Charlotte's Web movie being shot", PLACE),
    ("which country is hosting the talks", PLACE),
    ("why did the greenback climb", REASON),
    ("what did Peskov say about the tanks", SPEECH),
    ("how did Moscow react to the sanctions", SPEECH),
    ("how did Lord Janner respond to the costume", SPEECH),
    ("what does the Kremlin think of the plan", SPEECH),
    ("Abrams tanks Kremlin reaction", None),
    ("Murdoch Fox buyout", None),
])
def test_question_kind_from_the_question_words(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize("sentence, has, lacks", [
    ("The build-up of more than 100,000 Russian troops.", NUMBER, DATE),
    ("Sales rose by a third to £4bn.", NUMBER, SPEECH),
    ("The council met on January 12.", DATE, SPEECH),
    ("Talks resume next month in Geneva.", DATE, NUMBER),
    ("“We live in a world of lies,” he said.", SPEECH, NUMBER),
    ("Peskov stressed that Moscow was not involved.", SPEECH, NUMBER),
    ("Filming is due to begin in Melbourne.", PLACE, NUMBER),
    ("Prices fell because demand collapsed.", REASON, SPEECH),
    ("Mr Blair met the press.", PERSON, NUMBER),
])
def test_sentence_kinds_from_the_surface(sentence, has, lacks):
    kinds = sentence_kinds(sentence)
    assert has in kinds and lacks not in kinds


def _passage(text: str, paragraph: int = 1, dim: int = 4) -> A.Passage:
    spans = np.asarray(split_sentences(text), dtype=np.int32).reshape(-1, 2)
    vectors = np.tile(np.eye(dim, dtype=np.float32)[0], (len(spans), 1))  # every cosine equal
    return A.Passage(text, spans, vectors, paragraph)


def _only(feature: str, weight: float = 1.0) -> A.AnswerModel:
    weights = np.zeros(len(A.FEATURES))
    weights[A.FEATURES.index(feature)] = weight
    return A.AnswerModel(weights, widen=1.01)  # a neighbour only when the reader needs it


def test_features_have_one_row_per_sentence_and_one_column_per_feature():
    passage = _passage("Troops massed. More than 100,000 soldiers are there. Talks stalled.")
    question = A.Question.of("how many soldiers are there", content_terms("how many soldiers are there"))
    x = A.features(question, passage, np.eye(4, dtype=np.float32)[0], {"soldier": 1.0})
    assert x.shape == (3, len(A.FEATURES))
    kind = A.FEATURES.index("kind_match")
    assert x[:, kind].tolist() == [0.0, 1.0, 0.0]  # only the second holds a number
    lede = A.FEATURES.index("lede")
    assert x[:, lede].tolist() == [1.0, 1.0, 1.0]  # a one-paragraph passage at paragraph 1


def test_the_expected_kind_of_answer_picks_the_sentence_that_holds_it():
    text = "Tensions rose near the border. More than 100,000 soldiers are there. Talks stalled."
    q = "how many soldiers are near the border"
    question = A.Question.of(q, content_terms(q))
    passage = _passage(text)
    choice = A.choose(question, passage, np.eye(4, dtype=np.float32)[0], {}, answer_model=_only("kind_match"))
    assert text[choice.start:choice.end] == "More than 100,000 soldiers are there."


def test_what_did_x_say_without_a_topic_answers_with_xs_sentence():
    text = "Russia has warned of no progress. Sanctions will follow an attack, Ann Berg warned. Talks go on."
    q = "what did Berg warn"
    question = A.Question.of(q, content_terms(q))
    passage = A.Passage(text, _passage(text).spans, _passage(text).vectors, 1,
                        [None, "Ann Berg", None])
    lean = _only("first_in_passage")  # a model that, alone, prefers the opening sentence
    plain = A.choose(question, passage, np.eye(4, dtype=np.float32)[0], {}, answer_model=lean)
    assert text[plain.start:plain.end] == "Russia has warned of no progress."
    theirs = A.choose(question, passage, np.eye(4, dtype=np.float32)[0], {}, speaker="Ann Berg",
                      answer_model=lean, speaker_only=True)
    assert text[theirs.start:theirs.end] == "Sanctions will follow an attack, Ann Berg warned."


def test_a_sentence_opening_with_a_pronoun_is_shown_with_the_one_before():
    text = "Peskov spoke to reporters on Tuesday. He said the tanks would burn. Nothing else came of it."
    passage = _passage(text)
    scores = np.array([0.0, 5.0, 0.0])
    choice = A.pick(passage, scores, widen=1.01)
    assert text[choice.start:choice.end] == "Peskov spoke to reporters on Tuesday. He said the tanks would burn."


def test_a_nearly_as_likely_neighbour_is_shown_too_within_sixty_words():
    text = "The first sentence is here. The answer is in this one. The last one closes."
    passage = _passage(text)
    scores = np.array([0.0, 3.0, 2.9])  # the third is nearly as likely as the second
    choice = A.pick(passage, scores, widen=0.5)
    assert text[choice.start:choice.end] == "The answer is in this one. The last one closes."
    alone = A.pick(passage, np.array([0.0, 3.0, -3.0]), widen=0.5)
    assert text[alone.start:alone.end] == "The answer is in this one."


def test_the_shown_answer_never_exceeds_sixty_words():
    long = "Word " + " ".join(["word"] * 39) + "."
    text = f"{long} {long} {long}"
    passage = _passage(text)
    choice = A.pick(passage, np.array([0.0, 1.0, 0.0]), widen=0.0)
    assert len(text[choice.start:choice.end].split()) <= A.MAX_ANSWER_WORDS
    assert choice.sentence == 1


def test_rare_question_words_weigh_more_than_words_every_sentence_has():
    passages = [_passage("Peskov spoke about tanks. Peskov spoke about hackers. Peskov spoke again.")]
    question = A.Question.of("Peskov hackers", content_terms("Peskov hackers"))
    weights = A.rarity(passages, question)
    assert weights["hacker"] > weights["peskov"]


def test_the_shipped_model_matches_the_features():
    shipped = A.model()
    assert shipped.weights.shape == (len(A.FEATURES),)
    assert 0.0 <= shipped.widen <= 1.01
