"""Article-body extraction quality of the HTML reader: shingle F1 against ground-truth bodies.

The metric is the one of the scrapinghub article-extraction-benchmark (``evaluate.py``): each
page's extracted body and true body become multisets of 4-word shingles (words = ``\\w+`` runs);
per page, TP/FP/FN are counted and normalised to sum 1; precision and recall are averaged over
pages and F1 is the harmonic mean of the two averages. The mean of per-page F1 is printed too.

Usage::

    python bench/html_f1.py DIR_OF_PAGES GROUND_TRUTH.json [--limit N] [--variant NAME ...]

``DIR_OF_PAGES`` holds ``<id>.html.gz`` or ``<id>.html`` files (the id is the name up to the
first dot); ``GROUND_TRUTH.json`` maps each id to ``{"articleBody": "..."}``, the benchmark's
``ground-truth.json`` format. Pages without ground truth are skipped. Nothing is written.
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.ingest.html import DEFAULT, Extraction, parse_html  # noqa: E402

PLAIN = Extraction()  # trafilatura's own defaults, nothing added
VARIANTS: dict[str, Extraction] = {
    "shipped": DEFAULT,
    "balanced": PLAIN,
    "precision": replace(PLAIN, favor="precision"),
    "recall": replace(PLAIN, favor="recall"),
    "fast": replace(PLAIN, fast=True),
    "prec+fast": replace(PLAIN, favor="precision", fast=True),
    "no-stitch": replace(DEFAULT, stitch=False),
    "no-retry": replace(DEFAULT, retry_below=0),
    "no-furniture": replace(DEFAULT, furniture=False),
    "no-tables": replace(DEFAULT, tables=False),
    "no-headings": replace(DEFAULT, headings=False),
    "shipped+fast": replace(DEFAULT, fast=True),
}

_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """The multiset of ``n``-word shingles of ``text`` (a shorter text is one shingle)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens)


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    """Shingle TP/FP/FN of one page, normalised to sum 1 (all zero for two empty texts)."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def precision(tp: float, fp: float, fn: float) -> float:
    """Benchmark precision: 1 when nothing was wrong, 0 when nothing was right."""
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def recall(tp: float, fp: float, fn: float) -> float:
    """Benchmark recall: 1 when nothing was wrong, 0 when nothing was found."""
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def f1(p: float, r: float) -> float:
    """Harmonic mean (0 when both are 0)."""
    return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class PageScore:
    page: str
    precision: float
    recall: float
    f1: float
    paragraphs: int


def load_pages(folder: Path, truth: dict[str, dict], limit: int | None, seed: int) -> list[Path]:
    """Page files that have ground truth, sorted, optionally a seeded random sample."""
    pages = sorted(
        p for p in folder.iterdir() if p.name.endswith((".html", ".html.gz", ".htm"))
        and p.name.split(".")[0] in truth
    )
    if limit is not None and limit < len(pages):
        pages = sorted(random.Random(seed).sample(pages, limit))
    return pages


def read_page(path: Path) -> bytes:
    """Page bytes, gunzipped when the name ends in .gz."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def score_variant(pages: list[Path], truth: dict[str, dict], settings: Extraction) -> list[PageScore]:
    """Extract every page with ``settings`` and score it against its true body."""
    scores = []
    for path in pages:
        article = parse_html(read_page(path), settings)
        counts = tp_fp_fn(truth[path.name.split(".")[0]].get("articleBody", ""),
                          "\n".join(article.paragraphs))
        p, r = precision(*counts), recall(*counts)
        scores.append(PageScore(path.name, p, r, f1(p, r), len(article.paragraphs)))
    return scores


def summary(scores: list[PageScore]) -> tuple[float, float, float, float]:
    """(benchmark F1, mean precision, mean recall, mean per-page F1)."""
    p = statistics.mean(s.precision for s in scores)
    r = statistics.mean(s.recall for s in scores)
    return f1(p, r), p, r, statistics.mean(s.f1 for s in scores)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=Path, help="folder of <id>.html[.gz] pages")
    parser.add_argument("truth", type=Path, help="ground-truth JSON: {id: {articleBody: ...}}")
    parser.add_argument("--limit", type=int, help="score a seeded random sample of N pages")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--worst", type=int, default=8, help="list the N worst pages")
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS),
                        help="extraction settings to compare (default: shipped)")
    args = parser.parse_args(argv)
    import json

    truth = json.loads(args.truth.read_text(encoding="utf-8"))
    pages = load_pages(args.pages, truth, args.limit, args.seed)
    if not pages:
        print(f"no pages with ground truth in {args.pages}", file=sys.stderr)
        return 1
    print(f"{len(pages)} pages from {args.pages}")
    print(f"{'variant':<12} {'F1':>6} {'prec':>6} {'recall':>6} {'meanF1':>6} {'s/page':>7}")
    for name in args.variant or ["shipped"]:
        start = time.perf_counter()
        scores = score_variant(pages, truth, VARIANTS[name])
        per_page = (time.perf_counter() - start) / len(pages)
        f, p, r, mean_f = summary(scores)
        print(f"{name:<12} {f:6.3f} {p:6.3f} {r:6.3f} {mean_f:6.3f} {per_page:7.3f}")
        for s in sorted(scores, key=lambda s: s.f1)[: args.worst]:
            print(f"    {s.f1:.3f}  P {s.precision:.3f}  R {s.recall:.3f}  "
                  f"{s.paragraphs:3d} par  {s.page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
