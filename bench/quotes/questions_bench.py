"""The "what did X say about Y" questions and `qa quotes Peskov`, for bench/quotes/bench.py.

The questions are asked of an index of data/ and BBC politics + business (real model, built
once under bench/results/quotes-index.tmp; `qa index` brings it up to date). A question is
right when the first hit's answer (its sentence, with the one before when qa adds it for
context) holds one of the labelled sentences it names (each is
one of the speaker's labelled quotes in that article). "without" is the same search with the
speaker rule switched off: the answer sentence by similarity alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from sentences import numbered

from qa.index.indexer import run_index
from qa.index.store import Store
from qa.quotes.indexing import META_KEY, refresh_quotes
from qa.quotes.query import answer_quotes
from qa.search.searcher import Searcher

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BBC = ROOT.parent / "shared" / "corpora" / "bbc"
INDEX = ROOT / "bench" / "results" / "quotes-index.tmp"


class _Quiet:
    def start(self, total, description, unit="passages"): ...
    def advance(self, n): ...
    def stop(self): ...
    def warn(self, message): ...


_fresh = False


def bench_index() -> Path:
    """The index, up to date, its quotes attributed by the rules as they are now."""
    global _fresh
    if not _fresh:
        run_index(INDEX, [ROOT / "data", BBC / "politics", BBC / "business"], None, _Quiet())
        store = Store.open(INDEX)
        try:
            with store.transaction():
                store.conn.execute("DELETE FROM meta WHERE key = ?", (META_KEY,))
            refresh_quotes(store)
        finally:
            store.close()
        _fresh = True
    return INDEX


def _expected(question: dict) -> set[str]:
    texts = dict(numbered(str(ROOT / question["path"])))
    return {texts[n] for n in question["answers"]}


def _right(hit, question: dict, expected: set[str]) -> bool:
    """The answer is one of the expected sentences, of the article or of a copy of it (the BBC
    set holds some articles twice, not always word for word: the same sentence of 8 words or
    more in another article is the same quote)."""
    wanted = Path(question["path"]).resolve()
    paths = [hit.source.path, *(c.path for c in hit.also_in)]
    held = [e for e in expected if e in hit.answer]  # the answer may add the sentence before
    if not held:
        return False
    return any(Path(p).resolve() == wanted for p in paths) or len(held[0].split()) >= 8


def questions(split: str, misses: bool) -> dict:
    import qa.search.searcher as searcher_module

    rows = [json.loads(line) for line in open(HERE / "questions.jsonl", encoding="utf-8")]
    rows = [r for r in rows if split == "all" or r["split"] == split]
    searcher = Searcher(bench_index(), None, lambda m: None)
    try:
        with_rule = _score(searcher, rows, misses)
        original = searcher_module.speaker_question
        searcher_module.speaker_question = lambda question, known: None
        try:
            without = _score(searcher, rows, False)
        finally:
            searcher_module.speaker_question = original
    finally:
        searcher.close()
    return {"questions": len(rows), "answer_is_their_quote@1": with_rule,
            "without_speaker_rule": without}


def _score(searcher: Searcher, rows: list[dict], misses: bool) -> float:
    right = 0
    for question in rows:
        hits = searcher.ask(question["question"], k=1).hits
        expected = _expected(question)
        if hits and _right(hits[0], question, expected):
            right += 1
        elif misses and hits:
            print(f"  MISS {question['question']!r}\n     got [{hits[0].speaker}] "
                  f"{hits[0].source.path}: {hits[0].answer[:100]}")
    return round(right / max(len(rows), 1), 3)


def peskov() -> dict:
    """`qa quotes Peskov` on the seeds: labelled Peskov sentences found, listed ones his."""
    labels = [json.loads(line) for line in open(HERE / "labels.jsonl", encoding="utf-8")]
    gold = {(a["path"], q["sentence"]) for a in labels if a["path"].startswith("data/")
            for q in a["quotes"] if "Dmitry Peskov" in q["speakers"]}
    store = Store.open(bench_index())
    try:
        listed = answer_quotes(store, "Peskov", None, None, None, None).quotes
    finally:
        store.close()
    seeds = [q for q in listed if q.source.path.startswith("data/")]
    found = {(q.source.path, q.quote) for q in seeds}
    return {"labelled": len(gold), "listed": len(seeds),
            "found": round(len(gold & found) / max(len(gold), 1), 3),
            "precision": round(len(gold & found) / max(len(found), 1), 3)}
