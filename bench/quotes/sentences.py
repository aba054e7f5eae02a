"""Print an article's sentences as qa indexes them, numbered paragraph.sentence, for labelling.

    python bench/quotes/sentences.py FILE [--attributed]

With --attributed, each sentence is followed by what qa.quotes.attribute finds (for reading
the rules' mistakes on dev articles; never to write labels).
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa.ingest.passages import split_sentences
from qa.ingest.readers import ReadOptions, reader_for


def article_paragraphs(path: str) -> list[str]:
    articles = list(reader_for(path)(Path(path), ReadOptions(), lambda m: None))
    return articles[0].paragraphs


def numbered(path: str) -> list[tuple[str, str]]:
    """(paragraph.sentence, sentence text) of an article's body."""
    out = []
    for p, paragraph in enumerate(article_paragraphs(path), start=1):
        for s, (a, b) in enumerate(split_sentences(paragraph), start=1):
            out.append((f"{p}.{s}", paragraph[a:b]))
    return out


def main() -> None:
    path = sys.argv[1]
    found = {}
    if "--attributed" in sys.argv:
        from qa.quotes.attribute import attribute

        paragraphs = article_paragraphs(path)
        for quotes, text in zip(attribute(paragraphs), paragraphs):
            for q in quotes:
                found[text[q.start:q.end]] = f"{q.kind}: {q.speaker}"
    for number, text in numbered(path):
        print(f"{number} {text}")
        if text in found:
            print(f"      => {found[text]}")


if __name__ == "__main__":
    main()
