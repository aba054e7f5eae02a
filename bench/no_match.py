"""How often `no_match` is right: in-corpus questions answered, unrelated questions flagged.

    .venv/bin/python bench/no_match.py --split test \
        --answerable bench/questions/seeds.jsonl /tmp/seed-index \
        --answerable bench/questions/bbc.jsonl /tmp/bbc-index \
        --unrelated bench/questions/unrelated.jsonl /tmp/seed-index
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.search.searcher import Searcher  # noqa: E402


def rate(index: str, questions: list[str], want_no_match: bool) -> tuple[float, list[str]]:
    searcher = Searcher(Path(index), None, notice=lambda m: None)
    wrong = [q for q in questions if searcher.ask(q, k=5).no_match != want_no_match]
    searcher.close()
    return 1 - len(wrong) / max(len(questions), 1), wrong


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answerable", nargs=2, action="append", default=[])
    ap.add_argument("--unrelated", nargs=2, action="append", default=[])
    ap.add_argument("--split", default="test")
    args = ap.parse_args()
    for kind, pairs, want in (("answered", args.answerable, False), ("flagged", args.unrelated, True)):
        for qfile, index in pairs:
            rows = [json.loads(line) for line in Path(qfile).read_text(encoding="utf-8").splitlines() if line.strip()]
            questions = [r["question"] for r in rows if r.get("split") == args.split]
            share, wrong = rate(index, questions, want)
            print(f"{Path(qfile).name} ({args.split}, {len(questions)}): {kind} {share:.3f}")
            for q in wrong:
                print(f"   not {kind}: {q}")


if __name__ == "__main__":
    main()
