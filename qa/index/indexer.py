"""`qa index`: files -> articles -> passages -> embeddings -> SQLite (+ derived FAISS, ONNX).

Visible state changes in one SQLite transaction at the end, so an interrupted run leaves the
previous index intact. Embeddings are cached by content as they are computed, so the next run
resumes where the interrupted one stopped, and identical passages are embedded once.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.ingest.text import Article, decode_text, looks_binary, parse_article
from qa.errors import IndexError_
from qa.ingest.files import Source, discover, display_path
from qa.embed.query_encoder import ENCODER_FILE
from qa.index.layout import IndexLayout
from qa.index.lock import writer_lock
from qa.embed.model import ModelRef, resolve_model
from qa.ingest.passages import Passage, make_passages, split_sentences, token_counter
from qa.index.store import NewArticle, NewPassage, Store, dumps_manifest
from qa.index.vectors import build_index, write_index

if TYPE_CHECKING:
    from qa.embed.passage_encoder import PassageEncoder

CHUNK = 512  # passages per encode call / SQLite write


class Progress(Protocol):
    """What the indexer tells its caller while it works."""

    def start(self, total: int, description: str, unit: str = "passages") -> None: ...
    def advance(self, n: int) -> None: ...
    def stop(self) -> None: ...
    def warn(self, message: str) -> None: ...


@dataclass
class IndexReport:
    """What one `qa index` run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    articles: int = 0
    passages: int = 0
    model: str = ""
    model_loaded: bool = False
    seconds: float = 0.0


@dataclass
class Document:
    """An article ready to index: from a file, or from a benchmark data set."""

    path: str
    root: str
    sha256: str
    article: Article


@dataclass
class _Parsed:
    doc: Document
    passages: list[Passage]
    is_new: bool


Collect = Callable[[dict[str, tuple[str, str]], IndexReport], tuple[list[_Parsed], list[str]]]


def run_index(
    index_dir: Path,
    paths: list[Path],
    model: str | None,
    progress: Progress,
    rebuild: bool = False,
) -> IndexReport:
    """Bring the index in ``index_dir`` up to date with the files under ``paths``.

    Files whose content hash is unchanged are skipped without parsing (or loading the model);
    indexed files that vanished from the given folders are removed.
    """
    sources = discover(paths)
    roots = [os.path.abspath(p) for p in paths if os.path.isdir(p)]
    found = {s.path for s in sources}

    def collect(
        known: dict[str, tuple[str, str]], report: IndexReport
    ) -> tuple[list[_Parsed], list[str]]:
        parsed, kept = _read_sources(sources, {} if rebuild else known, report, progress)
        gone = [
            path for path in known
            if path not in found and path not in kept
            and (rebuild or any(path.startswith(root + os.sep) for root in roots))
        ]
        return parsed, sorted(gone)

    return _run(index_dir, model, progress, rebuild, collect)


def index_documents(
    index_dir: Path,
    docs: list[Document],
    model: str | None,
    progress: Progress,
) -> IndexReport:
    """Index ready-made documents (one root); same pipeline and guarantees as files."""
    wanted = {d.path for d in docs}
    roots = {d.root for d in docs}

    def collect(
        known: dict[str, tuple[str, str]], report: IndexReport
    ) -> tuple[list[_Parsed], list[str]]:
        parsed = []
        for doc in docs:
            previous = known.get(doc.path)
            if previous is not None and previous[1] == doc.sha256:
                report.unchanged += 1
                continue
            parsed.append(_Parsed(doc, [], previous is None))
            (report.added if previous is None else report.updated).append(doc.path)
        gone = [p for p, (root, _) in known.items() if root in roots and p not in wanted]
        return parsed, sorted(gone)

    return _run(index_dir, model, progress, False, collect)


def _run(
    index_dir: Path, model: str | None, progress: Progress, rebuild: bool, collect: Collect
) -> IndexReport:
    started = time.perf_counter()
    with writer_lock(index_dir):  # before opening: --rebuild may move a damaged database aside
        store = Store.create(index_dir, on_damaged=progress.warn if rebuild else None)
        try:
            report = _index_locked(store, model, progress, rebuild, collect)
        finally:
            store.close()
    report.seconds = time.perf_counter() - started
    return report


