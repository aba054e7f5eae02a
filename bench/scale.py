"""Scale benchmark: a synthetic-but-realistic index of N passages, built, searched and grown.

    .venv/bin/python bench/scale.py --passages 100000 --json --out /tmp/scale-100k
    .venv/bin/python bench/scale.py --crossover          # flat vs approximate latency vs N
    .venv/bin/python bench/scale.py --warm-only /tmp/scale-100k   # p50/p95 again, same questions

What is synthetic (say so wherever the numbers are quoted):
  * vectors: a pool of real BBC paragraphs is embedded once with the packaged model; every
    passage vector is a mix of two pool vectors plus Gaussian noise, renormalised, so the
    timings are about indexing and search, not about embedding N passages on 2 CPUs;
  * texts: sentences of the same two BBC paragraphs recombined, so FTS5 has real postings;
  * sentence vectors (for the answer sentence) are the passage vector repeated (stored as qa
    stores them: int8 with a scale each, see qa/index/codecs.py).
Everything else is the real thing: the qa SQLite schema written through qa.index.store.Store,
the FAISS file from qa.index.vectors.refresh_index, hybrid questions through
qa.search.searcher.Searcher, and `qa ask` as a new process.

Prints one JSON object: passages, index_type, build_s, disk_mb, recall_at_10, warm_p50_ms,
warm_p95_ms, cold_ask_s, ask_rss_mb, add_1000_s. A breakdown goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "corpora" / "bbc"
QA = ROOT / ".venv" / "bin" / "qa"
NOISE = 0.02  # per-component Gaussian noise on a passage vector (components are ~0.05)
PER_ARTICLE = 8
BATCH = 10_000
QUERIES = 1000


def log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


# ---- the pool of real passages ----------------------------------------------------------------
@dataclass
class Pool:
    """Real BBC paragraphs (split into sentences), their titles and their real vectors."""

    sentences: list[list[str]]
    titles: list[str]
    vectors: np.ndarray


def read_pool(size: int) -> tuple[list[list[str]], list[str]]:
    """The first ``size`` BBC paragraphs with at least two sentences, in file order."""
    from qa.ingest.passages import split_sentences

    if not BBC.is_dir():
        sys.exit(f"bench/scale.py needs the BBC corpus at {BBC}")
    sentences, titles = [], []
    for path in sorted(BBC.glob("*/*.txt")):
        title, _, body = path.read_text(encoding="utf-8", errors="replace").partition("\n")
        for paragraph in re.split(r"\n\s*\n", body):
            text = " ".join(paragraph.split())
            parts = [text[a:b] for a, b in split_sentences(text)] if text else []
            if len(parts) >= 2:
                sentences.append(parts)
                titles.append(title.strip())
            if len(sentences) == size:
                return sentences, titles
    return sentences, titles


def embed_pool(size: int, index_dir: Path) -> tuple[Pool, str]:
    """Embed the pool with the packaged model; export the query encoder into ``index_dir``."""
    from qa.embed.model import resolve_model
    from qa.embed.passage_encoder import PassageEncoder
    from qa.index.layout import IndexLayout
    from qa.ingest.passages import split_sentences

    sentences, titles = read_pool(size)
    ref = resolve_model(None)
    encoder = PassageEncoder(ref)
    texts = [" ".join(s) for s in sentences]
    started = time.perf_counter()
    vectors = encoder.encode(texts, [split_sentences(t) for t in texts]).vectors
    log(f"embedded {len(texts)} real BBC paragraphs in {time.perf_counter() - started:.1f}s")
    encoder.export_onnx(IndexLayout(index_dir).encoder_dir)
    return Pool(sentences, titles, np.asarray(vectors, dtype=np.float32)), ref.name


# ---- synthetic passages -------------------------------------------------------------------------
@dataclass
class Synthetic:
    """One batch of synthetic passages."""

    texts: list[str]
    titles: list[str]
    vectors: np.ndarray


def synthesize(pool: Pool, n: int, seed: int) -> Iterator[Synthetic]:
    """``n`` passages in batches: two pool paragraphs mixed, in text and in vector."""
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    dim = pool.vectors.shape[1]
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        first = rng.integers(0, len(pool.titles), size)
        second = rng.integers(0, len(pool.titles), size)
        weight = rng.uniform(0.55, 1.0, size).astype(np.float32)[:, None]
        mixed = weight * pool.vectors[first] + (1 - weight) * pool.vectors[second]
        mixed += NOISE * rng.standard_normal((size, dim)).astype(np.float32)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        texts = []
        for a, b in zip(first.tolist(), second.tolist()):
            own = pool.sentences[a]
            keep = pick.sample(own, k=pick.randint(1, len(own)))
            texts.append(" ".join(keep + [pick.choice(pool.sentences[b])]))
        yield Synthetic(texts, [pool.titles[a] for a in first.tolist()], mixed.astype(np.float32))


def queries(pool: Pool, n: int, seed: int) -> np.ndarray:
    """Query vectors near the data: pool vectors with fresh noise."""
    rng = np.random.default_rng(seed + 1)
    base = pool.vectors[rng.integers(0, len(pool.titles), n)]
    q = base + NOISE * rng.standard_normal(base.shape).astype(np.float32)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def questions(pool: Pool, n: int, seed: int) -> list[str]:
    """Questions of 4-8 words taken from BBC sentences (what a reader might type)."""
    pick = random.Random(seed + 2)
    out = []
    while len(out) < n:
        words = re.findall(r"[A-Za-z][a-z']+", pick.choice(pick.choice(pool.sentences)))
        if len(words) >= 4:
            start = pick.randint(0, max(0, len(words) - 6))
            out.append(" ".join(words[start : start + pick.randint(4, 8)]))
    return out


# ---- the qa index (the only place that knows the store's write API) -------------------------
def write_passages(store, batch: Synthetic, model: str, first_id: int) -> None:
    """Insert one batch as articles of PER_ARTICLE passages, with their embeddings.

    The embedding key includes the passage's running number: recombined texts can repeat,
    and each synthetic passage has its own vector.
    """
    from qa.index.store import NewArticle, NewPassage
    from qa.ingest.article import ArticleMeta
    from qa.ingest.passages import split_sentences

    rows, articles = [], []
    for offset, (text, vector) in enumerate(zip(batch.texts, batch.vectors)):
        number = first_id + offset
        key = hashlib.sha256(f"{model}\0{number}\0{text}".encode()).digest()
        spans = split_sentences(text)
        sentence_vectors = np.repeat(vector[None, :], len(spans), axis=0)
        rows.append((key, vector, np.asarray(spans, np.int32).tobytes(), sentence_vectors))
        if offset % PER_ARTICLE == 0:
            date = f"{2020 + number % 5}-{1 + number % 12:02d}-{1 + number % 28:02d}"
            meta = ArticleMeta(batch.titles[offset], "BBC (synthetic)", date, None, None)
            articles.append((f"synthetic/{number // PER_ARTICLE:08d}.txt", meta, []))
        articles[-1][2].append(NewPassage(offset % PER_ARTICLE + 1, None, None, text, key))
    store.put_embeddings(rows)
    with store.transaction():
        for path, meta, passages in articles:
            file_id = store.insert_file(path, "synthetic", hashlib.sha256(path.encode()).hexdigest())
            store.insert_article(file_id, NewArticle(None, meta, passages))


BACKEND = "local"  # --backend: where the vectors and BM25 live (qa.backends)


def commit_and_derive(store, model: str, dim: int, index_type: str) -> dict:
    """Bump the generation, then write the vector index and manifest.json as `qa index` does."""
    from qa.backends import parse_backend
    from qa.index.layout import read_manifest
    from qa.index.store import dumps_manifest
    from qa.index.vectors import refresh_index

    spec = parse_backend(BACKEND)
    values = {"generation": str(store.generation + 1), "model": model, "dimension": str(dim)}
    if spec.kind != "local":
        values.update(backend=spec.describe(), catalogue=store.meta().get("catalogue") or "scale-bench")
    with store.transaction():
        store.set_meta(values)
    manifest = store.manifest()
    previous = read_manifest(store.layout).get("vectors")
    if spec.kind == "local":
        manifest["vectors"] = refresh_index(store, dim, index_type, previous, lambda m: log(m))
    else:
        from qa.backends.milvus_writer import MilvusWriter

        writer = MilvusWriter.connect(spec, None)
        started = time.perf_counter()
        manifest["vectors"] = writer.sync(store, dim, index_type, previous, lambda m: log(m))
        log(f"Milvus sync ({spec.describe()}): {time.perf_counter() - started:.1f}s")
        writer.close()
    tmp = store.layout.manifest.with_suffix(".json.tmp")
    tmp.write_text(dumps_manifest(manifest), encoding="utf-8")
    os.replace(tmp, store.layout.manifest)
    return manifest["vectors"]


# ---- measurements -------------------------------------------------------------------------------
def build(out: Path, pool: Pool, model: str, n: int, index_type: str, seed: int) -> tuple[float, np.ndarray, dict]:
    """Write N passages and build the vector index; returns (seconds, all vectors, plan info)."""
    from qa.index.store import Store

    store = Store.create(out)
    kept = np.zeros((n, pool.vectors.shape[1]), dtype=np.float32)
    started = time.perf_counter()
    done = 0
    for batch in synthesize(pool, n, seed):
        write_passages(store, batch, model, done)
        kept[done : done + len(batch.texts)] = batch.vectors
        done += len(batch.texts)
    rows_s = time.perf_counter() - started
    info = commit_and_derive(store, model, pool.vectors.shape[1], index_type)
    total = time.perf_counter() - started
    log(f"SQLite rows + FTS5: {rows_s:.1f}s; vector index ({info['type']}, {info['factory']}): {total - rows_s:.1f}s")
    store.close()
    return total, kept, info


def recall_at_10(out: Path, kept: np.ndarray, pool: Pool, seed: int) -> float:
    """Recall@10 of the qa read path (mapped file, exact re-rank) against brute force."""
    import faiss

    from qa.index.layout import read_manifest
    from qa.index.store import Store
    from qa.index.vectors import load_index, stored_vectors

    q = queries(pool, QUERIES, seed)
    exact = faiss.IndexFlatIP(kept.shape[1])
    exact.add(kept)
    faiss.cvar.distance_compute_blas_threshold = 20
    _, truth = exact.search(q, 10)
    truth += 1  # passage ids start at 1 and follow insertion order
    if BACKEND != "local":  # through the backend's own dense search, one query at a time
        from qa.search.searcher import Searcher

        searcher = Searcher(out, None, log)
        started = time.perf_counter()
        found = np.asarray([[i for i, _ in searcher.backend.dense(one, 10, None)] + [-1] * 10 for one in q])[:, :10]
        log(f"dense search alone: {(time.perf_counter() - started) / QUERIES * 1000:.2f} ms/query")
        searcher.close()
        return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.tolist(), truth.tolist())]))
    store = Store.open(out)
    vectors = load_index(store, kept.shape[1], store.counts()[1], log, read_manifest(store.layout).get("vectors"))
    started = time.perf_counter()
    _, found = vectors.search(q, 10, vectors_for=lambda ids: stored_vectors(store, ids, kept.shape[1]))
    log(f"dense search alone: {(time.perf_counter() - started) / QUERIES * 1000:.2f} ms/query")
    store.close()
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.tolist(), truth.tolist())]))


def warm_latency(out: Path, asked: list[str]) -> tuple[float, float]:
    """p50 and p95 (ms) of hybrid questions through one open Searcher."""
    from qa.search.searcher import Searcher

    searcher = Searcher(out, None, log)
    for question in asked[:5]:
        searcher.ask(question)
    times = []
    for question in asked[5:]:
        started = time.perf_counter()
        searcher.ask(question)
        times.append((time.perf_counter() - started) * 1000)
    searcher.close()
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.95)]


def cold_ask(out: Path, question: str) -> tuple[float, float]:
    """Median wall seconds and peak RSS (MB) of 3 new `qa ask` processes."""
    walls, peaks = [], []
    for _ in range(3):
        started = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-v", str(QA), "ask", "--index-dir", str(out), question],
            capture_output=True, text=True,
        )
        walls.append(time.perf_counter() - started)
        if proc.returncode != 0:
            sys.exit(f"qa ask failed: {proc.stderr[-500:]}")
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        peaks.append(int(peak.group(1)) / 1024 if peak else float("nan"))
    return statistics.median(walls), max(peaks)


def add_1000(out: Path, pool: Pool, model: str, n: int, index_type: str, seed: int) -> float:
    """Seconds to add 1,000 passages (rows, FTS5, vector index update, manifest)."""
    from qa.index.store import Store

    store = Store.open(out)
    batch = next(synthesize(pool, 1000, seed + 7))
    started = time.perf_counter()
    write_passages(store, batch, model, n)
    info = commit_and_derive(store, model, pool.vectors.shape[1], index_type)
    seconds = time.perf_counter() - started
    store.close()
    log(f"add 1000: {info['update']} (+{info['added']} -{info['removed']}) in {seconds:.2f}s")
    return seconds


def disk_mb(out: Path) -> float:
    """The index folder's size, without the exported query encoder (the same at every N)."""
    total = sum(
        p.stat().st_size for p in out.rglob("*") if p.is_file() and "encoder" not in p.relative_to(out).parts
    )
    return total / 2**20


