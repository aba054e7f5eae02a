"""Same answers on Milvus: 120 BBC articles, 20 held-out questions, default vs Milvus Lite.

    .venv/bin/python bench/milvus_parity.py [--json]

Indexes the 60 articles of bench/questions/bbc.jsonl plus 60 others (seeded pick) with the
packaged model on the default backend, copies the index and switches the copy to Milvus Lite
(`qa index --backend milvus:...`: the same passages and vectors, no re-embedding), then asks
the first 20 test-split questions of both. Prints how many have the same top 5 (as a set and
in order) and the same top 1, the hit rate@5 of each, and the overlap of the lexical side alone.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "corpora" / "bbc"
QUESTIONS = ROOT / "bench" / "questions" / "bbc.jsonl"


class Quiet:
    def start(self, *a, **k): ...
    def advance(self, n): ...
    def stop(self): ...
    def warn(self, message): print(f"[parity] {message}", file=sys.stderr)


def corpus(folder: Path, seed: int = 20261204) -> list[dict]:
    """Copy 120 articles into ``folder`` (as bbc/topic/NNN.txt); return the 20 questions."""
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    asked = sorted({r["path"].split("/", 1)[1] for r in rows})
    others = sorted(str(p.relative_to(BBC)) for p in BBC.glob("*/*.txt") if str(p.relative_to(BBC)) not in asked)
    chosen = asked + sorted(random.Random(seed).sample(others, 120 - len(asked)))
    for rel in chosen:
        (folder / "bbc" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(BBC / rel, folder / "bbc" / rel)
    return [r for r in rows if r["split"] == "test"][:20]


def top(searcher, question: str, mode: str = "hybrid", k: int = 5) -> list[tuple[str, int]]:
    answer = searcher.ask(question, k=k, mode=mode)
    return [(Path(h.source.path).as_posix().split("/bbc/", 1)[-1], h.source.paragraph) for h in answer.hits]


def compare(local_dir: Path, milvus_dir: Path, questions: list[dict]) -> dict:
    from qa.search.searcher import Searcher

    a, b = Searcher(local_dir, None, Quiet().warn), Searcher(milvus_dir, None, Quiet().warn)
    try:
        same5 = ordered5 = same1 = lexical5 = hit_a = hit_b = 0
        for q in questions:
            ta, tb = top(a, q["question"]), top(b, q["question"])
            same5 += set(ta) == set(tb)
            ordered5 += ta == tb
            same1 += ta[:1] == tb[:1]
            lexical5 += len(set(top(a, q["question"], "lexical")) & set(top(b, q["question"], "lexical")))
            want = q["path"].split("/", 1)[1]
            hit_a += any(p == want for p, _ in ta)
            hit_b += any(p == want for p, _ in tb)
    finally:
        a.close()
        b.close()
    n = len(questions)
    return {"questions": n, "same_top5": same5, "same_top5_ordered": ordered5, "same_top1": same1,
            "lexical_top5_overlap": round(lexical5 / (5 * n), 3), "article_hit5_local": hit_a,
            "article_hit5_milvus": hit_b}


def build(work: Path) -> tuple[Path, Path, list[dict]]:
    from qa.index.indexer import run_index

    docs, local, milvus = work / "docs", work / "local", work / "milvus"
    questions = corpus(docs)
    run_index(local, [docs / "bbc"], None, Quiet())
    shutil.copytree(local, milvus)
    run_index(milvus, [docs / "bbc"], None, Quiet(), backend=f"milvus:{work / 'parity.db'}")
    return local, milvus, questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = compare(*build(Path(tmp)))
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