def _index_locked(
    store: Store, model: str | None, progress: Progress, rebuild: bool, collect: Collect
) -> IndexReport:
    meta = store.meta()
    ref = resolve_model(model or meta.get("model"))
    built_with = meta.get("model")
    if built_with and built_with != ref.name and not rebuild:
        raise IndexError_(
            f"the index in {store.index_dir}/ was built with model {built_with}, not {ref.name}",
            f"Use --model {built_with}, or rebuild with `qa index --rebuild --model {ref.name}`",
        )
    report = IndexReport(model=ref.name)
    parsed, report.removed = collect(store.file_hashes(), report)
    _split(parsed, ref)
    encoder = _embed_missing(store, ref, parsed, report, progress)
    changed = bool(parsed or report.removed or rebuild)
    if changed:
        _commit(store, ref, parsed, report.removed, rebuild)
    if changed or not _derived_current(store):  # a killed run may have committed, not written
        _write_derived(store)
    loaded_for_export = _refresh_encoder(store.index_dir, ref, encoder, progress)
    report.model_loaded = encoder is not None or loaded_for_export
    report.articles, report.passages = store.counts()
    return report


def _read_sources(
    sources: list[Source],
    known: dict[str, tuple[str, str]],
    report: IndexReport,
    progress: Progress,
) -> tuple[list[_Parsed], set[str]]:
    """Hash every file; parse the new and changed ones. Returns (parsed, paths to keep as is)."""
    parsed: list[_Parsed] = []
    kept: set[str] = set()
    for source in sources:
        try:
            data = Path(source.path).read_bytes()
        except OSError as exc:
            progress.warn(f"skipped {display_path(source.path)}: cannot read it ({exc.strerror})")
            report.skipped.append(source.path)
            kept.add(source.path)
            continue
        sha = hashlib.sha256(data).hexdigest()
        previous = known.get(source.path)
        if previous is not None and previous[1] == sha:
            report.unchanged += 1
            continue
        if looks_binary(data):
            progress.warn(f"skipped {display_path(source.path)}: binary data, not text")
            report.skipped.append(source.path)
            kept.add(source.path)
            continue
        article = parse_article(decode_text(data), Path(source.path).suffix.lower())
        if not article.paragraphs:
            progress.warn(f"{display_path(source.path)}: no article text found; indexed with no passages")
        doc = Document(source.path, source.root, sha, article)
        parsed.append(_Parsed(doc, [], previous is None))
        (report.added if previous is None else report.updated).append(source.path)
    return parsed, kept


def _split(parsed: list[_Parsed], ref: ModelRef) -> None:
    """Cut each parsed article into passages that fit the model's window."""
    if not parsed:
        return
    count = _token_counter(ref)
    for item in parsed:
        item.passages = make_passages(item.doc.article.paragraphs, count, ref.max_seq_length - 2)


def _token_counter(ref: ModelRef) -> Callable[[list[str]], list[int]]:
    if ref.tokenizer_file is not None:
        return token_counter(ref.tokenizer_file)
    from transformers import AutoTokenizer  # a model without tokenizer.json: rare, slower

    tokenizer = AutoTokenizer.from_pretrained(str(ref.path))
    return lambda texts: [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def embedding_key(model: str, text: str) -> bytes:
    """Content key of a passage's embedding: the model and the exact text."""
    return hashlib.sha256(f"{model}\0{text}".encode()).digest()


def _embed_missing(
    store: Store,
    ref: ModelRef,
    parsed: list[_Parsed],
    report: IndexReport,
    progress: Progress,
) -> PassageEncoder | None:
    """Embed every passage text not yet cached; return the encoder if it had to be loaded."""
    texts = {embedding_key(ref.name, p.text): p.text for item in parsed for p in item.passages}
    cached = store.known_embeddings(texts)
    missing = sorted((k for k in texts if k not in cached), key=lambda k: len(texts[k]))
    report.reused = sum(len(item.passages) for item in parsed) - len(missing)
    if not missing:
        return None
    from qa.embed.passage_encoder import PassageEncoder

    encoder = PassageEncoder(ref)
    progress.start(len(missing), "Embedding passages")
    pending: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1) as writer:  # SQLite writes overlap the next batch
        for start in range(0, len(missing), CHUNK):
            keys = missing[start : start + CHUNK]
            rows = _encode_rows(encoder, [texts[k] for k in keys], keys, progress)
            if pending is not None:
                pending.result()
            pending = writer.submit(store.put_embeddings, rows)
        if pending is not None:
            pending.result()
    progress.stop()
    report.embedded = len(missing)
    return encoder


