"""What search and indexing need from storage: one small protocol, two engines behind it.

The catalogue (``qa.sqlite``: files, articles, passages, the content-keyed embedding cache) is
the source of truth and the one transaction that makes an index run visible. A *search
backend* holds what is searched, derived from the catalogue and brought up to date after each
commit (:meth:`SearchBackend.sync`): dense top-k, lexical top-k, and the scope of a filtered
question evaluated inside the engine before ranking. Fusion, relevance, the answer sentence,
collapsing copies and the filters themselves stay above it, in :mod:`qa.search`, written once.

Engines: :mod:`qa.backends.local` (FTS5 in the catalogue + a FAISS file; the default) and
:mod:`qa.backends.milvus` (a Milvus collection: vector field, built-in BM25, scalar fields).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from qa.index.index_types import IndexType
    from qa.index.store import ArticleRow, PassageRow, Store
    from qa.search.filters import Filters

Ranked = list[tuple[int, float]]
"""(passage id, score, higher is better), best first."""


@dataclass(frozen=True)
class Scope:
    """The passages a filtered question may use, in the form its engine evaluates.

    ``size`` passages are in scope; ``handle`` is the engine's own form (passage ids for the
    local engine, a boolean filter expression for Milvus). ``len(scope) == 0``: nothing in scope.
    """

    size: int
    handle: Any

    def __len__(self) -> int:
        return self.size


class SearchBackend(Protocol):
    """An open index, as the searcher sees it (read side)."""

    name: str  # "local" or "milvus"

    @property
    def generation(self) -> int:
        """The catalogue generation searched (bumped by every index run that changed something)."""
        ...

    def begin(self) -> None:
        """Start one consistent snapshot of the catalogue for a whole question."""
        ...

    def end(self) -> None:
        """End the snapshot :meth:`begin` started."""
        ...

    def counts(self) -> tuple[int, int]:
        """(articles, passages)."""
        ...

    def scope(self, filters: Filters) -> Scope | None:
        """The scope of ``filters`` (None when unscoped)."""
        ...

    def id_scope(self, ids: Sequence[int]) -> Scope:
        """A scope of exactly these passages (ranking within a given set)."""
        ...

    def dense(self, query_vector: np.ndarray, depth: int, scope: Scope | None) -> Ranked:
        """The ``depth`` passages nearest the question vector (cosine), within ``scope``."""
        ...

    def lexical(self, terms: list[str], depth: int, scope: Scope | None) -> Ranked:
        """The ``depth`` best BM25 passages for these question terms, within ``scope``."""
        ...

    def document_frequency(self, word: str) -> int:
        """Passages containing ``word`` (0 where the engine needs no postings budget)."""
        ...

    def mentions(self, word: str) -> bool:
        """Whether any passage (or title) contains ``word``."""
        ...

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        """The rows to show, by id (ids the catalogue no longer has are absent)."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Exact float32 passage vectors in the order given (zero rows for unknown ids)."""
        ...

    def sentence_vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The sentence vectors of these passages, by id: float32 (sentences, dim) arrays."""
        ...

    def copies(self, groups: Sequence[int]) -> dict[int, list[tuple[int, int, ArticleRow]]]:
        """Every passage of these duplicate groups: group -> [(passage id, paragraph, article)]."""
        ...

    def close(self) -> None: ...


class CatalogueReads:
    """What every backend reads from the catalogue (``qa.sqlite``) rather than from its engine:
    the generation and snapshot, counts, rows to show, sentence vectors, copies, and whether a
    word occurs at all. Backends inherit it and set ``self.store``."""

    store: Store

    @property
    def generation(self) -> int:
        return self.store.generation

    def begin(self) -> None:
        self.store.conn.execute("BEGIN")

    def end(self) -> None:
        self.store.conn.execute("COMMIT")

    def counts(self) -> tuple[int, int]:
        return self.store.counts()

    def mentions(self, word: str) -> bool:
        return self.store.mentions(word)

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        return self.store.passages(ids)

    def sentence_vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        return self.store.sentence_vectors(ids)

    def copies(self, groups: Sequence[int]) -> dict[int, list[tuple[int, int, ArticleRow]]]:
        return self.store.copies(groups)


class BackendWriter(Protocol):
    """The write side, used by `qa index` after the catalogue transaction committed.

    Passages are added, updated (a changed file: its old passages deleted, new ones added) and
    deleted in the catalogue first; :meth:`sync` then applies the difference to the engine.
    """

    def sync(
        self, store: Store, dim: int, requested: IndexType | str | None,
        previous: dict[str, Any] | None, notice: Callable[[str], None],
    ) -> dict[str, Any]:
        """Bring the engine up to the catalogue's generation; returns the manifest's ``vectors``."""
        ...

    def current(self, store: Store) -> bool:
        """Whether the engine already holds the catalogue's generation."""
        ...

    def neighbours(
        self, store: Store, dim: int, notice: Callable[[str], None]
    ) -> Any:
        """An object with ``search(queries, k, None, vectors_for)`` -> (scores, ids), for
        finding near-duplicates at indexing time."""
        ...

    def close(self) -> None: ...
