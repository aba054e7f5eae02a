"""`qa index`: files -> articles -> passages -> embeddings -> SQLite (+ derived FAISS, ONNX).

Visible state changes in one SQLite transaction at the end, so an interrupted run leaves the
previous index intact. Embeddings are cached by content as they are computed (embedder.py), so
the next run resumes where the interrupted one stopped, and identical passages are embedded
once. The search backend's index, manifest.json and the query encoder follow (derived.py).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from qa.backends import BackendSpec, parse_backend, recorded
from qa.embed.factory import passage_encoder
from qa.embed.model import HASHING, ModelRef, resolve_model
from qa.errors import BadInputError, IndexError_
from qa.index.derived import (
    backend_meta,
    derived_current,
    open_backend_writer,
    peek_meta,
    refresh_encoder,
    write_derived,
)
from qa.index.embedder import Embedder, Meter, embedding_key
from qa.index.lock import writer_lock
from qa.index.store import NewArticle, NewPassage, Store
from qa.index.index_types import IndexType
from qa.index.duplicates import mark_duplicates
from qa.index.vectors import stored_vectors
from qa.ingest.article import Article
from qa.ingest.files import discover, display_path, named_by
from qa.ingest.passages import Passage, make_passages, page_passages, token_counter
from qa.ingest.readers import ReadOptions, reader_for
from qa.quotes.indexing import attribution_current, mark_attributed, passage_quotes, refresh_quotes

if TYPE_CHECKING:
    from qa.backends.base import BackendWriter

KEEP_PARSED_BYTES = 64 << 20  # changed files up to this size are parsed once and kept in memory


@dataclass(frozen=True)
class Embedding:
    """Where passages are embedded: on this machine (``device``) or on a Ray cluster.

    Attributes:
        device: ``auto``, ``cpu``, ``cuda``, ``mps`` (checked before anything is written).
        ray: None for local embedding; ``"local"`` starts a Ray instance here, ``"auto"``
            joins the running cluster, ``HOST:PORT`` joins that one.
        workers: Ray actors (one model each).
        batch_size: passages per batch (None: the encoder's default).
    """

    device: str = "auto"
    ray: str | None = None
    workers: int = 1
    batch_size: int | None = None

    def open(self, ref: ModelRef) -> Any:
        """The passage encoder these settings describe."""
        if self.ray is not None:
            from qa.embed.ray_embed import RayPassageEncoder

            return RayPassageEncoder(ref, self.ray, self.workers, self.batch_size, self.device)
        from qa.embed.devices import resolve_device

        if ref.name == HASHING:
            return passage_encoder(ref)
        return passage_encoder(ref, device=resolve_device(self.device))


class Progress(Meter, Protocol):
    """What the indexer tells its caller while it works: the embedding bar, and warnings."""

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
    """A ready-made article to index (a benchmark data set's document)."""

    path: str
    root: str
    sha256: str
    article: Article


Articles = Callable[[Callable[[str], None]], Iterable[Article]]


@dataclass
class _Job:
    """A file (or document) whose articles must be (re)indexed.

    ``articles(warn)`` reads them again on every call (large dumps are streamed twice rather
    than held); ``parsed`` keeps them with their passages when the input is small.
    """

    path: str
    root: str
    sha256: str
    is_new: bool
    size: int
    articles: Articles
    parsed: list[tuple[Article, list[Passage]]] | None = None
    failed: bool = False


Collect = Callable[[dict[str, tuple[str, str]], IndexReport], tuple[list[_Job], list[str]]]


def run_index(
    index_dir: Path,
    paths: list[Path],
    model: str | None,
    progress: Progress,
    rebuild: bool = False,
    options: ReadOptions | None = None,
    index_type: IndexType | None = None,
    embedding: Embedding | None = None,
    only: Collection[str] | None = None,
    backend: str | None = None,
    token: str | None = None,
) -> IndexReport:
    """Bring the index in ``index_dir`` up to date with the files under ``paths``.

    Files whose content hash is unchanged are skipped without parsing (or loading the model);
    indexed files that vanished from the given folders are removed. With ``only`` (a
    watcher's list of changed files and folders) the other files are taken as unchanged,
    unhashed. ``backend``: the search engine (:mod:`qa.backends`; None keeps the recorded
    one), ``token`` its credentials.
    """
    found_files = discover(paths, exclude=[index_dir])
    roots = [os.path.abspath(p) for p in paths if os.path.isdir(p)]
    found = {f.path for f in found_files}
    options = options or ReadOptions()
    hashed = found_files if only is None or rebuild else named_by(found_files, only)

    def collect(known: dict[str, tuple[str, str]], report: IndexReport) -> tuple[list[_Job], list[str]]:
        report.unchanged = len(found_files) - len(hashed)
        jobs, kept = _changed_files(hashed, {} if rebuild else known, report, progress, options)
        gone = [
            path for path in known
            if path not in found and path not in kept
            and (rebuild or any(path.startswith(root + os.sep) for root in roots))
        ]
        return jobs, sorted(gone)

    return _run(
        index_dir, model, progress, rebuild, collect, index_type, embedding or Embedding(),
        backend, token,
    )


def index_documents(
    index_dir: Path,
    docs: list[Document],
    model: str | None,
    progress: Progress,
) -> IndexReport:
    """Index ready-made documents (one root); same pipeline and guarantees as files."""
    wanted = {d.path for d in docs}
    roots = {d.root for d in docs}

    def collect(known: dict[str, tuple[str, str]], report: IndexReport) -> tuple[list[_Job], list[str]]:
        jobs = []
        for doc in docs:
            previous = known.get(doc.path)
            if previous is not None and previous[1] == doc.sha256:
                report.unchanged += 1
                continue
            jobs.append(_Job(doc.path, doc.root, doc.sha256, previous is None, 0,
                             lambda warn, a=doc.article: [a]))
            (report.added if previous is None else report.updated).append(doc.path)
        gone = [p for p, (root, _) in known.items() if root in roots and p not in wanted]
        return jobs, sorted(gone)

    return _run(index_dir, model, progress, False, collect, None, Embedding())


def _run(
    index_dir: Path, model: str | None, progress: Progress, rebuild: bool, collect: Collect,
    index_type: IndexType | None, embedding: Embedding, backend: str | None = None,
    token: str | None = None,
) -> IndexReport:
    started = time.perf_counter()
    writers = embedding.workers if embedding.ray is not None else 1
    spec = parse_backend(backend) if backend is not None else None
    # a named backend is reached (and checked) before anything is written
    writer = open_backend_writer(spec, token, writers, peek_meta(index_dir), rebuild) if spec else None
    try:
        with writer_lock(index_dir):  # before opening: --rebuild may move a damaged database aside
            store = Store.create(index_dir, on_damaged=progress.warn if rebuild else None)
            try:
                if spec is None:
                    spec = recorded(store.meta())
                    writer = open_backend_writer(spec, token, writers, store.meta(), rebuild)
                assert writer is not None
                report = _index_locked(
                    store, model, progress, rebuild, collect, index_type, embedding, spec, writer
                )
            finally:
                store.close()
    finally:
        if writer is not None:
            writer.close()
    report.seconds = time.perf_counter() - started
    return report


def _index_locked(
    store: Store, model: str | None, progress: Progress, rebuild: bool, collect: Collect,
    index_type: IndexType | None, embedding: Embedding, spec: BackendSpec,
    writer: BackendWriter,
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
    jobs, report.removed = collect(store.file_hashes(), report)
    embedder = Embedder(store, ref, progress, embedding.open, ray=embedding.ray is not None)
    try:
        if jobs:
            _parse_and_embed(jobs, ref, embedder, report, progress)
    finally:
        embedder.close()
    jobs = [job for job in jobs if not job.failed]
    switched = recorded(meta) != spec
    changed = bool(jobs or report.removed or rebuild)
    if changed or switched:
        _commit(store, ref, jobs, report.removed, rebuild, backend_meta(meta, spec))
    refresh_quotes(store)  # an index attributed by older rules (or none) is brought up to date
    if changed or switched or not derived_current(store, writer):  # a killed run may have committed, not written
        write_derived(store, index_type, progress.warn, writer, update=not rebuild)
    _mark_duplicates(store, progress, writer)
    loaded_for_export = refresh_encoder(store.index_dir, ref, embedder.encoder, progress.warn)
    report.model_loaded = embedder.encoder is not None or loaded_for_export
    report.embedded = embedder.embedded
    report.articles, report.passages = store.counts()
    return report


def _changed_files(
    found_files: list, known: dict[str, tuple[str, str]], report: IndexReport,
    progress: Progress, options: ReadOptions,
) -> tuple[list[_Job], set[str]]:
    """Hash every file; a job for each new or changed one. Returns (jobs, paths kept as is)."""
    jobs: list[_Job] = []
    kept: set[str] = set()
    for found in found_files:
        try:
            sha, size = file_sha256(found.path)
        except OSError as exc:
            progress.warn(f"skipped {display_path(found.path)}: cannot read it ({exc.strerror})")
            report.skipped.append(found.path)
            kept.add(found.path)
            continue
        previous = known.get(found.path)
        if previous is not None and previous[1] == sha:
            report.unchanged += 1
            continue
        reader = reader_for(found.path)
        articles: Articles = lambda warn, path=Path(found.path), read=reader: read(  # noqa: E731
            path, options, warn
        )
        jobs.append(_Job(found.path, found.root, sha, previous is None, size, articles))
    return jobs, kept


def file_sha256(path: str) -> tuple[str, int]:
    """(SHA-256 hex digest, size in bytes) of a file, read in blocks."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        return digest, handle.tell()


def _parse_and_embed(
    jobs: list[_Job], ref: ModelRef, embedder: Embedder, report: IndexReport, progress: Progress
) -> None:
    """Read every job's articles, cut passages and embed what the cache lacks.

    A file that cannot be read is skipped with a warning (and keeps what it had in the index).
    """
    count = _token_counter(ref)
    budget = ref.max_seq_length - 2
    keep = sum(job.size for job in jobs) <= KEEP_PARSED_BYTES
    if keep:
        for job in jobs:
            job.parsed = list(_iter_job(job, count, budget, progress, report))
        embedder.start([p.text for job in jobs for _, ps in job.parsed or [] for p in ps])
    else:
        embedder.start(None)
        for job in jobs:
            for _, passages in _iter_job(job, count, budget, progress, report):
                embedder.add([p.text for p in passages])
    embedder.finish()
    for job in jobs:
        if not job.failed:
            (report.added if job.is_new else report.updated).append(job.path)
    report.reused = embedder.given - embedder.embedded


def _iter_job(
    job: _Job, count: Callable[[list[str]], list[int]], budget: int,
    progress: Progress, report: IndexReport,
) -> Iterator[tuple[Article, list[Passage]]]:
    """A job's articles with their passages; on a read error, warn and mark the job failed."""
    paragraphs = 0
    try:
        for article in job.articles(progress.warn):
            passages = article_passages(article, count, budget)
            paragraphs += len(article.paragraphs)
            yield article, passages
    except (BadInputError, OSError, UnicodeError, ValueError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        progress.warn(f"skipped {display_path(job.path)}: {detail}")
        report.skipped.append(job.path)
        job.failed = True
        return
    if paragraphs == 0:
        progress.warn(f"{display_path(job.path)}: no article text found; indexed with no passages")


def article_passages(
    article: Article, count: Callable[[list[str]], list[int]], budget: int
) -> list[Passage]:
    """An article's passages, each knowing its page when the article has pages.

    A paged article is packed page by page (a passage never joins paragraphs that start on
    different pages; a paragraph that runs on over a page break stays whole, on the page it
    starts on).
    """
    if article.pages is None:
        return make_passages(article.paragraphs, count, budget)
    out: list[Passage] = []
    first = 0
    for page, group in itertools.groupby(article.pages):
        size = len(list(group))
        for p in page_passages(article.paragraphs[first : first + size], count, budget):
            end = p.paragraph_end + first if p.paragraph_end is not None else None
            out.append(replace(p, paragraph=p.paragraph + first, paragraph_end=end, page=page))
        first += size
    return out


def _token_counter(ref: ModelRef) -> Callable[[list[str]], list[int]]:
    if ref.tokenizer_file is not None:
        return token_counter(ref.tokenizer_file)
    from transformers import AutoTokenizer  # a model without tokenizer.json: rare, slower

    tokenizer = AutoTokenizer.from_pretrained(str(ref.path))
    return lambda texts: [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def _commit(
    store: Store, ref: ModelRef, jobs: list[_Job], removed: list[str], rebuild: bool,
    backend: dict[str, str] | None = None,
) -> None:
    """The one transaction that makes the new state visible."""
    count = _token_counter(ref) if any(job.parsed is None for job in jobs) else None
    budget = ref.max_seq_length - 2
    with store.transaction():
        attributed = rebuild or attribution_current(store)
        if rebuild:
            store.clear()
        store.delete_files(removed + [job.path for job in jobs if not job.is_new])
        for job in jobs:
            file_id = store.insert_file(job.path, job.root, job.sha256)
            if job.parsed is not None:
                parsed: Iterable[tuple[Article, list[Passage]]] = job.parsed
            else:
                assert count is not None
                parsed = ((a, article_passages(a, count, budget)) for a in job.articles(_silent))
            for article, passages in parsed:
                store.insert_article(file_id, _new_article(article, passages, ref.name))
        store.prune_embeddings()
        if attributed:
            mark_attributed(store)
        values = {"generation": str(store.generation + 1), "model": ref.name, **(backend or {})}
        dim = store.vector_dimension()
        if dim:
            values["dimension"] = str(dim)
        store.set_meta(values)


def _silent(message: str) -> None:
    """Warnings of a second read of the same file were already shown by the first."""


def _new_article(article: Article, passages: list[Passage], model: str) -> NewArticle:
    quotes = passage_quotes([p.text for p in passages])  # who said what (qa/quotes/)
    return NewArticle(
        article.record,
        article.meta,
        [
            NewPassage(p.paragraph, p.paragraph_end, p.page, p.text, embedding_key(model, p.text),
                       found)
            for p, found in zip(passages, quotes)
        ],
    )


def _mark_duplicates(store: Store, progress: Progress, writer: BackendWriter) -> None:
    """Near-duplicate groups for passages not yet checked (derived, resumable)."""
    dim = store.vector_dimension()
    if not dim or not store.passage_ids_after(int(store.meta().get("dedup_upto", "0")))[:1]:
        return
    vectors = writer.neighbours(store, dim, progress.warn)
    mark_duplicates(store, vectors, dim, lambda ids: stored_vectors(store, ids, dim))


