"""Speed benchmark for qa: every figure next to its baseline from the same run, as a ratio.

    .venv/bin/python bench/speed.py [--runs 5] [--sample 500] [--json bench/results/speed.json]

Figures (median of --runs runs each; machines are noisy, so compare ratios, not seconds):
  cold_ask        `qa ask` in a new process on the seed index, vs `python -c "import sentence_transformers"`
  help / sources  `qa --help` and `qa sources`, vs `python -c pass`
  warm_query      per-question latency of the search path used by `qa ask --json -` on the BBC
                  index (answer sentence included): p50 and p90
  index_speed     passages/s of `qa index` over the BBC corpus (end to end), and of its encoder
                  alone, vs naive `SentenceTransformer(...).encode(texts, batch_size=32)` in fp32
                  over a sample of the same passages; cosine of stored vectors to fp32
  noop_reindex    a second `qa index` of the unchanged BBC corpus
  fp32_matmul     the machine's own fp32 ceiling: best GFLOP/s of a matmul shaped like the model's
                  feed-forward layer, over the GFLOP/s the naive encoder reaches on the sample. No
                  exact-fp32 encoder can beat the naive one by more than this ratio; above it, only
                  lower precision helps (bf16 is used automatically where the CPU has it natively)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.index.layout import IndexLayout, read_manifest  # noqa: E402
BBC = ROOT.parent / "shared" / "corpora" / "bbc"
QA = [sys.executable, "-m", "qa"]
QUESTION = "what did Peskov say about tanks"


def wall(cmd: list[str], runs: int, stdin: str | None = None) -> tuple[float, str]:
    """Median wall time of ``cmd`` over ``runs`` runs (after one warm-up for the page cache)."""
    times = []
    out = ""
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
        out = proc.stdout
        if i:
            times.append(elapsed)
    return statistics.median(times), out


def row(name: str, value: float, baseline: float, unit: str, target: str, ok: bool) -> dict:
    ratio = value / baseline if baseline else float("nan")
    print(f"{name:<26} {value:>10.3f} {unit:<12} baseline {baseline:>10.3f}  ratio {ratio:>6.3f}"
          f"  target {target:<10} {'PASS' if ok else 'FAIL'}")
    return {"name": name, "value": value, "baseline": baseline, "unit": unit,
            "ratio": ratio, "target": target, "pass": ok}


def cold_start(tmp: Path, runs: int) -> list[dict]:
    seeds = tmp / "seeds"
    subprocess.run([*QA, "index", "data", "--index-dir", str(seeds)], check=True,
                   capture_output=True, cwd=ROOT)
    st_import, _ = wall([sys.executable, "-c", "import sentence_transformers"], runs)
    py, _ = wall([sys.executable, "-c", "pass"], runs)
    ask, out = wall([*QA, "ask", QUESTION, "--index-dir", str(seeds)], runs)
    assert "will burn as other tanks" in out, out
    help_, _ = wall([*QA, "--help"], runs)
    sources, _ = wall([*QA, "sources", "--index-dir", str(seeds)], runs)
    return [
        row("cold_ask", ask, st_import, "s", "<= 0.12x", ask <= 0.12 * st_import),
        row("help", help_, py, "s", "<= 0.3 s", help_ <= 0.3),
        row("sources", sources, py, "s", "<= 0.3 s", sources <= 0.3),
    ]


def index_bbc(tmp: Path) -> tuple[Path, float, int]:
    index_dir = tmp / "bbc"
    start = time.perf_counter()
    subprocess.run([*QA, "index", str(BBC), "--index-dir", str(index_dir)], check=True,
                   capture_output=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    passages = read_manifest(IndexLayout(index_dir))["passages"]
    return index_dir, elapsed, passages


@dataclass(frozen=True)
class EncoderRace:
    """The naive encoder and ours on one sample of passages."""

    naive_per_s: float
    ours_per_s: float
    cos_min: float
    cos_mean: float
    naive_gflops: float  # model FLOPs over the naive encoder's time
    peak_gflops: float  # best fp32 matmul on the model's feed-forward shape


def encoder_speed(index_dir: Path, sample: int, runs: int) -> EncoderRace:
    import numpy as np
    from qa.embed.passage_encoder import PassageEncoder, load_sentence_transformer
    from qa.embed.model import resolve_model
    from qa.ingest.passages import split_sentences

    conn = sqlite3.connect(IndexLayout(index_dir).db)
    texts = [t for (t,) in conn.execute("SELECT DISTINCT text FROM passages")]
    random.Random(0).shuffle(texts)
    texts = texts[:sample]
    spans = [split_sentences(t) for t in texts]
    ref = resolve_model(None)
    naive_model = load_sentence_transformer(ref)  # plain SentenceTransformer(path), fp32, CPU
    ours = PassageEncoder(ref)
    naive_times, our_times = [], []
    for _ in range(runs):
        start = time.perf_counter()
        naive = naive_model.encode(texts, batch_size=32, normalize_embeddings=True)
        naive_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        encoded = ours.encode(texts, spans)
        our_times.append(time.perf_counter() - start)
    cos = np.sum(naive * encoded.vectors, axis=1)
    config = naive_model[0].auto_model.config
    return EncoderRace(
        naive_per_s=len(texts) / statistics.median(naive_times),
        ours_per_s=len(texts) / statistics.median(our_times),
        cos_min=float(cos.min()), cos_mean=float(cos.mean()),
        naive_gflops=model_flops(naive_model, texts) / statistics.median(naive_times) / 1e9,
        peak_gflops=fp32_peak_gflops(config.hidden_size, config.intermediate_size))


def model_flops(model, texts: list[str]) -> float:
    """Floating-point operations of one forward pass of a BERT-style encoder over ``texts``:
    per layer and token 2*(4h^2 + 2hi) for the projections and feed-forward, plus 4*L*h for
    the attention scores and their weighted sum (L = the passage's length in word pieces)."""
    config = model[0].auto_model.config
    h, i, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    lengths = [len(ids) for ids in model.tokenizer(texts, truncation=True,
                                                   max_length=model.max_seq_length)["input_ids"]]
    return float(sum(layers * (2 * n * (4 * h * h + 2 * h * i) + 4 * n * n * h) for n in lengths))


def fp32_peak_gflops(hidden: int, inner: int, tokens: int = 4096, runs: int = 7) -> float:
    """Best fp32 GFLOP/s of torch's matmul on the model's feed-forward shape, all threads."""
    import torch

    a, b = torch.randn(tokens, hidden), torch.randn(hidden, inner)
    for _ in range(5):
        a @ b
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        best = min(best, (time.perf_counter() - start) / 10)
    return 2 * tokens * hidden * inner / best / 1e9


def warm_queries(index_dir: Path, n: int = 200) -> tuple[float, float]:
    """p50 and p90 latency (ms) of Searcher.ask, the path `qa ask --json -` runs per line."""
    from qa.search.searcher import Searcher

    titles = sorted(p.read_text(encoding="latin-1").splitlines()[0] for p in BBC.glob("*/*.txt"))
    questions = [f"what happened: {t}" for t in random.Random(1).sample(titles, n)]
    searcher = Searcher(index_dir, None, notice=lambda m: None)
    for q in questions[:5]:
        searcher.ask(q)
    times = []
    for q in questions:
        start = time.perf_counter()
        searcher.ask(q)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * len(times))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=500, help="passages for the encoder race")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "speed.json")
    args = parser.parse_args()
    from qa.embed.passage_encoder import cpu_has_native_bf16, cpuinfo_field

    machine = {"machine": platform.machine(),
               "cpu": cpuinfo_field("model name") or platform.processor() or platform.machine(),
               "cores": os.cpu_count(), "python": platform.python_version(),
               "native_bf16": cpu_has_native_bf16()}
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, native bf16: "
          f"{'yes' if machine['native_bf16'] else 'no'}, python {machine['python']}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="qa-speed-") as tmp_name:
        tmp = Path(tmp_name)
        rows += cold_start(tmp, args.runs)
        index_dir, seconds, passages = index_bbc(tmp)
        race = encoder_speed(index_dir, args.sample, args.runs)
        naive, ours, e2e = race.naive_per_s, race.ours_per_s, passages / seconds
        rows.append(row("index_e2e_passages_per_s", e2e, naive, "passages/s", ">= 2.5x", e2e >= 2.5 * naive))
        rows.append(row("encoder_passages_per_s", ours, naive, "passages/s", ">= 2.5x", ours >= 2.5 * naive))
        rows.append(row("cosine_min_to_fp32", race.cos_min, 1.0, "", ">= 0.999", race.cos_min >= 0.999))
        rows.append(row("fp32_matmul_gflops", race.peak_gflops, race.naive_gflops, "GFLOP/s", "(info)", True))
        noop, out = wall([*QA, "index", str(BBC), "--index-dir", str(index_dir)], args.runs)
        assert "0 passages embedded" in out, out
        rows.append(row("noop_reindex", noop, 1.0, "s", "<= 1 s", noop <= 1.0))
        p50, p90 = warm_queries(index_dir)
        rows.append(row("warm_query_p50", p50, 25.0, "ms", "<= 25 ms", p50 <= 25.0))
        rows.append(row("warm_query_p90", p90, 25.0, "ms", "(info)", True))
    result = {**machine, "runs": args.runs, "passages": passages, "cosine_mean": race.cos_mean,
              "rows": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
