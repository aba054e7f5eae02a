"""Fit the answer-sentence model (qa/search/answer.json) on labelled dev questions.

For every question of the chosen split, the passage that holds its answer (the passage of the
labelled article containing an ``answer`` phrase) and the first hit qa returns are scored
sentence by sentence with :func:`qa.search.answer.features`; a sentence is right when it holds
an ``answer`` phrase. The model is a conditional logit (a softmax over one passage's sentences)
with an L2 penalty, so it learns to rank the sentences of a passage against each other, which is
what the choice needs. Reported: the share of passages whose best sentence is right, for the
shipped model and the fitted one, in-sample and by 2-fold cross-validation over questions.

    .venv/bin/python bench/fit_answer.py bench/questions/seeds.jsonl=/tmp/ix/seeds \\
        bench/questions/bbc.jsonl=/tmp/ix/bbc --split dev [--write]

Each argument is QUESTIONS=INDEX_DIR (an index of that set's corpus, built with `qa index`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.evaluation.questions import _norm, load_questions  # noqa: E402
from qa.ingest.files import display_path  # noqa: E402
from qa.search import answer as A  # noqa: E402
from qa.quotes.question import speaker_question  # noqa: E402
from qa.search.searcher import Searcher, _asked_speaker, answer_passage  # noqa: E402
from qa.search.terms import content_terms  # noqa: E402


def collect(questions: Path, index_dir: Path, split: str) -> list[tuple[np.ndarray, np.ndarray, A.Passage]]:
    """(features, labels) per passage: the labelled answer passage and the first hit."""
    searcher = Searcher(index_dir, None, notice=print)
    groups = []
    try:
        by_path = {display_path(a.path): a for a in searcher.store.articles()}
        for label in load_questions(questions, split):
            if not label.answer:
                continue
            vector = searcher.encoder.encode([label.question])[0]
            hits = searcher.ask(label.question, k=5, query_vector=vector).hits
            rows = searcher.store.passages([h.passage_id for h in hits])
            said = searcher.quotes.of_passages([h.passage_id for h in hits])
            passages = [answer_passage(rows[h.passage_id], said.get(h.passage_id)) for h in hits]
            asked = speaker_question(label.question, searcher.quotes.speakers())
            article = next((a for p, a in by_path.items() if p.endswith(label.path)), None)
            gold = None
            if article is not None:
                for row in searcher.store.article_passages(article.id):
                    if any(_norm(x) in _norm(row.text) for x in label.answer):
                        gold = answer_passage(row, searcher.quotes.of_passages([row.id]).get(row.id))
                        break
            question = A.Question.of(label.question, content_terms(label.question))
            weights = A.rarity(passages + ([gold] if gold else []), question)
            for passage in ([gold] if gold else []) + passages[:1]:
                x = A.features(question, passage, vector, weights, _asked_speaker(passage, asked))
                y = np.array([any(_norm(a) in _norm(s) for a in label.answer)
                              for s in passage.sentences()])
                groups.append((x, y, passage))
    finally:
        searcher.close()
    return groups


def fit(groups: list, l2: float, iters: int = 600) -> np.ndarray:
    """Conditional-logit weights (features standardised while fitting, folded back after)."""
    use = [(x, y) for x, y, _ in groups if y.any() and len(y) > 1]
    stacked = np.vstack([x for x, _ in use])
    mu, sd = stacked.mean(0), stacked.std(0) + 1e-6
    data = [((x - mu) / sd, y / y.sum()) for x, y in use]
    w = np.zeros(stacked.shape[1])
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for step in range(1, iters + 1):  # Adam on the mean negative log-likelihood + L2
        grad = l2 * w
        for z, target in data:
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += z.T @ (p - target) / len(data)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w / sd


def accuracy(groups: list, w: np.ndarray, widen: float | None = None) -> float:
    """Share of passages whose chosen answer holds a labelled sentence; with ``widen``, the
    answer is what :func:`qa.search.answer.choose` shows with that ``widen`` (one or two
    sentences), else the best sentence alone."""
    right = []
    for x, y, passage in groups:
        if not y.any():
            continue
        if widen is None:
            right.append(bool(y[int(np.argmax(x @ w))]))
            continue
        choice = A.pick(passage, x @ w, widen)
        inside = [i for i, (a, b) in enumerate(passage.spans) if a >= choice.start and b <= choice.end]
        right.append(any(y[i] for i in inside))
    return float(np.mean(right)) if right else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="QUESTIONS=INDEX_DIR")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--l2", type=float, default=0.1)
    parser.add_argument("--write", action="store_true", help="write qa/search/answer.json")
    args = parser.parse_args()
    groups: list = []
    for item in args.sets:
        questions, index_dir = item.split("=", 1)
        groups += collect(Path(questions), Path(index_dir), args.split)
    shipped = A.model().weights
    w = fit(groups, args.l2)
    rng = np.random.default_rng(20261204)
    folds = []
    for _ in range(5):
        order = rng.permutation(len(groups))
        a, b = order[: len(order) // 2], order[len(order) // 2 :]
        for train, held in ((a, b), (b, a)):
            wf = fit([groups[i] for i in train], args.l2)
            folds.append((accuracy([groups[i] for i in held], wf),
                          accuracy([groups[i] for i in held], shipped)))
    cv = np.mean(folds, axis=0)
    print(f"{len(groups)} passages; shipped {accuracy(groups, shipped):.3f}, fitted (in sample) "
          f"{accuracy(groups, w):.3f}; 2-fold CV fitted {cv[0]:.3f} vs shipped {cv[1]:.3f}")
    print(json.dumps(dict(zip(A.FEATURES, np.round(w, 4).tolist()))))
    shown = {}
    for widen in (0.0, 0.2, 0.35, 0.5, 0.7, 1.01):
        shown[widen] = accuracy(groups, w, widen)
        print(f"answer shown with widen={widen}: fitted {shown[widen]:.3f}, "
              f"shipped {accuracy(groups, shipped, widen):.3f}")
    widen = max(shown, key=lambda k: (shown[k], k))
    if args.write:
        A.MODEL_FILE.write_text(json.dumps(
            {"features": list(A.FEATURES), "weights": np.round(w, 6).tolist(), "widen": widen,
             "fitted_on": f"{', '.join(args.sets)} split {args.split}", "l2": args.l2},
            indent=1) + "\n", encoding="utf-8")
        print(f"wrote {A.MODEL_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