def run(args: argparse.Namespace) -> dict:
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty: give a new folder to --out")
    out.mkdir(parents=True, exist_ok=True)
    pool, model = embed_pool(args.pool, out)
    build_s, kept, info = build(out, pool, model, args.passages, args.index_type, args.seed)
    size = disk_mb(out)
    recall = recall_at_10(out, kept, pool, args.seed)
    del kept
    asked = questions(pool, 105, args.seed)
    p50, p95 = warm_latency(out, asked)
    # Milvus Lite: one process per file, and this one holds it; time `qa ask` after the run
    lite = BACKEND.startswith("milvus:") and not BACKEND.startswith("milvus://")
    cold_s, rss = (float("nan"), float("nan")) if lite else cold_ask(out, asked[0])
    added = add_1000(out, pool, model, args.passages, args.index_type, args.seed)
    return {
        "passages": args.passages, "index_type": info["type"], "build_s": round(build_s, 2),
        "disk_mb": round(size, 1), "recall_at_10": round(recall, 4), "warm_p50_ms": round(p50, 2),
        "warm_p95_ms": round(p95, 2), "cold_ask_s": round(cold_s, 3), "ask_rss_mb": round(rss, 1),
        "add_1000_s": round(added, 3),
    }


# ---- crossover: where approximate search starts to pay -----------------------------------------
def crossover(sizes: list[int], dim: int = 384, seed: int = 0) -> list[dict]:
    """Warm single-query latency (ms) of flat, hnsw and ivfpq (+ exact re-rank) vs N.

    Clustered random unit vectors; the re-rank reads candidates from an in-memory array, so it
    is a lower bound of the SQLite re-rank qa does.
    """

    from qa.index.index_types import choose
    from qa.index.vectors import empty_index, search

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((500, dim)).astype(np.float32)
    rows = []
    for n in sizes:
        x = centres[rng.integers(0, 500, n)] + 0.7 * rng.standard_normal((n, dim)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        q = x[rng.integers(0, n, 200)] + 0.05 * rng.standard_normal((200, dim)).astype(np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        row: dict = {"passages": n}
        for kind in ("flat", "hnsw", "ivfpq"):
            if kind == "hnsw" and n > 100_000:
                continue
            plan = choose(kind, n, dim)
            started = time.perf_counter()
            index = empty_index(plan, dim)
            if not index.is_trained:
                index.train(x[:: max(1, n // (int(plan.factory.split(",")[0][3:]) * 32))])
            index.add_with_ids(x, np.arange(n))
            row[f"{kind}_build_s"] = round(time.perf_counter() - started, 2)
            times = []
            for one in q:
                started = time.perf_counter()
                search(index, plan, one[None, :], 100, vectors_for=lambda ids: x[ids])
                times.append((time.perf_counter() - started) * 1000)
            row[f"{kind}_ms"] = round(statistics.median(times), 2)
        log(json.dumps(row))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--out", help="new, empty folder for the index (left usable by qa ask)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--index-type", default="auto", choices=["auto", "flat", "hnsw", "ivfpq"])
    parser.add_argument("--backend", default="local", help="qa.backends spec, e.g. milvus:/tmp/s.db")
    parser.add_argument("--pool", type=int, default=800, help="real BBC paragraphs to embed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crossover", action="store_true", help="latency of each type vs N instead")
    parser.add_argument("--warm-only", metavar="DIR", help="only the warm p50/p95 of an index this wrote")
    args = parser.parse_args(argv)
    if args.warm_only:  # the run's own questions: they need the pool's text, not its vectors
        sentences, titles = read_pool(args.pool)
        pool = Pool(sentences, titles, np.zeros((0, 0), np.float32))
        p50, p95 = warm_latency(Path(args.warm_only), questions(pool, 105, args.seed))
        print(json.dumps({"warm_p50_ms": round(p50, 2), "warm_p95_ms": round(p95, 2)}))
        return
    if args.crossover:
        print(json.dumps(crossover([10_000, 25_000, 50_000, 100_000, 200_000]), indent=1))
        return
    if not args.out:
        parser.error("--out DIR is required")
    if args.passages < 1000:
        parser.error("--passages must be at least 1000")
    global BACKEND
    BACKEND = args.backend
    result = {**run(args), "backend": args.backend}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
