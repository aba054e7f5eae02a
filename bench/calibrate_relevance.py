"""Fit qa/search/relevance.json: P(passage answers the question) from three query-time signals.

Training data (dev splits only). Hit model: the top-5 hits of each labelled dev question,
labelled by whether they hold the answer (P(passage answers | the archive answers)). Question
model: every labelled dev question (answerable) and every unrelated dev question (not), from
[best hit's log-odds, unknown names, missing terms]. Both are logistic regressions (L2, Newton
steps); the no-match threshold on P(answerable) is the highest that keeps >= 95% of the
labelled dev questions answered.

    .venv/bin/python bench/calibrate_relevance.py \
        --pair bench/questions/seeds.jsonl /tmp/seed-ix --pair bench/questions/bbc.jsonl /tmp/bbc-ix \
        --unrelated bench/questions/unrelated.jsonl /tmp/seed-ix [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.evaluation.questions import is_hit, load_questions  # noqa: E402
from qa.index.vectors import stored_vectors  # noqa: E402
from qa.search import answer as answers  # noqa: E402
from qa.search.relevance import (  # noqa: E402
    FEATURES, MODEL_FILE, QUESTION_INPUTS, features, question_signals, term_coverage,
)  # noqa: E402
from qa.search.searcher import Searcher, answer_passage  # noqa: E402
from qa.search.terms import content_terms, stems_of  # noqa: E402

K = 5


def hit_features(searcher: Searcher, question: str, hits) -> list[np.ndarray]:
    q = searcher.encoder.encode([question])[0]
    terms = content_terms(question)
    ids = np.asarray([h.passage_id for h in hits], dtype=np.int64)
    cos = stored_vectors(searcher.store, ids, searcher.dim) @ q if len(ids) else []
    rows = searcher.store.passages(ids.tolist())
    question_ = answers.Question.of(question, terms)
    passages = [answer_passage(rows[h.passage_id]) for h in hits]
    weights = answers.rarity(passages, question_)
    out = []
    for hit, c, passage in zip(hits, cos, passages):  # the sentence cosine as Searcher.ask has it
        sent = answers.choose(question_, passage, q, weights).best_cosine
        text = rows[hit.passage_id].text
        out.append(features(float(c), sent, term_coverage(stems_of(text), terms)))
    return out, question_signals(question, terms, searcher.store.mentions)


def collect(pairs, unrelated, split):
    X, y, groups = [], [], []  # groups: (question index, in-corpus?)
    for qfile, ix in pairs:
        s = Searcher(Path(ix), None, notice=lambda m: None)
        for label in load_questions(Path(qfile), split):
            hits = s.ask(label.question, k=K).hits
            feats, signals = hit_features(s, label.question, hits)
            for f, h in zip(feats, hits):
                X.append(f)
                y.append(float(is_hit(h, label)))
                groups.append((f"{qfile}:{label.question}", True, signals))
        s.close()
    if unrelated:
        qfile, ix = unrelated
        s = Searcher(Path(ix), None, notice=lambda m: None)
        for line in Path(qfile).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("split") != split:
                continue
            hits = s.ask(row["question"], k=K).hits
            feats, signals = hit_features(s, row["question"], hits)
            for f in feats:
                X.append(f)
                y.append(0.0)
                groups.append((f"u:{row['question']}", False, signals))
        s.close()
    return np.array(X), np.array(y), groups


def fit(X: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> tuple[np.ndarray, float]:
    A = np.hstack([X, np.ones((len(X), 1))])
    w = np.zeros(A.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-A @ w))
        grad = A.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        H = (A * (p * (1 - p))[:, None]).T @ A + l2 * np.diag(np.r_[np.ones(len(w) - 1), 0])
        w -= np.linalg.solve(H, grad)
    return w[:-1], float(w[-1])


def question_rows(X, groups, w, b):
    """Per question: [best hit's log-odds, unknown names, missing terms], in-corpus or not."""
    best: dict[str, list] = {}
    for f, (key, inside, (unknown, missing)) in zip(X, groups):
        z = float(np.clip(f @ w + b, -13.8, 13.8))  # as RelevanceModel's logit clamps
        row = best.setdefault(key, [z, min(unknown, 2), missing, inside])
        row[0] = max(row[0], z)
    Q = np.array([r[:3] for r in best.values()], dtype=float)
    inside = np.array([r[3] for r in best.values()], dtype=float)
    return Q, inside


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pair", nargs=2, action="append", required=True, metavar=("QUESTIONS", "INDEX"))
    ap.add_argument("--unrelated", nargs=2, metavar=("QUESTIONS", "INDEX"))
    ap.add_argument("--split", default="dev")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    X, y, groups = collect(args.pair, args.unrelated, args.split)
    labelled = np.array([inside for _, inside, _ in groups])
    w, b = fit(X[labelled], y[labelled])
    Q, inside = question_rows(X, groups, w, b)
    qw, qb = fit(Q, inside)
    p = 1 / (1 + np.exp(-(Q @ qw + qb)))
    ins = np.sort(p[inside == 1])
    threshold = float(ins[int(0.05 * len(ins))]) if len(ins) else 0.5  # keep >= 95% answered
    answered = float((p[inside == 1] >= threshold).mean())
    flagged = float((p[inside == 0] < threshold).mean()) if (inside == 0).any() else float("nan")
    print(f"hits: {int(labelled.sum())} ({int(y.sum())} positive); weights {np.round(w, 3).tolist()} bias {b:.3f}")
    print(f"question model {np.round(qw, 3).tolist()} bias {qb:.3f}")
    print(f"threshold {threshold:.3f}: in-corpus answered {answered:.3f}, unrelated flagged {flagged:.3f}")
    if args.write:
        MODEL_FILE.write_text(json.dumps({
            "features": list(FEATURES), "weights": [round(float(v), 4) for v in w],
            "bias": round(b, 4), "threshold": round(threshold, 4),
            "question": {"inputs": list(QUESTION_INPUTS),
                         "weights": [round(float(v), 4) for v in qw], "bias": round(qb, 4)},
            "fitted_on": f"{args.split} split: " + ", ".join(Path(q).name for q, _ in args.pair)
            + (f" + {Path(args.unrelated[0]).name}" if args.unrelated else ""),
        }, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()


def debug(args_list: list[str]) -> None:  # pragma: no cover - exploration aid
    ap = argparse.ArgumentParser()
    ap.add_argument("--pair", nargs=2, action="append", required=True)
    ap.add_argument("--unrelated", nargs=2)
    ap.add_argument("--split", default="dev")
    a = ap.parse_args(args_list)
    X, y, groups = collect(a.pair, a.unrelated, a.split)
    w, b = fit(X, y)
    best: dict[str, tuple[float, np.ndarray]] = {}
    for f, (key, _, _) in zip(X, groups):
        p = 1 / (1 + np.exp(-(f @ w + b)))
        if p > best.get(key, (-1, None))[0]:
            best[key] = (p, f)
    for key, (p, f) in sorted(best.items(), key=lambda kv: kv[1][0]):
        print(f"{p:.3f} {np.round(f, 2).tolist()} {key[:90]}")
