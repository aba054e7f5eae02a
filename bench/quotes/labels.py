"""Turn the hand labels (bench/quotes/labels.txt) into labels.jsonl, with each sentence's text.

    python bench/quotes/labels.py

labels.txt names sentences by number (paragraph.sentence, as bench/quotes/sentences.py prints
them); labels.jsonl adds the sentence text so the bench matches sentences by text. One line per
article: {"path", "split", "quotes": [{"n", "sentence", "speakers": [accepted names]}]}.
"""

from __future__ import annotations

import json
from pathlib import Path

from sentences import numbered

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def read_labels(path: Path) -> list[dict]:
    articles: list[dict] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("= "):
            file, split = line[2:].rsplit(" ", 1)
            articles.append({"path": file, "split": split, "quotes": []})
            continue
        number, speakers = line.split(" ", 1)
        articles[-1]["quotes"].append(
            {"n": number, "speakers": [s.strip() for s in speakers.split("|")]}
        )
    return articles


def main() -> None:
    articles = read_labels(HERE / "labels.txt")
    with open(HERE / "labels.jsonl", "w", encoding="utf-8") as out:
        for article in articles:
            texts = dict(numbered(str(ROOT / article["path"])))
            for quote in article["quotes"]:
                quote["sentence"] = texts[quote["n"]]
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
    print(f"{len(articles)} articles, {sum(len(a['quotes']) for a in articles)} labelled sentences")


if __name__ == "__main__":
    main()
