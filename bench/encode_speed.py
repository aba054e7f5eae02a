"""Passages per second: naive sentence-transformers encode vs qa.embed.passage_encoder.PassageEncoder.

    python bench/encode_speed.py [--n 1000] [--batch-size 32] [--precision auto] [--json]

Reads BBC paragraphs (title line skipped, split on blank lines) from /work/shared/corpora/bbc,
times three runs of each encoder and reports the medians, their ratio and the cosine between
the two encoders' vectors.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

CORPUS = Path("/work/shared/corpora/bbc")


def bbc_paragraphs(n: int, corpus: Path = CORPUS) -> list[str]:
    """The first ``n`` paragraphs of the BBC corpus, in file-name order."""
    paragraphs: list[str] = []
    for file in sorted(corpus.glob("*/*.txt")):
        body = file.read_text(encoding="utf-8", errors="replace").split("\n", 1)
        if len(body) < 2:
            continue
        paragraphs += [" ".join(p.split()) for p in body[1].split("\n\n") if p.strip()]
        if len(paragraphs) >= n:
            break
    return paragraphs[:n]


def timed(fn, runs: int = 3) -> tuple[float, object]:
    """Median seconds over ``runs`` calls and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of paragraphs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    import qa  # noqa: F401 - sets HF_HUB_OFFLINE
    from sentence_transformers import SentenceTransformer

    from qa.embed.passage_encoder import PassageEncoder
    from qa.embed.model import resolve_model

    texts = bbc_paragraphs(args.n)
    ref = resolve_model(None)
    naive = SentenceTransformer(str(ref.path), device="cpu")
    naive.encode(texts[:32], batch_size=32)  # warm-up
    naive_s, naive_vecs = timed(lambda: naive.encode(texts, batch_size=32), args.runs)

    encoder = PassageEncoder(ref, precision=args.precision)
    spans = [[(0, len(t))] for t in texts]
    encoder.encode(texts[:32], spans[:32], batch_size=args.batch_size)  # warm-up
    ours_s, ours = timed(lambda: encoder.encode(texts, spans, batch_size=args.batch_size), args.runs)

    a = np.asarray(naive_vecs, dtype=np.float32)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    cos = (a * ours.vectors).sum(axis=1)  # type: ignore[attr-defined]
    word_counts = sorted(len(t.split()) for t in texts)
    result = {
        "n": len(texts),
        "median_words": word_counts[len(word_counts) // 2],
        "precision": encoder.precision,
        "batch_size": args.batch_size,
        "naive_per_s": round(len(texts) / naive_s, 2),
        "ours_per_s": round(len(texts) / ours_s, 2),
        "ratio": round(naive_s / ours_s, 3),
        "cos_min": float(cos.min()),
        "cos_mean": float(cos.mean()),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>13}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
