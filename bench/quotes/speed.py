"""Speed of attribution: indexing with it vs without (same run), and cold `qa quotes` vs `qa ask`.

    python bench/quotes/speed.py [--articles N] [--repeats R] [--model NAME]

Indexing: the first N BBC business + politics articles are indexed into fresh folders, with
attribution and with it switched off (qa.index.indexer.passage_quotes -> no quotes), runs
alternating, R each; throughput = passages per second, median. Cold commands: a fresh
interpreter runs `qa quotes Peskov`, `qa ask "what did Peskov say about tanks"` and
`python -c "import sentence_transformers"` on the seeds' index, R times each, median wall time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
BBC = ROOT.parent / "shared" / "corpora" / "bbc"

import qa.index.indexer as indexer  # noqa: E402


class _Quiet:
    def start(self, total, description, unit="passages"): ...
    def advance(self, n): ...
    def stop(self): ...
    def warn(self, message): ...


def _index_once(files: Path, model: str, attribute: bool) -> tuple[float, int]:
    original = indexer.passage_quotes
    if not attribute:
        indexer.passage_quotes = lambda texts: [() for _ in texts]
    target = Path(tempfile.mkdtemp(prefix="qa-quotes-speed-"))
    try:
        started = time.perf_counter()
        report = indexer.run_index(target / "index", [files], model, _Quiet())
        return time.perf_counter() - started, report.passages
    finally:
        indexer.passage_quotes = original
        shutil.rmtree(target, ignore_errors=True)


def indexing(n: int, repeats: int, model: str) -> dict:
    files = Path(tempfile.mkdtemp(prefix="qa-quotes-corpus-"))
    picked = sorted((BBC / "business").glob("*.txt"))[: n // 2] + sorted((BBC / "politics").glob("*.txt"))[: n - n // 2]
    for i, path in enumerate(picked):
        shutil.copy(path, files / f"{i:04d}-{path.parent.name}-{path.name}")
    with_, without = [], []
    try:
        _index_once(files, model, True)  # warm the model files and caches once
        for _ in range(repeats):
            for attribute, out in ((True, with_), (False, without)):
                seconds, passages = _index_once(files, model, attribute)
                out.append(passages / seconds)
    finally:
        shutil.rmtree(files, ignore_errors=True)
    a, b = statistics.median(with_), statistics.median(without)
    return {"articles": n, "model": model, "passages_per_s_with": round(a, 1),
            "passages_per_s_without": round(b, 1), "ratio": round(a / b, 3)}


def _cold(argv: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold(repeats: int) -> dict:
    index = Path(tempfile.mkdtemp(prefix="qa-quotes-cold-")) / "index"
    indexer.run_index(index, [ROOT / "data"], None, _Quiet())
    py = sys.executable
    quotes = _cold([py, "-m", "qa", "quotes", "Peskov", "--index-dir", str(index)], repeats)
    ask = _cold([py, "-m", "qa", "ask", "what did Peskov say about tanks", "--index-dir", str(index)], repeats)
    st = _cold([py, "-c", "import sentence_transformers"], repeats)
    shutil.rmtree(index.parent, ignore_errors=True)
    return {"qa_quotes_s": round(quotes, 3), "qa_ask_s": round(ask, 3),
            "import_sentence_transformers_s": round(st, 3),
            "quotes_vs_ask": round(quotes / ask, 3), "quotes_vs_import": round(quotes / st, 3),
            "ask_vs_import": round(ask / st, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default=None, help="default: the packaged all-MiniLM-L6-v2")
    args = parser.parse_args()
    model = args.model or indexer.resolve_model(None).name
    print(json.dumps({"indexing": indexing(args.articles, args.repeats, model),
                      "cold": cold(args.repeats * 2 - 1)}, indent=2))


if __name__ == "__main__":
    main()
