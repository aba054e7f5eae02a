"""Wire copies: does a republished story show once in a top 5, with the right `also_in`?

Builds a corpus from BBC articles: each story the questions ask about as "AP" (the original),
a "Reuters" copy (dateline "LONDON (Reuters) -", last paragraph cut, a few words changed,
paragraphs split at a sentence, one day earlier for every fourth story so the copy is first)
and for every other story an "AFP" copy (dateline, paragraphs merged in pairs, a word changed,
one day later); plus other BBC articles of the same categories, which must never be grouped.
Then asks the questions and counts, in each top 5, pairs of hits sharing >= 70 % of the
smaller one's word 4-gram shingles (target 0), and hits whose `also_in` is right: every other
version of the story holding >= 70 % of the hit's shingles listed, nothing listed that is not a
version holding >= 30 % of them.

    .venv/bin/python bench/wire_copies.py --bbc ../shared/corpora/bbc --out /tmp/wire
    (--no-collapse for the baseline; PYTHONPATH=/work/main to measure another checkout)

The shingles here are plain Python sets, independent of qa's own hashing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))  # PYTHONPATH may name another qa

QUESTIONS = Path(__file__).resolve().parent / "questions" / "bbc.jsonl"
CITIES = ("LONDON", "NEW YORK", "PARIS", "WASHINGTON", "BRUSSELS")
SWAPS = {"said": "stated", "also": "additionally", "but": "however", "company": "firm",
         "government": "administration", "about": "around", "big": "large", "new": "fresh",
         "people": "individuals", "expected": "predicted", "show": "indicate", "help": "aid"}
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


@dataclass
class Story:
    """One article as written into the corpus."""

    story: str  # the BBC file it comes from: versions of one story share it
    outlet: str
    date: str
    title: str
    paragraphs: list[str]

    def record(self) -> dict[str, str]:
        return {"title": self.title, "outlet": self.outlet, "date": self.date,
                "text": "\n\n".join(self.paragraphs)}


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))}


def overlap(a: set, b: set) -> float:
    """Shared shingles over the smaller set's."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def read_bbc(path: Path) -> tuple[str, list[str]]:
    """(title, body paragraphs) of a BBC file: the first line is the title."""
    blocks = [b.strip() for b in path.read_text(encoding="latin-1").split("\n\n") if b.strip()]
    return blocks[0], [" ".join(b.split()) for b in blocks[1:]]


def change_words(paragraphs: list[str], rng: random.Random, count: int) -> list[str]:
    """``count`` words swapped for synonyms, at random places that have one."""
    out = list(paragraphs)
    spots = [(i, m) for i, p in enumerate(out) for m in _WORD.finditer(p) if m.group() in SWAPS]
    for i, match in sorted(rng.sample(spots, min(count, len(spots))),
                           key=lambda s: (s[0], -s[1].start())):
        p = out[i]
        out[i] = p[: match.start()] + SWAPS[match.group()] + p[match.end() :]
    return out


def split_paragraphs(paragraphs: list[str]) -> list[str]:
    """Wire style: each paragraph of three sentences or more cut in two at a sentence."""
    out: list[str] = []
    for p in paragraphs:
        sentences = _SENTENCE_END.split(p)
        if len(sentences) >= 3:
            half = len(sentences) // 2
            out += [" ".join(sentences[:half]), " ".join(sentences[half:])]
        else:
            out.append(p)
    return out


def merge_paragraphs(paragraphs: list[str]) -> list[str]:
    """Paragraphs joined in pairs."""
    return [" ".join(paragraphs[i : i + 2]) for i in range(0, len(paragraphs), 2)]


def wire_copy(original: Story, outlet: str, rng: random.Random, days: int, style: str) -> Story:
    """A republished copy: dateline, last paragraph cut, a few words changed, repacked."""
    body = list(original.paragraphs)
    if len(body) >= 4:
        body = body[:-1]
    body = change_words(body, rng, 3)
    body = split_paragraphs(body) if style == "split" else merge_paragraphs(body)
    body[0] = f"{rng.choice(CITIES)} ({outlet}) - {body[0]}"
    date = (dt.date.fromisoformat(original.date) + dt.timedelta(days=days)).isoformat()
    title = ("UPDATE 1-" if outlet == "Reuters" else "") + original.title
    return Story(original.story, outlet, date, title, body)


