"""Warm and cold question latency of two index folders in one run: default vs Milvus.

    .venv/bin/python bench/milvus_speed.py LOCAL_DIR MILVUS_DIR [--questions 60]

Both folders come from `bench/scale.py` with the same --passages and --seed (the second with
--backend milvus:DIR/milvus.db), so they hold the same synthetic passages. Cold: median of 3
new `qa ask` processes each (before this process opens Milvus Lite, which serves one process
at a time). Warm: the same questions through one open Searcher each, alternating between the
two so that machine noise falls on both; p50 / p95 and the ratio Milvus / default.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402  (bench/scale.py: the same questions generator and cold-ask timer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("local", type=Path)
    parser.add_argument("milvus", type=Path)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--pool", type=int, default=800)
    args = parser.parse_args()
    sentences, titles = scale.read_pool(args.pool)
    pool = scale.Pool(sentences, titles, None)
    asked = scale.questions(pool, args.questions + 5, 0)
    cold = {name: scale.cold_ask(path, asked[0]) for name, path in (("local", args.local), ("milvus", args.milvus))}
    from qa.search.searcher import Searcher

    searchers = {"local": Searcher(args.local, None, scale.log), "milvus": Searcher(args.milvus, None, scale.log)}
    times: dict[str, list[float]] = {"local": [], "milvus": []}
    for i, question in enumerate(asked):
        for name, searcher in searchers.items():
            started = time.perf_counter()
            searcher.ask(question)
            if i >= 5:  # the first five warm caches up
                times[name].append((time.perf_counter() - started) * 1000)
    for searcher in searchers.values():
        searcher.close()
    out = {}
    for name, values in times.items():
        values.sort()
        out[name] = {"warm_p50_ms": round(statistics.median(values), 1),
                     "warm_p95_ms": round(values[int(len(values) * 0.95)], 1),
                     "cold_ask_s": round(cold[name][0], 2), "ask_rss_mb": round(cold[name][1], 1)}
    out["p50_ratio_milvus_to_local"] = round(out["milvus"]["warm_p50_ms"] / out["local"]["warm_p50_ms"], 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