def _encode_rows(
    encoder: PassageEncoder, texts: list[str], keys: list[bytes], progress: Progress
) -> list[tuple[bytes, bytes, bytes, bytes]]:
    spans = [split_sentences(t) for t in texts]
    encoded = encoder.encode(texts, spans, on_progress=progress.advance)
    return [
        (
            key,
            np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
            np.asarray(span, dtype=np.int32).reshape(-1, 2).tobytes(),
            np.asarray(sentences, dtype=np.float16).tobytes(),
        )
        for key, vector, span, sentences in zip(
            keys, encoded.vectors, spans, encoded.sentence_vectors
        )
    ]


def _commit(
    store: Store, ref: ModelRef, parsed: list[_Parsed], removed: list[str], rebuild: bool
) -> None:
    """The one transaction that makes the new state visible."""
    with store.transaction():
        if rebuild:
            store.clear()
        store.delete_articles(removed + [item.doc.path for item in parsed if not item.is_new])
        for item in parsed:
            store.insert_article(_new_article(item, ref.name))
        store.prune_embeddings()
        values = {"generation": str(store.generation + 1), "model": ref.name}
        dim = store.vector_dimension()
        if dim:
            values["dimension"] = str(dim)
        store.set_meta(values)


def _new_article(item: _Parsed, model: str) -> NewArticle:
    a = item.doc.article
    passages = [NewPassage(p.paragraph, p.text, embedding_key(model, p.text)) for p in item.passages]
    return NewArticle(
        item.doc.path, item.doc.root, item.doc.sha256,
        a.title, a.outlet, a.date, a.author, a.url, passages,
    )


def _write_derived(store: Store) -> None:
    """The FAISS file and manifest.json, both rebuilt from what was just committed."""
    manifest = store.manifest()
    if manifest["dimension"]:
        write_index(build_index(store, int(manifest["dimension"])), store.index_dir, store.generation)
    target = store.layout.manifest
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(dumps_manifest(manifest), encoding="utf-8")
    os.replace(tmp, target)


def _derived_current(store: Store) -> bool:
    """Whether manifest.json and the FAISS file match what the database holds."""
    try:
        manifest = json.loads(store.layout.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    current = store.manifest()
    return manifest == current and (
        not current["dimension"] or store.layout.faiss(store.generation).is_file()
    )


def _refresh_encoder(
    index_dir: Path, ref: ModelRef, encoder: PassageEncoder | None, progress: Progress
) -> bool:
    """Export the model to ONNX for fast queries when the index folder lacks a current copy.

    Returns whether the model had to be loaded just for this.
    """
    folder = IndexLayout(index_dir).encoder_dir
    try:
        info = json.loads((folder / ENCODER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    if info.get("model") == ref.name and (
        encoder is None or info.get("source_checksum") == ref.weights_checksum()
    ):
        return False
    loaded = encoder is None
    try:
        if encoder is None:
            from qa.embed.passage_encoder import PassageEncoder

            encoder = PassageEncoder(ref)
        encoder.export_onnx(folder)
    except Exception as exc:  # any model the exporter cannot handle: queries still work, slower
        progress.warn(f"could not export a fast query encoder ({exc}); `qa ask` will be slower")
    return loaded