def build(bbc: Path, questions: list[dict], distractors: int, seed: int = 1) -> list[Story]:
    """Originals of the stories asked about, their copies, and unrelated same-topic articles."""
    rng = random.Random(seed)
    asked = list(dict.fromkeys(q["path"].removeprefix("bbc/") for q in questions))
    stories: list[Story] = []
    start = dt.date(2005, 1, 3)
    for i, rel in enumerate(asked):
        title, paragraphs = read_bbc(bbc / rel)
        original = Story(rel, "AP", (start + dt.timedelta(days=i)).isoformat(), title, paragraphs)
        stories.append(original)
        stories.append(wire_copy(original, "Reuters", rng, -1 if i % 4 == 0 else 0, "split"))
        if i % 2 == 0:
            stories.append(wire_copy(original, "AFP", rng, 1, "merge"))
    bodies = [shingles(" ".join(s.paragraphs)) for s in stories]
    categories = sorted({rel.split("/")[0] for rel in asked})
    pool = [p for c in categories for p in sorted((bbc / c).glob("*.txt"))
            if f"{c}/{p.name}" not in asked]
    added = 0
    for path in rng.sample(pool, len(pool)):
        if added >= distractors:
            break
        title, paragraphs = read_bbc(path)
        body = shingles(" ".join(paragraphs))
        if any(overlap(body, b) >= 0.3 for b in bodies):
            continue  # BBC itself holds a few duplicate articles: not unrelated
        rel = f"{path.parent.name}/{path.name}"
        stories.append(Story(rel, "BBC", (start + dt.timedelta(days=added % 90)).isoformat(),
                             title, paragraphs))
        bodies.append(body)
        added += 1
    return stories


def write(stories: list[Story], folder: Path) -> dict[tuple[str, int], Story]:
    """One JSONL file per outlet; returns (file name, record) -> story."""
    folder.mkdir(parents=True, exist_ok=True)
    where: dict[tuple[str, int], Story] = {}
    for outlet in sorted({s.outlet for s in stories}):
        name = f"{outlet.lower()}.jsonl"
        mine = [s for s in stories if s.outlet == outlet]
        lines = [json.dumps(s.record(), ensure_ascii=False) for s in mine]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        where.update(((name, i), s) for i, s in enumerate(mine, start=1))
    return where


@dataclass
class Figures:
    questions: int = 0
    hits: int = 0
    pairs: int = 0  # near-identical pairs inside one top k
    with_copies: int = 0  # hits whose story has a version holding its text, or with also_in
    also_in_right: int = 0
    wrong_story: int = 0  # also_in entries that are not a version of the hit's story
    first_right: int = 0  # hits with copies whose "first" mark is on the earliest version
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "also_in_share": round(self.also_in_right / max(self.with_copies, 1), 3)}


def measure(index_dir: Path, questions: list[str], where: dict[tuple[str, int], Story],
            k: int = 5, collapse: bool = True) -> Figures:
    """Ask each question; count near-identical pairs and check each hit's also_in."""
    from qa.search.searcher import Searcher
    from qa.search.results import answer_to_dict

    searcher = Searcher(index_dir, None, notice=lambda m: None)
    bodies = {key: shingles(" ".join(s.paragraphs)) for key, s in where.items()}
    figures = Figures(questions=len(questions))
    started = time.perf_counter()
    for question in questions:
        answer = searcher.ask(question, k=k, collapse=collapse)
        results = answer_to_dict(answer)["results"]
        texts = [shingles(r["text"]) for r in results]
        figures.hits += len(results)
        figures.pairs += sum(overlap(texts[i], texts[j]) >= 0.7
                             for i in range(len(texts)) for j in range(i + 1, len(texts)))
        for r, mine in zip(results, texts):
            _check_copies(r, mine, where, bodies, figures)
    figures.seconds = round(time.perf_counter() - started, 2)
    searcher.close()
    return figures


