"""`qa bench QUESTIONS.jsonl`: a user's own labelled questions, scored through `qa ask`.

Each line: ``{"question", "path", "any": [phrases], "answer"?: [phrases], "record"?, "page"?,
"split"?}``. A hit is a result from the right file (``path`` is a suffix of the source path; and
the right ``record`` / ``page`` when given) whose passage is at most :data:`MAX_HIT_WORDS` words
and contains one of the ``any`` phrases (case-insensitive, whitespace-normalised).

``answer@1`` is measured on the questions that have ``answer`` phrases: the first hit comes from
the right source and its answer sentence (at most :data:`MAX_ANSWER_WORDS` words) holds one of
them.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import BadInputError
from qa.index.indexer import Progress, run_index
from qa.search.modes import Fusion, Mode
from qa.search.results import Hit
from qa.search.searcher import Searcher

MAX_HIT_WORDS = 200
MAX_ANSWER_WORDS = 60
DEPTH = 10


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    path: str
    any: tuple[str, ...]
    record: int | None
    split: str | None
    answer: tuple[str, ...] = ()
    page: int | None = None


def load_questions(path: Path, split: str | None = None) -> list[LabelledQuestion]:
    """Read a questions file (only ``split`` when given).

    Raises:
        BadInputError: the file is missing or a line is malformed (named ``file:line``).
    """
    if not path.is_file():
        raise BadInputError(f"{path} does not exist", "Pass a .jsonl file of labelled questions")
    out: list[LabelledQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            item = LabelledQuestion(
                str(row["question"]), str(row["path"]), _phrases(row["any"]),
                int(row["record"]) if row.get("record") is not None else None, row.get("split"),
                _phrases(row.get("answer", [])),
                int(row["page"]) if row.get("page") is not None else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BadInputError(
                f"{path}:{number} is not a labelled question",
                'Each line needs {"question": ..., "path": ..., "any": [...]}',
            ) from None
        if split is None or item.split == split:
            out.append(item)
    return out


def _phrases(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise TypeError("phrases must be a list of strings")
    return tuple(value)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _same_source(path: str, record: int | None, label: LabelledQuestion) -> bool:
    path = path.replace("\\", "/")
    if not (path == label.path or path.endswith("/" + label.path.lstrip("/"))):
        return False
    return label.record is None or record == label.record


def from_right_source(hit: Hit, label: LabelledQuestion) -> bool:
    """Right file (and record, and page when labelled).

    A hit shown once for several copies (``also_in``) counts when one of them is the right file.
    """
    if label.page is not None and hit.source.page != label.page:
        return False
    places = [(hit.source.path, hit.source.record)] + [(c.path, c.record) for c in hit.also_in]
    return any(_same_source(path, record, label) for path, record in places)


def answer_holds(hit: Hit, label: LabelledQuestion) -> bool:
    """The hit's answer sentence (at most 60 words) holds one of the ``answer`` phrases."""
    if not label.answer or len(hit.answer.split()) > MAX_ANSWER_WORDS:
        return False
    answer = _norm(hit.answer)
    return from_right_source(hit, label) and any(_norm(p) in answer for p in label.answer)


def is_hit(hit: Hit, label: LabelledQuestion) -> bool:
    """Right source, passage of at most 200 words holding one of the phrases."""
    if not from_right_source(hit, label):
        return False
    if len(hit.text.split()) > MAX_HIT_WORDS:
        return False
    text = _norm(hit.text)
    return any(_norm(phrase) in text for phrase in label.any)


def score_questions(
    searcher: Searcher, labels: list[LabelledQuestion], mode: Mode, fusion: Fusion,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """hit@1/3/5, MRR@10, answer@1 and the misses (question, what came first)."""
    ranks: list[int | None] = []
    sentences: list[bool] = []  # of the questions with answer labels: does the first answer hold it?
    misses: list[dict[str, Any]] = []
    if progress:
        progress.start(len(labels), f"Questions ({mode})", unit="questions")
    for label in labels:
        hits = searcher.ask(label.question, k=DEPTH, mode=mode, fusion=fusion).hits
        rank = next((h.rank for h in hits if is_hit(h, label)), None)
        ranks.append(rank)
        answered = None
        if label.answer:
            answered = bool(hits) and answer_holds(hits[0], label)
            sentences.append(answered)
        if rank != 1 or answered is False:
            first = hits[0] if hits else None
            misses.append({
                "question": label.question,
                "expected": label.path + (f"#{label.record}" if label.record else ""),
                "rank": rank,
                "first": None if first is None else f"{first.source.ref}:{first.source.paragraph}",
                "first_text": None if first is None else first.text[:160],
                "answer": None if first is None else first.answer,
                "answer_ok": answered,
            })
        if progress:
            progress.advance(1)
    if progress:
        progress.stop()
    n = max(len(ranks), 1)
    return {
        "questions": len(ranks),
        "mode": str(mode),
        "hit@1": sum(r == 1 for r in ranks) / n,
        "hit@3": sum(r is not None and r <= 3 for r in ranks) / n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr@10": sum(1 / r for r in ranks if r is not None) / n,
        "answer@1": sum(sentences) / len(sentences) if sentences else None,
        "answer_questions": len(sentences),
        "misses": misses,
    }


def run_question_bench(
    questions: Path,
    corpus: list[Path],
    modes: list[Mode],
    index_dir: Path | None,
    model: str | None,
    progress: Progress,
    fusion: Fusion = Fusion.CONVEX,
    split: str | None = None,
) -> list[dict[str, Any]]:
    """Index ``corpus`` (when given) and score the questions, one row per mode."""
    labels = load_questions(questions, split)
    if not labels:
        raise BadInputError(f"{questions} has no questions" + (f" in split {split!r}" if split else ""))
    with _index_folder(index_dir) as folder:
        if corpus:
            run_index(folder, corpus, model, progress)
        searcher = Searcher(folder, model, notice=progress.warn)
        try:
            return [
                {"set": questions.name, **({"split": split} if split else {}),
                 **score_questions(searcher, labels, mode, fusion, progress)}
                for mode in modes
            ]
        finally:
            searcher.close()


class _index_folder:  # noqa: N801 - a context manager used like a function
    def __init__(self, given: Path | None) -> None:
        self.given = given
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        if self.given is not None:
            return self.given
        self._tmp = tempfile.TemporaryDirectory(prefix="qa-bench-")
        return Path(self._tmp.name)

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def iter_rows(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from rows
