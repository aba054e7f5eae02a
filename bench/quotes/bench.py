"""Quote attribution and "what did X say" on our hand-labelled articles, dev and test apart.

    python bench/quotes/bench.py [--split dev|test|all] [--questions] [--misses]

Attribution: every labelled speech-reporting sentence (labels.jsonl, from labels.txt) against
what qa.quotes.attribute finds in the same article's paragraphs: recall, precision, and the
share of found labelled sentences whose speaker is right (names compared lower-cased, without
a leading the/a/an or honorifics such as Mr/Sir/Lt Col; a label may accept several names).
--questions: the 40 "what did X say about Y" questions (questions.jsonl) asked with `qa ask`'s
Searcher on an index of the seeds and BBC politics + business (built once under
bench/results/quotes-index, real model): the first hit's answer sentence must be one of the
labelled quotes the question names. Also `qa quotes Peskov` on the seeds: found / precision.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from sentences import article_paragraphs  # noqa: E402

from qa.quotes.attribute import attribute  # noqa: E402

_DROP = {"the", "a", "an", "mr", "mrs", "ms", "miss", "dr", "sir", "lord", "lady", "dame",
         "prof", "lt", "col", "gen"}


def norm(name: str) -> str:
    words = re.findall(r"[\w&]+(?:['’]s)?", name.lower().replace("’", "'"))
    return " ".join(w for w in words if w not in _DROP)


def load_labels(split: str) -> list[dict]:
    rows = [json.loads(line) for line in open(HERE / "labels.jsonl", encoding="utf-8")]
    return [r for r in rows if split == "all" or r["split"] == split]


def found_quotes(path: str) -> dict[str, tuple[str, str]]:
    """sentence text -> (speaker, kind) as qa attributes the article."""
    paragraphs = article_paragraphs(str(ROOT / path))
    out = {}
    for quotes, text in zip(attribute(paragraphs), paragraphs):
        for q in quotes:
            out[text[q.start:q.end]] = (q.speaker, q.kind)
    return out


def attribution(split: str, misses: bool) -> dict[str, float]:
    labelled = found = hit = right = 0
    for article in load_labels(split):
        predicted = found_quotes(article["path"])
        gold = {q["sentence"]: q["speakers"] for q in article["quotes"]}
        labelled += len(gold)
        found += len(predicted)
        for sentence, speakers in gold.items():
            if sentence not in predicted:
                if misses:
                    print(f"  MISSED {article['path']}: {sentence[:110]}")
                continue
            hit += 1
            if norm(predicted[sentence][0]) in {norm(s) for s in speakers}:
                right += 1
            elif misses:
                print(f"  SPEAKER {predicted[sentence][0]!r} not {speakers}: {sentence[:90]}")
        if misses:
            for sentence, (speaker, _) in predicted.items():
                if sentence not in gold:
                    print(f"  EXTRA {article['path']} [{speaker}]: {sentence[:110]}")
    return {
        "articles": len(load_labels(split)), "labelled": labelled, "found": found,
        "recall": round(hit / max(labelled, 1), 3), "precision": round(hit / max(found, 1), 3),
        "speaker_right": round(right / max(hit, 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev", choices=["dev", "test", "all"])
    parser.add_argument("--questions", action="store_true")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    report = {"split": args.split, "attribution": attribution(args.split, args.misses)}
    if args.questions:
        from questions_bench import peskov, questions

        report["questions"] = questions(args.split, args.misses)
        report["peskov"] = peskov()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
