"""The embeddings table: a cache of passage vectors keyed by the SHA-256 of model + text.

Identical text is embedded once, and an interrupted run resumes without re-embedding. Rows are
stored compactly (codecs.py): a float16 passage vector, int32 sentence spans, int8 sentence
vectors with a scale each. numpy is needed only to decode them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class EmbeddingCache:
    """:class:`qa.index.store.Store`'s methods over the embeddings table (a mixin)."""

    conn: sqlite3.Connection
    transaction: Callable[[], AbstractContextManager[sqlite3.Connection]]

    def vector_dimension(self) -> int | None:
        """Dimension of the stored passage vectors (None when there are none)."""
        row = self.conn.execute(
            "SELECT length(e.vector) FROM passages p "
            "JOIN embeddings e ON e.text_sha = p.text_sha LIMIT 1"
        ).fetchone()
        return int(row[0]) // 2 if row else None  # float16 (codecs.py)

    def sentence_vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The sentence vectors of these passages, by id: float32 (sentences, dim) arrays.

        Passages without sentences (and ids not stored) are left out.
        """
        from qa.index.codecs import decode_sentence_rows

        found: dict[int, np.ndarray] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.conn.execute(
                "SELECT p.id, length(e.spans) / 8, e.sentence_vectors FROM passages p "
                "JOIN embeddings e ON e.text_sha = p.text_sha "
                f"WHERE p.id IN ({','.join('?' * len(chunk))}) AND length(e.spans) > 0",
                chunk,
            ).fetchall()
            found.update(zip((r[0] for r in rows), decode_sentence_rows([r[1:] for r in rows])))
        return found

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[list[int], list[bytes]]]:
        """(passage ids, float32 vector blobs) in batches, for building the FAISS index."""
        cursor = self.conn.execute(
            "SELECT p.id, e.vector FROM passages p JOIN embeddings e ON e.text_sha = p.text_sha "
            "ORDER BY p.id"
        )
        while rows := cursor.fetchmany(batch):
            yield [r[0] for r in rows], [r[1] for r in rows]

    def known_embeddings(self, shas: Iterable[bytes]) -> set[bytes]:
        """Which of these text hashes already have an embedding."""
        found: set[bytes] = set()
        shas = list(shas)
        for start in range(0, len(shas), 500):
            chunk = shas[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT text_sha FROM embeddings WHERE text_sha IN ({marks})", chunk
            )
            found.update(r[0] for r in rows)
        return found

    def put_embeddings(self, rows: Sequence[tuple[bytes, Any, bytes, Any]]) -> None:
        """Store (text_sha, vector, spans, sentence_vectors) rows in their own transaction.

        ``vector``: float32 array (or its bytes); ``spans``: int32 (start, end) pairs as bytes;
        ``sentence_vectors``: a float (sentences, dim) array (or float16 bytes). They are stored
        compactly (codecs.py). Embeddings are a cache keyed by content: writing them never
        changes what a search sees, so they are committed as they come and survive an
        interrupted run.
        """
        from qa.index.codecs import encode_rows

        encoded = encode_rows(rows)
        with self.transaction():
            self.conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", encoded)

    def prune_embeddings(self) -> None:
        """Drop cached embeddings no passage uses any more; call inside a transaction."""
        self.conn.execute(
            "DELETE FROM embeddings WHERE text_sha NOT IN (SELECT text_sha FROM passages)"
        )
