"""Ranking on the five seed articles: the expected paragraph must come first (hybrid mode).

Each case: question, a fragment of the expected article's file name, a phrase of the expected
passage (or a tuple of phrases where two paragraphs answer the question equally well). The sample question of the README must rank its paragraph first, always.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CASES = [
    ("what did Peskov say about tanks", "anadolu", "will burn as other tanks"),
    ("Is the hacker group Killnet of Russian origin?", "anadolu", "Killnet"),
    ("Which computer does Putin use?", "anadolu", "right and secure computer"),
    ("What did Peskov say about the Doomsday Clock?", "anadolu", "extremely alarming and tense"),
    ("Kyiv considering strikes on Moscow and Saint Petersburg", "anadolu", "Podolyak"),
    ("support measures for families of private military company members", "anadolu",
     "private military companies"),
    ("Is Moscow discussing German Leopard tanks with Berlin?", "anadolu",
     "not holding any discussions with Berlin"),
    ("How high is the tension on the border between Russia and Ukraine?", "peskov-tension",
     "too much tension on the border"),
    ("Who did the Ukrainian security council blame for the hacker attack?",
     "peskov-tension", "UNC1151"),
    ("How long did the Geneva security talks last?", "peskov-tension", "7.5 hours"),
    ("Does Russia want legally binding guarantees that Ukraine will not join NATO?",
     "peskov-tension", "legally binding guarantees"),
    ("Are Russia and Ukraine discussing a prisoner swap?", "realnoe-vremya", "prisoner swap"),
    ("Which neutral site was chosen for the Russia-Ukraine talks?", "realnoe-vremya", "Turkey"),
    ("How did the Kremlin react to Biden's statements about Putin?", "realnoe-vremya",
     "are concerning, of course"),
    ("Is Russia preparing a law on non-returnees?", "realnoe-vremya",
     ("denied the rumours", "rubbish, fabrication")),
    ("Who did Peskov send questions about the LPR referendum to?", "realnoe-vremya",
     "forwarded all questions"),
    ("Who does Peskov redirect questions about the military operation to?", "realnoe-vremya",
     "redirects them to the Russian Ministry of Defence"),
    ("Is Ukraine ready to hold peace talks with Russia?", "kremlin-comments",
     "no sign that it is ready to hold peace talks"),
    ("Did Zelensky ban talks with the Russian leadership?", "kremlin-comments",
     "decree banning all talks"),
    ("Would Moscow accept freezing the conflict along the front line?", "kremlin-comments",
     "ruled out any freeze"),
    ("Under what condition would Russia declare a ceasefire?", "kremlin-comments",
     "declare a ceasefire"),
    ("What did Blinken say about sanctions?", "little-ground", "enormous sanctions"),
    ("How many Russian troops are near the Ukrainian border?", "little-ground", "100,000"),
    ("What did Kuleba say about the Paris talks?", "little-ground",
     ("no concrete progress", "Nothing has changed")),
    ("Which weapons has the west sent to Ukraine?", "little-ground", "anti-tank missiles"),
    ("Where are Russian troops holding joint war games?", "little-ground", "war games with Belarus"),
    ("Is the US moving intermediate-range missiles to Europe?", "little-ground",
     "intermediate-range missiles"),
]


def _matches(hit, file_part: str, phrase: str | tuple[str, ...]) -> bool:
    phrases = (phrase,) if isinstance(phrase, str) else phrase
    return file_part in hit.source.path and any(p in hit.text for p in phrases)


def _first_match_rank(searcher, question, file_part, phrase, mode="hybrid") -> int | None:
    hits = searcher.ask(question, k=5, mode=mode).hits
    for hit in hits:
        if _matches(hit, file_part, phrase):
            return hit.rank
    return None


def test_sample_question_answers_with_anadolu_paragraph_first(searcher):
    hit = searcher.ask("what did Peskov say about tanks", k=5).hits[0]
    assert "will burn as other tanks" in hit.text
    assert "will burn as other tanks" in hit.answer
    assert hit.source.meta.outlet == "Anadolu Agency"
    assert hit.source.meta.date == "2023-01-25"
    assert hit.source.meta.title == "Kremlin says 'no prospects' for resumption of Russia-Ukraine peace talks"
    assert hit.source.path.endswith(".txt") and hit.source.paragraph >= 1


def test_hybrid_ranks_expected_paragraph_first(searcher):
    ranks = {q: _first_match_rank(searcher, q, f, p) for q, f, p in CASES}
    hit1 = sum(r == 1 for r in ranks.values()) / len(CASES)
    hit3 = sum(r is not None and r <= 3 for r in ranks.values()) / len(CASES)
    misses = {q: r for q, r in ranks.items() if r != 1}
    assert hit1 >= 0.9, f"hit@1 {hit1:.2f}; not first: {misses}"
    assert hit3 == 1.0, f"hit@3 {hit3:.2f}; not first: {misses}"


@pytest.mark.parametrize("question,file_part,phrase", CASES[:8])
def test_answer_sentence_holds_the_phrase(searcher, question, file_part, phrase):
    hit = searcher.ask(question, k=1).hits[0]
    assert _matches(hit, file_part, phrase)
    assert hit.answer in hit.text
    phrases = (phrase,) if isinstance(phrase, str) else phrase
    assert any(p in hit.answer for p in phrases), f"answer {hit.answer!r}"


def test_paraphrased_dev_questions_rank_the_answer_high(searcher):
    """The dev split of bench/questions/seeds.jsonl (asked in users' own words): the right
    passage first for most, in the top 3 for nearly all (measured 0.73 / 0.93 when written)."""
    from qa.evaluation.questions import load_questions, score_questions
    from qa.search.modes import Fusion, Mode

    path = Path(__file__).resolve().parents[1] / "bench/questions/seeds.jsonl"
    labels = load_questions(path, "dev")
    scores = score_questions(searcher, labels, Mode.HYBRID, Fusion.CONVEX)
    assert scores["questions"] == path.read_text(encoding="utf-8").count('"split": "dev"')
    assert scores["hit@1"] >= 0.65 and scores["hit@3"] >= 0.85, scores["misses"]
