"""Embedding throughput: local PassageEncoder vs Ray Data with 1 and 2 workers, and a cluster model.

    nice -n 10 python bench/ray_scale.py [--n 2000 | --all] [--workers 1 2] [--batch-size 256]
                                          [--write-n 20000] [--json]

Reads BBC paragraphs (title line skipped, split on blank lines) from /work/shared/corpora/bbc.
For each run it prints passages/s end to end (model load and, for Ray, actor start included;
``ray.init`` itself is timed apart) and in steady state (from the first returned batch on), and
the ratio of each run's end-to-end rate to the mean of two local runs (one before the Ray runs,
one after: on a shared machine the load changes while it runs). It then times the driver's share of a real
index run: ``Store.put_embeddings`` in chunks of 512 (the indexer's CHUNK) and adding the vectors
to a flat FAISS index and writing it, and models a W-worker cluster as
``min(W x steady per-worker rate, driver write rate)``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CORPUS = Path("/work/shared/corpora/bbc")
CHUNK = 512  # as qa.index.embedder.CHUNK


def bbc_paragraphs(n: int | None, corpus: Path = CORPUS) -> list[str]:
    """The first ``n`` paragraphs (all with None) of the BBC corpus, in file-name order."""
    paragraphs: list[str] = []
    for file in sorted(corpus.glob("*/*.txt")):
        body = file.read_text(encoding="utf-8", errors="replace").split("\n", 1)
        if len(body) == 2:
            paragraphs += [" ".join(p.split()) for p in body[1].split("\n\n") if p.strip()]
        if n is not None and len(paragraphs) >= n:
            break
    return paragraphs if n is None else paragraphs[:n]


def cpu_description() -> str:
    """CPU model name and the matmul-relevant flags from /proc/cpuinfo."""
    from qa.embed.passage_encoder import cpuinfo_field

    flags = set((cpuinfo_field("flags") or "").split())
    wanted = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    name = cpuinfo_field("model name") or "unknown CPU"
    return f"{name}, {cores} cores, flags: {' '.join(wanted) or 'none'}"


class Clock:
    """on_progress callback that notes when the first batch came back."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.first_n = 0
        self.done = 0

    def __call__(self, n: int) -> None:
        if self.first is None:
            self.first, self.first_n = time.perf_counter(), n
        self.done += n

    def rates(self, total: int) -> tuple[float, float, float]:
        """(seconds, end-to-end passages/s, steady passages/s after the first batch)."""
        end = time.perf_counter()
        seconds = end - self.start
        steady = (total - self.first_n) / (end - self.first) if self.first and end > self.first else 0.0
        return seconds, total / seconds, steady


def run_local(ref, texts, spans) -> tuple[dict, object]:
    from qa.embed.passage_encoder import PassageEncoder

    clock = Clock()
    encoder = PassageEncoder(ref)
    encoded = encoder.encode(texts, spans, on_progress=clock)
    seconds, rate, steady = clock.rates(len(texts))
    return {"run": "local", "seconds": seconds, "rate": rate, "steady": steady}, encoded


def run_ray(ref, texts, spans, workers: int, batch_size: int, reference) -> dict:
    from qa.embed.ray_embed import RayPassageEncoder

    start = time.perf_counter()
    encoder = RayPassageEncoder(ref, None, workers=workers, batch_size=batch_size, device="cpu")
    init_s = time.perf_counter() - start
    try:
        clock = Clock()
        encoded = encoder.encode(texts, spans, on_progress=clock)
        seconds, rate, steady = clock.rates(len(texts))
    finally:
        encoder.close()
    cosine = float(np.sum(encoded.vectors * reference.vectors, axis=1).min())
    return {
        "run": f"ray workers={workers}", "workers": workers, "seconds": seconds, "rate": rate,
        "steady": steady, "ray_init_s": init_s, "min_cosine_vs_local": cosine,
    }


