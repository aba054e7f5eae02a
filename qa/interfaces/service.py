"""The one core call behind `qa shell`, `qa serve` and `qa mcp`: a loaded index, shared safely.

:class:`QAService` holds the loaded :class:`~qa.search.searcher.Searcher` (query encoder, FAISS
index, SQLite connection) for the life of the process. Every call borrows a searcher from a
small pool, so concurrent callers (the HTTP server's worker threads) never share one SQLite
transaction; with the default pool of one this is a plain lock. Before each call the searcher
checks the index generation (bumped by every `qa index`) and the database file's identity
(`qa index --rebuild` may move a damaged one aside), and reopens itself when either changed,
so a re-index is picked up on the next question without a restart.

Encoding the question, the costly step, happens before a searcher is borrowed and is batched:
questions that arrive while the model is busy go through it together in one call (8 at once
cost about a quarter of 8 single calls on a 2-core CPU), so parallel clients wait less
without a second copy of the model or the index.

The input limits live here too, so every interface enforces the same ones.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import BadInputError
from qa.search.modes import Fusion, Mode

if TYPE_CHECKING:
    from qa.index.store import ArticleRow, PassageRow
    from qa.search.filters import Filters
    from qa.quotes.query import QuotesAnswer
    from qa.search.results import Answer
    from qa.search.searcher import Searcher

MAX_QUESTION_CHARS = 2000
MAX_K = 100
MAX_QUOTES = 1000  # the most quotes one `quotes` call lists


class TooLargeError(BadInputError):
    """An input over a size limit (HTTP answers it with 413)."""


class NotInIndexError(BadInputError):
    """A reference to something the index does not hold (HTTP answers it with 404)."""


def check_question(question: str, k: int) -> str:
    """The question stripped, after the limits every interface shares.

    Raises:
        TooLargeError: a question over :data:`MAX_QUESTION_CHARS` characters.
        BadInputError: an empty question, or ``k`` outside 1..:data:`MAX_K`.
    """
    if len(question) > MAX_QUESTION_CHARS:
        raise TooLargeError(
            f"the question is {len(question)} characters long, over the limit of "
            f"{MAX_QUESTION_CHARS}",
            "Ask a shorter question",
        )
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise BadInputError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
    question = question.strip()
    if not question:
        raise BadInputError("the question is empty", "Ask something, e.g. who won the election?")
    return question


def check_quote_request(
    speaker: object, about: object, k: object
) -> tuple[str | None, str | None]:
    """The speaker and topic of a quotes request after the limits every interface shares."""
    for name, value in (("speaker", speaker), ("about", about)):
        if value is not None and not isinstance(value, str):
            raise BadInputError(f"{name} must be a string, not {type(value).__name__}")
        if isinstance(value, str) and len(value) > MAX_QUESTION_CHARS:
            raise TooLargeError(
                f"{name} is {len(value)} characters long, over the limit of {MAX_QUESTION_CHARS}",
                "Give a shorter one",
            )
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_QUOTES):
        raise BadInputError(f"k must be a whole number from 1 to {MAX_QUOTES}, not {k!r}")
    speaker = speaker.strip() or None if isinstance(speaker, str) else None
    about = about if isinstance(about, str) else None
    return speaker, about


@dataclass
class _Slot:
    """One pooled searcher and the index state it was opened on."""

    searcher: Searcher
    identity: tuple[int, int]  # (st_dev, st_ino) of the database file when opened
    generation: int


class QAService:
    """A loaded index that many callers (threads) may ask at once.

    Args:
        index_dir: the index folder.
        model: the model named on the command line, checked against the index's (or None).
        notice: where non-fatal notices go (stderr in the commands: stdout may be a protocol).
        workers: how many searchers run questions in parallel; 1 serialises them (a lock).

    Raises:
        IndexMissingError, IndexError_: the index cannot be opened (at construction).
    """

    def __init__(
        self,
        index_dir: Path,
        model: str | None = None,
        notice: Callable[[str], None] = lambda message: None,
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise BadInputError(f"workers must be at least 1, not {workers}")
        self.index_dir = Path(index_dir)
        self.model = model
        self.notice = notice
        _single_threaded_faiss()
        self._outlets: tuple[int, list[str]] | None = None
        self._shared: SharedEncoder | None = None
        self._shared_lock = threading.Lock()
        self._pool: queue.LifoQueue[_Slot | None] = queue.LifoQueue()
        self._pool.put(self._open())  # fail now, not on the first question
        for _ in range(workers - 1):
            self._pool.put(None)  # opened when first needed

    # ---- the calls every interface makes ---------------------------------------------------
    def ask(
        self,
        question: str,
        k: int = 5,
        mode: Mode | str = Mode.HYBRID,
        fusion: Fusion | str = Fusion.CONVEX,
        filters: Filters | None = None,
        **options: Any,
    ) -> Answer:
        """What `qa ask` answers: the ``k`` best passages for ``question`` within ``filters``.

        Raises:
            TooLargeError: the question is over the length limit.
            BadInputError: an empty question, ``k`` out of range, unknown mode or fusion.
        """
        question = check_question(question, k)
        encoder = self._encoder()
        vector = encoder.encode_one(question)  # batched with the questions arriving meanwhile
        with self._searcher() as searcher:
            if encoder.model != searcher.model:  # rebuilt with another model while serving
                with self._shared_lock:
                    self._shared = None
                vector = None
            return searcher.ask(
                question, k=k, mode=mode, fusion=fusion, filters=filters,
                query_vector=vector, **options,
            )

    def ask_dict(self, question: str, k: int = 5, **kwargs: Any) -> dict[str, Any]:
        """:meth:`ask` as the `qa ask --json` object."""
        from qa.search.results import answer_to_dict

        return answer_to_dict(self.ask(question, k, **kwargs))

    def sources(self, filters: Filters | None = None) -> list[ArticleRow]:
        """The indexed articles within ``filters``."""
        with self._searcher() as searcher:
            return searcher.sources(filters)

    def show(self, ref: str) -> tuple[ArticleRow, list[PassageRow]]:
        """An indexed article by reference (``path`` or ``path#record``), with its passages.

        Only what the index holds is found: the reference is looked up, never opened as a file.

        Raises:
            NotInIndexError: nothing in the index has that reference.
        """
        hint = "Use a path that sources lists (a dump's record: PATH#N)"
        if not ref or len(ref) > 4096 or "\x00" in ref:
            raise NotInIndexError("that reference is not in the index", hint)
        with self._searcher() as searcher:
            try:
                return searcher.show(ref)
            except BadInputError:
                raise NotInIndexError(f"{ref} is not in the index", hint) from None

    def quotes(
        self, speaker: str | None = None, about: str | None = None,
        filters: Filters | None = None, k: int | None = None, sort: str | None = None,
    ) -> QuotesAnswer:
        """What `qa quotes` answers: a speaker's quotes (or everyone's), by date or by topic.

        Raises:
            TooLargeError: a speaker or topic over the length limit.
            BadInputError: a bad k or sort, an empty name; UnknownSpeakerError (a
                BadInputError) when nobody by that name is quoted; IndexError_ for an index
                built before attribution.
        """
        from qa.quotes.query import answer_quotes

        speaker, about = check_quote_request(speaker, about, k)
        vector = self._encoder().encode_one(about) if about is not None else None
        with self._searcher() as searcher:
            if vector is not None and getattr(self._shared, "model", None) != searcher.model:
                vector = None
            return answer_quotes(searcher.store, speaker, about, filters, k, sort, searcher, vector)

    def quotes_list(self, **kwargs: Any) -> list[dict[str, Any]]:
        """:meth:`quotes` as the `qa quotes --json` list."""
        from qa.quotes.query import answer_to_list

        return answer_to_list(self.quotes(**kwargs))

    def speakers(self, filters: Filters | None = None) -> list[dict[str, Any]]:
        """`qa quotes --speakers --json`: [{"speaker", "quotes"}], most quoted first."""
        from qa.quotes.query import check_attributed, speakers

        with self._searcher() as searcher:
            check_attributed(searcher.store)
            return [{"speaker": n, "quotes": c} for n, c in speakers(searcher.store, filters)]

    def outlets(self) -> list[str]:
        """The outlets named in the index, sorted (for a search form's menu; cached)."""
        with self._searcher() as searcher:
            generation = searcher.store.generation
            cached = self._outlets
            if cached is not None and cached[0] == generation:
                return cached[1]
            names = sorted({a.meta.outlet for a in searcher.sources() if a.meta.outlet})
        self._outlets = (generation, names)
        return names

    def close(self) -> None:
        """Close every opened searcher (callers must be done)."""
        while True:
            try:
                slot = self._pool.get_nowait()
            except queue.Empty:
                return
            if slot is not None:
                slot.searcher.close()

    # ---- the pool ------------------------------------------------------------------------
    def _encoder(self) -> SharedEncoder:
        """The one query encoder all searchers share."""
        from qa.embed.model import resolve_model
        from qa.embed.query_encoder import load_query_encoder

        with self._shared_lock:
            if self._shared is None:
                with self._searcher() as searcher:
                    # one onnxruntime thread per request: threads of concurrent requests
                    # would otherwise fight over the cores (p95 138 -> 85 ms measured)
                    encoder = load_query_encoder(
                        searcher.store.layout.encoder_dir, resolve_model(searcher.model), threads=1
                    )
                    self._shared = SharedEncoder(searcher.model, encoder)
            return self._shared

    @contextmanager
    def _searcher(self) -> Iterator[Searcher]:
        taken = self._pool.get()
        try:
            slot = self._fresh(taken)
        except BaseException:
            self._pool.put(None)  # reopened by the next caller
            raise
        try:
            yield slot.searcher
        finally:
            self._pool.put(slot)

    def _fresh(self, slot: _Slot | None) -> _Slot:
        """The slot itself, or a reopened one when the index changed under it."""
        if slot is None:
            return self._open()
        try:
            current = (
                slot.identity == self._identity()
                and slot.searcher.store.generation == slot.generation
            )
        except BaseException:
            slot.searcher.close()
            raise
        if current:
            return slot
        slot.searcher.close()
        return self._open()

    def _open(self) -> _Slot:
        from qa.search.searcher import Searcher

        searcher = Searcher(self.index_dir, self.model, self.notice)
        try:
            return _Slot(searcher, self._identity(), searcher.store.generation)
        except BaseException:
            searcher.close()
            raise

    def _identity(self) -> tuple[int, int]:
        from qa.index.layout import IndexLayout

        try:
            st = os.stat(IndexLayout(self.index_dir).db)
        except OSError:
            return (0, 0)
        return (st.st_dev, st.st_ino)


class SharedEncoder:
    """A query encoder shared by threads, batching the questions that arrive together.

    :meth:`encode_one` encodes a thread's question, together with any other thread's that
    arrived while the model was busy (one leader runs the model for the whole waiting batch;
    nobody waits for a batch to fill).
    """

    def __init__(self, model: str, encoder: Any, max_batch: int = 32) -> None:
        self.model = model
        self.dim = encoder.dim
        self._encoder = encoder
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._waiting: list[_Encoding] = []
        self._busy = False

    def encode_one(self, text: str) -> Any:
        """The (dim,) vector of ``text``, encoded in one batch with concurrent callers'."""
        return self._run(_Encoding(text)).vector

    def encode(self, texts: list[str]) -> Any:
        """(n, dim) vectors, each batched with concurrent callers'."""
        return self._run_many(texts)

    def _run(self, job: _Encoding) -> _Encoding:
        with self._cond:
            self._waiting.append(job)
            while not job.done:
                if self._busy:
                    self._cond.wait()
                    continue
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                self._busy = True
                self._cond.release()
                try:
                    _encode_batch(self._encoder, batch)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        return job

    def _run_many(self, texts: list[str]) -> Any:
        import numpy as np

        jobs = [self._run(_Encoding(t)) for t in texts]
        return np.stack([j.vector for j in jobs]) if jobs else self._encoder.encode([])


@dataclass
class _Encoding:
    text: str
    vector: Any = None
    error: BaseException | None = None
    done: bool = False


def _encode_batch(encoder: Any, batch: list[_Encoding]) -> None:
    try:
        vectors = encoder.encode([job.text for job in batch])
    except BaseException as exc:  # every waiting thread hears of it, not just the leader
        for job in batch:
            job.error, job.done = exc, True
        return
    for job, vector in zip(batch, vectors):
        job.vector, job.done = vector, True


def _single_threaded_faiss() -> None:
    """One OpenMP thread per FAISS search: a server runs many small searches at once.

    With OpenMP's default team (one thread per core), a search of a small index on a busy
    machine took ~40 ms of spinning instead of well under 1 ms.
    """
    import faiss

    faiss.omp_set_num_threads(1)
