"""Embedding what the cache lacks during `qa index`: passage texts in, stored embeddings out.

Embeddings are keyed by content (:func:`embedding_key`: the model and the exact text), so
identical passages are embedded once and an interrupted run resumes where it stopped.
:class:`Embedder` loads the model on the first text that needs it and writes each chunk to
SQLite while the next one is encoded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from qa.embed.model import ModelRef
from qa.ingest.passages import split_sentences

if TYPE_CHECKING:
    from qa.embed.passage_encoder import PassageEncoder
    from qa.index.store import Store

CHUNK = 512  # passages per encode call / SQLite write
RAY_FLUSH = 50_000  # passages per Ray run (each run starts an actor pool that loads the model)


class Meter(Protocol):
    """The progress display the embedder drives (a part of the indexer's Progress)."""

    def start(self, total: int | None, description: str, unit: str = "passages") -> None: ...
    def advance(self, n: int) -> None: ...
    def stop(self) -> None: ...


def embedding_key(model: str, text: str) -> bytes:
    """Content key of a passage's embedding: the model and the exact text."""
    return hashlib.sha256(f"{model}\0{text}".encode()).digest()


class Embedder:
    """Embeds passage texts the cache lacks, in chunks, as they arrive.

    The model is loaded on the first text that needs it; SQLite writes of one chunk overlap the
    encoding of the next.
    """

    def __init__(
        self,
        store: Store,
        ref: ModelRef,
        progress: Meter,
        open_encoder: Callable[[ModelRef], Any],
        ray: bool = False,
    ) -> None:
        self.store, self.ref, self.progress = store, ref, progress
        self._open_encoder = open_encoder
        # a Ray pool starts per call: hand it large pieces
        self.flush_at = RAY_FLUSH if ray else 4 * CHUNK
        self.encoder: Any = None
        self.given = 0
        self.embedded = 0
        self._seen: set[bytes] = set()
        self._pending: dict[bytes, str] = {}
        self._writer = ThreadPoolExecutor(max_workers=1)
        self._write: Future[None] | None = None
        self._started = False

    def start(self, texts: list[str] | None) -> None:
        """Begin; with all ``texts`` known up front the progress bar gets a total."""
        if texts is None:
            return
        self.add(texts, flush=False)
        if self._pending:
            self.progress.start(len(self._pending), "Embedding passages")
            self._started = True
        self._flush_all()

    def add(self, texts: list[str], flush: bool = True) -> None:
        for text in texts:
            self.given += 1
            key = embedding_key(self.ref.name, text)
            if key not in self._seen:
                self._seen.add(key)
                self._pending[key] = text
        if len(self._pending) >= self.flush_at and flush:
            self._flush_all()

    def finish(self) -> None:
        self._flush_all()
        if self._write is not None:
            self._write.result()
        self._writer.shutdown()
        self.progress.stop()

    def close(self) -> None:
        """Release the encoder's resources (a Ray instance started here is shut down)."""
        close = getattr(self.encoder, "close", None)
        if close is not None:
            close()

    def _flush_all(self) -> None:
        if not self._pending:
            return
        cached = self.store.known_embeddings(self._pending)
        missing = sorted((k for k in self._pending if k not in cached), key=lambda k: len(self._pending[k]))
        texts = self._pending
        self._pending = {}
        if not missing:
            return
        if self.encoder is None:
            self.encoder = self._open_encoder(self.ref)
            if not self._started:
                self.progress.start(None, "Embedding passages")
                self._started = True
        if hasattr(self.encoder, "stream"):
            batches: Iterable[list[Row]] = _streamed_rows(self.encoder, missing, texts, self.progress)
        else:
            batches = (
                _encode_rows(self.encoder, [texts[k] for k in keys], keys, self.progress)
                for keys in (missing[i : i + CHUNK] for i in range(0, len(missing), CHUNK))
            )
        for rows in batches:
            if self._write is not None:
                self._write.result()
            self._write = self._writer.submit(self.store.put_embeddings, rows)
            self.embedded += len(rows)


Row = tuple[bytes, np.ndarray, bytes, np.ndarray]  # text key, vector, spans, sentence vectors


def _streamed_rows(
    encoder: Any, keys: list[bytes], texts: dict[bytes, str], progress: Meter
) -> Iterator[list[Row]]:
    """Rows from an encoder that yields results as they arrive (Ray), in any order."""
    spans = [split_sentences(texts[k]) for k in keys]
    for positions, vectors, sentences in encoder.stream([texts[k] for k in keys], spans):
        rows = [
            (
                keys[i],
                np.asarray(vectors[j], dtype=np.float32),
                np.asarray(spans[i], dtype=np.int32).reshape(-1, 2).tobytes(),
                np.asarray(sentences[j], dtype=np.float32),
            )
            for j, i in enumerate(positions.tolist())
        ]
        progress.advance(len(rows))
        yield rows


def _encode_rows(
    encoder: PassageEncoder, texts: list[str], keys: list[bytes], progress: Meter
) -> list[Row]:
    spans = [split_sentences(t) for t in texts]
    encoded = encoder.encode(texts, spans, on_progress=progress.advance)
    return [
        (
            key,
            np.asarray(vector, dtype=np.float32),
            np.asarray(span, dtype=np.int32).reshape(-1, 2).tobytes(),
            np.asarray(sentences, dtype=np.float32),
        )
        for key, vector, span, sentences in zip(
            keys, encoded.vectors, spans, encoded.sentence_vectors
        )
    ]