def _check_copies(r: dict, mine: set, where: dict[tuple[str, int], Story],
                  bodies: dict[tuple[str, int], set], figures: Figures) -> None:
    key = (Path(r["source"]["path"]).name, r["source"]["record"])
    story = where[key]
    versions = {other: len(mine & body) / max(len(mine), 1)
                for other, body in bodies.items() if other != key and where[other].story == story.story}
    must = {v for v, share in versions.items() if share >= 0.7}
    may = {v for v, share in versions.items() if share >= 0.3}
    listed = {(Path(c["path"]).name, c["record"]) for c in r["also_in"]}
    if not must and not listed:
        return
    figures.with_copies += 1
    figures.wrong_story += sum(where[c].story != story.story for c in listed)
    figures.also_in_right += must <= listed <= may
    if listed:
        dates = [(where[key].date, key)] + [(where[c].date, c) for c in listed]
        marked = [key] if r.get("first") else [
            (Path(c["path"]).name, c["record"]) for c in r["also_in"] if c.get("first")]
        figures.first_right += marked == [min(dates)[1]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bbc", type=Path)
    ap.add_argument("--out", type=Path, help="corpus and index go here")
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--distractors", type=int, default=400)
    ap.add_argument("--model", default=None)
    ap.add_argument("--no-collapse", action="store_true")
    ap.add_argument("--time", type=Path, metavar="INDEX", help="only time finding copies in INDEX")
    args = ap.parse_args()
    if args.time:
        print(json.dumps(time_dedup(args.time)))
        return
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[: args.questions]
    stories = build(args.bbc, rows, args.distractors)
    where = write(stories, args.out / "corpus")
    index_dir = args.out / "index"
    _index(args.out / "corpus", index_dir, args.model)
    figures = measure(index_dir, [r["question"] for r in rows], where, collapse=not args.no_collapse)
    print(json.dumps({"articles": len(stories), **figures.to_dict()}))


def _index(corpus: Path, index_dir: Path, model: str | None) -> None:
    import subprocess

    command = [sys.executable, "-m", "qa", "index", str(corpus), "--index-dir", str(index_dir)]
    # run from the corpus folder: `-m qa` from the repo root would import this checkout's qa
    subprocess.run(command + (["--model", model] if model else []), check=True, cwd=corpus)


def time_dedup(index_dir: Path, runs: int = 3) -> dict[str, object]:
    """Seconds to find every copy in an index anew (median of ``runs``), each step alone and
    both, with what each finds: the article step, the per-passage step, and the two together."""
    import contextlib
    import shutil
    import statistics
    import tempfile
    from unittest import mock

    from qa.index import duplicates
    from qa.index.indexer import _mark_duplicates
    from qa.index.store import Store

    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "index"
        shutil.copytree(index_dir, work)
        store = Store.create(work, on_damaged=None)
        steps = {"articles": ("_passage_copies",), "passages": ("_article_copies",), "both": ()}
        for name, off in steps.items():
            seconds = []
            for _ in range(runs):
                with store.transaction():
                    store.conn.execute("DELETE FROM passage_copies")
                    store.conn.execute("DELETE FROM article_bands")
                    store.conn.execute("UPDATE passages SET dup_of = NULL")
                    store.set_meta({"dedup_upto": "0"})
                with contextlib.ExitStack() as stack:
                    for f in off:
                        stack.enter_context(mock.patch.object(duplicates, f, lambda *a, **k: {}))
                    started = time.perf_counter()
                    _mark_duplicates(store, _Quiet())
                    seconds.append(time.perf_counter() - started)
            pairs = store.conn.execute(
                "SELECT count(DISTINCT c.passage_id || ',' || q.article_id) FROM passage_copies c "
                "JOIN passages q ON q.id = c.copy_id").fetchone()[0]
            grouped = store.conn.execute("SELECT count(*) FROM passages WHERE dup_of IS NOT NULL").fetchone()[0]
            out[name] = {"seconds": round(statistics.median(seconds), 3),
                         "passage_article_links": pairs, "grouped": grouped}
        store.close()
    return out


class _Quiet:
    def warn(self, message: str) -> None:
        pass


if __name__ == "__main__":
    main()
