"""Search: dense (FAISS), lexical (FTS5 BM25) and hybrid (reciprocal rank fusion) -> Hits."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from qa.search.answer import pick_sentence
from qa.search.modes import Fusion, Mode
from qa.errors import BadInputError, IndexError_
from qa.ingest.files import display_path
from qa.search.fusion import convex_fusion, reciprocal_rank_fusion
from qa.embed.model import resolve_model
from qa.index.store import ArticleRow, PassageRow, Store
from qa.search.filters import Filters
from qa.search.results import Answer, Hit, HitSource
from qa.search.terms import content_terms, fts_query
from qa.index.indexer import read_manifest
from qa.index.vectors import VectorIndex, load_index, stored_vectors

if TYPE_CHECKING:
    from qa.embed.query_encoder import QueryEncoder

# Defaults chosen on BEIR SciFact (bench/README.md): convex fusion of min-max normalised
# scores, equal weights, 100 candidates a side, beat RRF (k=60) by about 2 points of nDCG@10.
CANDIDATES = 100  # how deep each side of a hybrid search looks
DENSE_WEIGHT = 0.5
MAX_QUERY_TERMS = 64
NO_MATCH_BELOW = 0.5  # relevance under which a hit does not answer the question


class Searcher:
    """An open index ready for questions; load once, ask many times."""

    def __init__(
        self, index_dir: Path, model: str | None, notice: Callable[[str], None]
    ) -> None:
        self.store = Store.open(index_dir)
        self.notice = notice
        meta = self.store.meta()
        built_with = meta.get("model")
        if not built_with or "dimension" not in meta:
            raise IndexError_(f"the index in {index_dir}/ is empty", "Run `qa index PATH` first")
        if model is not None and resolve_model(model).name != built_with:
            raise IndexError_(
                f"the index in {index_dir}/ was built with model {built_with}, not {model}",
                f"Drop --model, or rebuild with `qa index --rebuild --model {model}`",
            )
        self.model = built_with
        self.dim = int(meta["dimension"])
        self._encoder: QueryEncoder | None = None
        self._faiss: tuple[int, VectorIndex] | None = None

    def close(self) -> None:
        self.store.close()

    @property
    def encoder(self) -> QueryEncoder:
        if self._encoder is None:
            from qa.embed.query_encoder import load_query_encoder

            self._encoder = load_query_encoder(
                self.store.layout.encoder_dir, resolve_model(self.model)
            )
        return self._encoder

    def ask(
        self,
        question: str,
        k: int = 5,
        mode: Mode = Mode.HYBRID,
        fusion: Fusion = Fusion.CONVEX,
        filters: Filters | None = None,
    ) -> Answer:
        """The ``k`` best passages for ``question`` within ``filters``, best first.

        Raises:
            BadInputError: an empty question, or an unknown mode or fusion.
        """
        question = question.strip()
        if not question:
            raise BadInputError("the question is empty", 'Ask something, e.g. qa ask "who won?"')
        mode, fusion = _choice(Mode, mode), _choice(Fusion, fusion)
        filters = filters or Filters()
        query_vector = self.encoder.encode([question])[0]
        self.store.conn.execute("BEGIN")  # one snapshot for the whole search
        try:
            allowed = self._scope(filters)
            if allowed is not None and len(allowed) == 0:
                return Answer(question, [], True, filters.given, filters.describe())
            ranked = self._rank(question, query_vector, mode, fusion, k, filters, allowed)
            rows = self.store.passages(pid for pid, _ in ranked)
        finally:
            self.store.conn.execute("COMMIT")
        hits = _hits(ranked, rows, query_vector, content_terms(question), k)
        no_match = not any(h.relevance >= NO_MATCH_BELOW for h in hits)
        return Answer(question, hits, no_match, filters.given)

    def sources(self, filters: Filters | None = None) -> list[ArticleRow]:
        """The indexed articles within ``filters``."""
        where, args = (filters or Filters()).where()
        return self.store.articles(where, args)

    def show(self, ref: str) -> tuple[ArticleRow, list[PassageRow]]:
        """An indexed article by reference (``path`` or ``path#record``), with its passages.

        Raises:
            BadInputError: nothing in the index has that reference.
        """
        return article_by_ref(self.store, ref)

    def _scope(self, filters: Filters) -> np.ndarray | None:
        """The passage ids a scoped question may use (None when unscoped)."""
        if not filters.active:
            return None
        where, args = filters.where()
        return np.asarray(self.store.passage_ids(where, args), dtype=np.int64)

    def _rank(
        self, question: str, query_vector: np.ndarray, mode: Mode, fusion: Fusion, k: int,
        filters: Filters, allowed: np.ndarray | None,
    ) -> list[tuple[int, float]]:
        depth = max(CANDIDATES, 2 * k)
        dense = self._dense(query_vector, depth, allowed) if mode != "lexical" else []
        lexical = self._lexical(question, depth, filters) if mode != "dense" else []
        if mode == "dense":
            ranked = dense
        elif mode == "lexical":
            ranked = lexical
        elif fusion == "rrf":
            ranked = reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in lexical]])
        else:
            ranked = convex_fusion([dense, lexical], [DENSE_WEIGHT, 1 - DENSE_WEIGHT])
        return ranked[: 2 * k]  # extra room for collapsing duplicate texts

    def _dense(
        self, query_vector: np.ndarray, depth: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        vectors = self._vector_index()
        if vectors.index.ntotal == 0:
            return []
        scores, ids = vectors.search(
            query_vector.reshape(1, -1), depth, allowed,
            vectors_for=lambda wanted: stored_vectors(self.store, wanted, self.dim),
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _lexical(self, question: str, depth: int, filters: Filters) -> list[tuple[int, float]]:
        match = fts_query(" ".join(content_terms(question)[:MAX_QUERY_TERMS]))
        if not match:
            return []
        where, args = filters.where()
        return self.store.lexical(match, depth, where, args)

    def _vector_index(self) -> VectorIndex:
        generation = self.store.generation
        if self._faiss is None or self._faiss[0] != generation:
            passages = self.store.counts()[1]
            info = read_manifest(self.store.layout).get("vectors")
            self._faiss = (
                generation, load_index(self.store, self.dim, passages, self.notice, info)
            )
        return self._faiss[1]


def _choice(kind: type[StrEnum], value: object) -> StrEnum:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise BadInputError(f"unknown {kind.__name__.lower()} {value!r}", f"Use one of: {choices}") from None


def article_by_ref(store: Store, ref: str) -> tuple[ArticleRow, list[PassageRow]]:
    """The article a reference names (``path`` or ``path#record``), with its passages.

    Raises:
        BadInputError: nothing in the index has that reference.
    """
    path, number = ref, None
    head, sep, tail = ref.rpartition("#")
    if sep and tail.isdigit():
        path, number = head, int(tail)
    for candidate in dict.fromkeys([os.path.abspath(path), path]):
        article = store.article(candidate, number)
        if article is not None:
            return article, store.article_passages(article.id)
    raise BadInputError(
        f"{ref} is not in the index", "See `qa sources` for what is indexed (a dump's record: PATH#N)"
    )


def _hits(
    ranked: list[tuple[int, float]],
    rows: dict[int, PassageRow],
    query_vector: np.ndarray,
    terms: list[str],
    k: int,
) -> list[Hit]:
    hits: list[Hit] = []
    seen_texts: set[str] = set()
    for pid, score in ranked:
        row = rows.get(pid)
        if row is None or row.text in seen_texts:
            continue
        seen_texts.add(row.text)
        spans = np.frombuffer(row.spans, dtype=np.int32).reshape(-1, 2)
        vectors = np.frombuffer(row.sentence_vectors, dtype=np.float16).reshape(len(spans), -1)
        start, end = pick_sentence(row.text, spans, vectors, query_vector, terms)
        article = row.article
        source = HitSource(
            display_path(article.path), article.record, row.paragraph, row.paragraph_end,
            row.page, article.meta,
        )
        relevance = float(np.clip(vectors.astype(np.float32) @ query_vector, 0, 1).max(initial=0.0))
        hits.append(Hit(len(hits) + 1, score, relevance, pid, row.text, row.text[start:end], start, source))
        if len(hits) == k:
            break
    return hits
