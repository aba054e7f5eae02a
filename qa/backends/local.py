"""The default engine: FTS5 BM25 in the catalogue and a FAISS file beside it.

Behaviour is exactly what :mod:`qa.search.searcher` did before backends existed: the same
SQL, the same FAISS search with the scope as an id set (exact for small scopes), the same
vector file named by generation and rebuilt from SQLite when it does not match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.backends.base import CatalogueReads, Ranked, Scope
from qa.index.layout import read_manifest
from qa.index.vectors import VectorIndex, load_index, refresh_index, stored_vectors
from qa.search.terms import fts_query

if TYPE_CHECKING:
    from qa.index.index_types import IndexType
    from qa.index.store import Store
    from qa.search.filters import Filters


class LocalBackend(CatalogueReads):
    """Search over the catalogue's FTS5 table and the FAISS file of its generation."""

    name = "local"

    def __init__(self, store: Store, dim: int, notice: Callable[[str], None]) -> None:
        self.store, self.dim, self.notice = store, dim, notice
        self._faiss: tuple[int, VectorIndex] | None = None

    def scope(self, filters: Filters) -> Scope | None:
        if not filters.active:
            return None
        ids = np.asarray(self.store.passage_ids(*filters.where()), dtype=np.int64)
        return Scope(len(ids), ids)

    def id_scope(self, ids: Sequence[int]) -> Scope:
        unique = np.unique(np.asarray(ids, dtype=np.int64))
        return Scope(len(unique), unique)

    def dense(self, query_vector: np.ndarray, depth: int, scope: Scope | None) -> Ranked:
        vectors = self._vector_index()
        if vectors.index.ntotal == 0:
            return []
        scores, ids = vectors.search(
            query_vector.reshape(1, -1), depth, None if scope is None else scope.handle,
            vectors_for=self.vectors,
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def lexical(self, terms: list[str], depth: int, scope: Scope | None) -> Ranked:
        match = fts_query(" ".join(terms))
        if not match:
            return []
        allowed = None if scope is None else set(scope.handle.tolist())
        return self.store.lexical(match, depth, allowed)

    def document_frequency(self, word: str) -> int:
        return self.store.document_frequency(word)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return stored_vectors(self.store, ids, self.dim)

    def close(self) -> None:
        """The catalogue belongs to the searcher, which closes it."""

    def _vector_index(self) -> VectorIndex:
        generation = self.store.generation
        if self._faiss is None or self._faiss[0] != generation:
            passages = self.store.counts()[1]
            info = read_manifest(self.store.layout).get("vectors")
            import faiss

            # one question at a time: OpenMP's thread start-up costs more than it saves
            # (5 ms vs 0.5 ms per flat search of 6k vectors, measured on 2 busy cores)
            faiss.omp_set_num_threads(1)
            self._faiss = (
                generation, load_index(self.store, self.dim, passages, self.notice, info)
            )
        return self._faiss[1]


class LocalWriter:
    """The FAISS file: updated in place when it can be, rebuilt when it must (vectors.py)."""

    def sync(
        self, store: Store, dim: int, requested: IndexType | str | None,
        previous: dict[str, Any] | None, notice: Callable[[str], None],
    ) -> dict[str, Any]:
        return refresh_index(store, dim, requested, previous, notice)

    def current(self, store: Store) -> bool:
        return store.layout.faiss(store.generation).is_file()

    def neighbours(self, store: Store, dim: int, notice: Callable[[str], None]) -> VectorIndex:
        return load_index(
            store, dim, store.counts()[1], notice, read_manifest(store.layout).get("vectors")
        )

    def close(self) -> None:
        pass