def driver_write_rate(n: int, dim: int, sentences_per_passage: float) -> dict:
    """Passages/s the driver can store: put_embeddings (chunks of 512) + FAISS flat add + write."""
    import faiss

    from qa.index.store import Store

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    k = max(1, round(sentences_per_passage))
    spans = np.arange(2 * k, dtype=np.int32).tobytes()
    sentence_blob = rng.standard_normal((k, dim)).astype(np.float16).tobytes()
    rows = [(i.to_bytes(32, "big"), vectors[i].tobytes(), spans, sentence_blob) for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="qa-ray-bench-") as tmp:
        store = Store.create(Path(tmp) / "index")
        start = time.perf_counter()
        for first in range(0, n, CHUNK):
            store.put_embeddings(rows[first : first + CHUNK])
        sqlite_s = time.perf_counter() - start
        start = time.perf_counter()
        index = faiss.index_factory(dim, "IDMap2,Flat", faiss.METRIC_INNER_PRODUCT)
        index.add_with_ids(vectors, np.arange(n, dtype=np.int64))
        faiss.write_index(index, str(Path(tmp) / "vectors.faiss"))
        faiss_s = time.perf_counter() - start
        store.conn.close()
    return {
        "rows": n, "sqlite_s": sqlite_s, "sqlite_rate": n / sqlite_s, "faiss_s": faiss_s,
        "faiss_rate": n / faiss_s, "driver_rate": n / (sqlite_s + faiss_s),
    }


def cluster_model(per_worker: float, driver: float, sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256)) -> list[dict]:
    """Modelled passages/s of W workers: linear in W until the driver's write rate caps it."""
    return [
        {"workers": w, "rate": min(w * per_worker, driver), "driver_bound": w * per_worker >= driver}
        for w in sizes
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="number of BBC paragraphs")
    parser.add_argument("--all", action="store_true", help="every BBC paragraph")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=256, help="passages per Ray task")
    parser.add_argument("--write-n", type=int, default=20000, help="rows for the driver write test")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import qa  # noqa: F401 - offline model loading
    from qa.embed.model import resolve_model
    from qa.ingest.passages import split_sentences

    texts = bbc_paragraphs(None if args.all else args.n)
    spans = [split_sentences(t) for t in texts]
    ref = resolve_model(None)
    local, reference = run_local(ref, texts, spans)
    runs = [local] + [run_ray(ref, texts, spans, w, args.batch_size, reference) for w in args.workers]
    again, _ = run_local(ref, texts, spans)  # the box is shared: bracket the Ray runs
    again["run"] = "local (again)"
    runs.append(again)
    baseline = (local["rate"] + again["rate"]) / 2
    for run in runs:
        run["overhead_vs_local"] = run["rate"] / baseline
    mean_sentences = float(np.mean([len(s) for s in spans])) if spans else 1.0
    writes = driver_write_rate(args.write_n, reference.vectors.shape[1], mean_sentences)
    one = next((r for r in runs if r.get("workers") == 1), runs[-1])
    model = cluster_model(one["steady"], writes["driver_rate"])
    report = {
        "cpu": cpu_description(), "passages": len(texts), "runs": runs, "driver": writes, "model": model,
    }
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


def render(report: dict) -> str:
    lines = [f"{report['cpu']}; {report['passages']} BBC paragraphs", ""]
    lines.append(f"{'run':<16}{'seconds':>9}{'passages/s':>12}{'steady/s':>10}{'vs local':>10}{'init s':>8}")
    for r in report["runs"]:
        init = f"{r['ray_init_s']:.1f}" if "ray_init_s" in r else "-"
        lines.append(
            f"{r['run']:<16}{r['seconds']:>9.1f}{r['rate']:>12.1f}{r['steady']:>10.1f}"
            f"{r['overhead_vs_local']:>9.2f}x{init:>8}"
        )
    d = report["driver"]
    lines += [
        "",
        f"driver writes ({d['rows']} rows): SQLite put_embeddings {d['sqlite_rate']:,.0f}/s, "
        f"FAISS flat add+write {d['faiss_rate']:,.0f}/s -> driver bound {d['driver_rate']:,.0f} passages/s",
        "modelled cluster (steady per-worker rate of the workers=1 run x W, capped by the driver):",
    ]
    for m in report["model"]:
        bound = "  (driver-bound)" if m["driver_bound"] else ""
        lines.append(f"  W={m['workers']:<4} {m['rate']:>10,.0f} passages/s{bound}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
