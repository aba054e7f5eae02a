"""Explore ranking formulas on the dev split of labelled questions (never on test).

Collects, once per question, the candidates of both retrievers with their features (passage
cosine, best sentence cosine, title cosine, BM25), then scores several fusion formulas offline.

    .venv/bin/python bench/tune_ranking.py --index-dir /tmp/seed-ix bench/questions/seeds.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.evaluation.questions import _norm, load_questions  # noqa: E402
from qa.search.searcher import Searcher  # noqa: E402
from qa.search.terms import content_terms, fts_query  # noqa: E402


def minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)


def collect(searcher: Searcher, labels):
    rows = []
    titles: dict[int, np.ndarray] = {}
    for label in labels:
        q = searcher.encoder.encode([label.question])[0]
        dense = searcher.backend.dense(q, 100, None)
        match = fts_query(" ".join(content_terms(label.question)[:64]))
        lexical = searcher.store.lexical(match, 100) if match else []
        ids = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical]))
        info = searcher.store.passages(ids)
        ids = [i for i in ids if i in info]
        dmap, lmap = dict(dense), dict(lexical)
        feats = []
        for pid in ids:
            row = info[pid]
            spans = np.frombuffer(row.spans, dtype=np.int32).reshape(-1, 2)
            sv = row.sentence_vectors
            smax = float((sv @ q).max()) if len(sv) else 0.0
            aid = row.article.id
            if aid not in titles:
                t = row.article.meta.title or ""
                titles[aid] = searcher.encoder.encode([t])[0] if t else np.zeros_like(q)
            tcos = float(titles[aid] @ q)
            path = row.article.path.replace("\\", "/")
            ok = (path.endswith("/" + label.path) and len(row.text.split()) <= 200
                  and any(_norm(a) in _norm(row.text) for a in label.any))
            feats.append((dmap.get(pid, np.nan), lmap.get(pid, 0.0), smax, tcos, ok))
        rows.append((label, ids, np.array([f[:4] for f in feats], dtype=np.float64),
                     np.array([f[4] for f in feats])))
    return rows


def evaluate(rows, score_fn):
    ranks = []
    for label, ids, F, ok in rows:
        s = score_fn(F)
        order = np.argsort(-s, kind="stable")
        hit = np.nonzero(ok[order])[0]
        ranks.append(hit[0] + 1 if len(hit) else None)
    n = len(ranks)
    return (sum(r == 1 for r in ranks) / n, sum(r is not None and r <= 3 for r in ranks) / n,
            sum(1 / r for r in ranks if r and r <= 10) / n)


def formulas():
    def convex(wd, use_sent=0.0, use_title=0.0, dense_missing=None):
        def f(F):
            d = F[:, 0].copy()
            d[np.isnan(d)] = np.nanmin(d) if np.isfinite(np.nanmin(d)) else 0
            d = d + use_sent * F[:, 2] + use_title * F[:, 3]
            lx = F[:, 1]
            return wd * minmax(d) + (1 - wd) * (minmax(lx) if lx.max() > 0 else 0)
        return f
    def rrf(use_sent=0.0, k=60):
        def f(F):
            d = F[:, 0].copy()
            d[np.isnan(d)] = -1
            d = d + use_sent * F[:, 2]
            rd = np.argsort(np.argsort(-d))
            lx = F[:, 1]
            rl = np.argsort(np.argsort(-lx))
            return 1 / (k + rd + 1) + np.where(lx > 0, 1 / (k + rl + 1), 0)
        return f

    def adaptive(use_sent=1.0, lo=0.4, hi=0.8):
        """Dense weight grows when BM25's best candidates barely differ (weak lexical signal)."""
        def f(F):
            d = F[:, 0].copy()
            d[np.isnan(d)] = np.nanmin(d) if np.isfinite(np.nanmin(d)) else 0
            d = d + use_sent * F[:, 2]
            lx = F[:, 1]
            top = np.sort(lx)[::-1]
            spread = (top[0] - top[min(9, len(top) - 1)]) / top[0] if top[0] > 0 else 0.0
            wd = hi - (hi - lo) * spread
            return wd * minmax(d) + (1 - wd) * (minmax(lx) if lx.max() > 0 else 0)
        return f

    out = {}
    for wd in (0.5, 0.6, 0.7, 0.8, 1.0):
        out[f"convex wd={wd}"] = convex(wd)
    out["rrf"] = rrf()
    out["rrf +sent 1.0"] = rrf(1.0)
    for lo, hi in ((0.4, 0.8), (0.5, 0.8), (0.4, 0.7), (0.5, 0.9)):
        out[f"adaptive {lo}-{hi} +sent 1.0"] = adaptive(1.0, lo, hi)
    for wd in (0.6, 0.7):
        out[f"convex wd={wd} +sent 2.0"] = convex(wd, use_sent=2.0)
    for wd in (0.5, 0.6, 0.7):
        for s in (0.5, 1.0):
            out[f"convex wd={wd} +sent {s}"] = convex(wd, use_sent=s)
        for t in (0.3, 0.5):
            out[f"convex wd={wd} +title {t}"] = convex(wd, use_title=t)
            out[f"convex wd={wd} +sent 0.5 +title {t}"] = convex(wd, use_sent=0.5, use_title=t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("questions", nargs="+", type=Path)
    ap.add_argument("--index-dir", type=Path, action="append", required=True)
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    sets = []
    for qfile, ix in zip(args.questions, args.index_dir):
        searcher = Searcher(ix, None, notice=lambda m: None)
        sets.append((qfile.name, collect(searcher, load_questions(qfile, args.split))))
    for name, fn in formulas().items():
        cells = "  ".join(f"{n}: {h1:.3f}/{h3:.3f}/{mrr:.3f}" for n, rows in sets
                          for h1, h3, mrr in [evaluate(rows, fn)])
        print(f"{name:34s} {cells}")


if __name__ == "__main__":
    main()
