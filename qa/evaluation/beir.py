"""`qa bench`: retrieval quality on a BEIR-format data set, through the same search as `qa ask`."""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.article import Article, ArticleMeta
from qa.errors import BadInputError
from qa.index.indexer import Document, Progress, index_documents
from qa.evaluation.metrics import evaluate
from qa.search.searcher import Fusion, Mode, Searcher

DOCS_PER_QUERY = 100


@dataclass(frozen=True)
class BeirSet:
    """A BEIR folder: documents to index, queries and their relevance judgements."""

    name: str
    docs: list[Document]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: Path) -> BeirSet:
    """Read corpus.jsonl, queries*.jsonl and qrels/test.tsv.

    Raises:
        BadInputError: a file is missing or malformed.
    """
    corpus = folder / "corpus.jsonl"
    qrels_file = folder / "qrels" / "test.tsv"
    query_files = sorted(folder.glob("queries*.jsonl"), key=lambda p: "test" not in p.name)
    if not corpus.is_file() or not qrels_file.is_file() or not query_files:
        raise BadInputError(
            f"{folder} is not a BEIR folder",
            "It needs corpus.jsonl, queries*.jsonl and qrels/test.tsv",
        )
    root = str(corpus.resolve())
    docs = [_document(root, row) for row in _jsonl(corpus)]
    queries = {str(row["_id"]): str(row["text"]) for row in _jsonl(query_files[0])}
    qrels: dict[str, dict[str, int]] = {}
    with qrels_file.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    judged = {q: t for q, t in queries.items() if q in qrels}
    return BeirSet(folder.resolve().name, docs, judged, qrels)


def _document(root: str, row: dict) -> Document:
    title = (row.get("title") or "").strip()
    text = (row.get("text") or "").strip()
    sha = hashlib.sha256(f"{title}\0{text}".encode()).hexdigest()
    article = Article(ArticleMeta(title=title or None), [text] if text else [])
    return Document(f"{root}#{row['_id']}", root, sha, article)


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    raise BadInputError(f"{path}:{number} is not valid JSON") from None


def run_bench(
    folder: Path,
    modes: list[Mode],
    index_dir: Path | None,
    model: str | None,
    progress: Progress,
    fusion: Fusion = Fusion.CONVEX,
) -> list[dict[str, object]]:
    """Index the corpus (into ``index_dir`` or a temporary folder), score every query per mode."""
    data = load_beir(folder)
    if index_dir is None:
        with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
            return _bench(data, modes, Path(tmp), model, progress, fusion)
    return _bench(data, modes, index_dir, model, progress, fusion)


def _bench(
    data: BeirSet,
    modes: list[Mode],
    index_dir: Path,
    model: str | None,
    progress: Progress,
    fusion: Fusion,
) -> list[dict[str, object]]:
    index_documents(index_dir, data.docs, model, progress)
    searcher = Searcher(index_dir, model, notice=progress.warn)
    try:
        return [_score(searcher, data, mode, fusion, progress) for mode in modes]
    finally:
        searcher.close()


def _score(
    searcher: Searcher, data: BeirSet, mode: Mode, fusion: Fusion, progress: Progress
) -> dict[str, object]:
    runs: dict[str, list[str]] = {}
    progress.start(len(data.queries), f"Queries ({mode})", unit="queries")
    for qid, text in data.queries.items():
        hits = searcher.ask(text, k=2 * DOCS_PER_QUERY, mode=mode, fusion=fusion).hits
        ranking = list(dict.fromkeys(h.source.path.rsplit("#", 1)[1] for h in hits))
        runs[qid] = ranking[:DOCS_PER_QUERY]
        progress.advance(1)
    progress.stop()
    scores = evaluate(runs, data.qrels)
    return {"dataset": data.name, "mode": mode, "queries": len(runs), **scores}
