"""Searching a FAISS index, whole or within a scope of passage ids.

:func:`qa.index.vectors.search` is the entry point; here is how a scope is searched: exactly
when it is small or the index's search found too few, else through an id selector with the
plan's nprobe / efSearch widened for the scope's share, with ivfpq candidates re-scored by
their exact vectors. faiss is imported inside functions only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from qa.index.index_types import IndexType, VectorPlan

if TYPE_CHECKING:
    import faiss

_LIVE = (0, 2**62)  # id range of live entries; hnsw tombstones carry id -1

VectorsFor = Callable[[np.ndarray], np.ndarray]
"""Exact float32 vectors (len(ids), dim) of these passage ids, in the order given."""


@contextmanager
def faiss_threads(count: int) -> Iterator[None]:
    """Run FAISS on ``count`` OpenMP threads (0: as it was).

    One query on one thread: on this 2-core machine under load, two OpenMP threads made a
    single flat search over 10k vectors take 20 ms instead of 0.7 ms (spinning at barriers).
    """
    import faiss

    before = faiss.omp_get_max_threads()
    if count:
        faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def nearest(
    index: faiss.Index, plan: VectorPlan, query: np.ndarray, k: int,
    allowed: np.ndarray | None, vectors_for: VectorsFor | None, exact_scope: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The search behind :func:`qa.index.vectors.search`, on a float32 (n, dim) query.

    A scope of at most ``exact_scope`` passages is scored exactly when exact vectors are at hand.
    """
    if allowed is not None:
        allowed = np.unique(np.asarray(allowed, dtype=np.int64))
        source = _vector_source(index, plan, vectors_for)
        if source is not None and (len(allowed) <= exact_scope or index.ntotal == 0):
            return _exact(query, allowed, k, source)
        wanted = min(k, len(allowed))
        scores, ids = _approximate(index, plan, query, k, allowed, vectors_for)
        if int((ids >= 0).sum(axis=1).min(initial=wanted)) >= wanted:
            return scores, ids
        if source is None:  # ivfpq without exact vectors: every list, through the selector
            return _approximate(index, plan, query, k, allowed, None, share=0.0)
        return _exact(query, allowed, k, source)
    return _approximate(index, plan, query, k, None, vectors_for)


def _approximate(
    index: faiss.Index, plan: VectorPlan, query: np.ndarray, k: int,
    allowed: np.ndarray | None, vectors_for: VectorsFor | None, share: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    if share is None:
        share = 1.0 if allowed is None else len(allowed) / max(index.ntotal, 1)
    share = max(share, 1e-9)
    selector = _selector(plan, allowed)
    depth = max(k, plan.rerank) if vectors_for is not None and plan.rerank else k
    params = _params(index, plan, selector, share, depth)
    scores, ids = index.search(query, depth, params=params)
    if depth > k and vectors_for is not None:
        return _rerank(query, ids, k, vectors_for)
    return scores, ids


def _selector(plan: VectorPlan, allowed: np.ndarray | None) -> faiss.IDSelector | None:
    import faiss

    if allowed is not None:
        return faiss.IDSelectorBatch(allowed)
    if plan.tombstones:
        return faiss.IDSelectorRange(*_LIVE)
    return None


def _params(
    index: faiss.Index, plan: VectorPlan, selector: faiss.IDSelector | None, share: float, depth: int
) -> faiss.SearchParameters | None:
    """Search parameters: the plan's nprobe/efSearch, widened for a filter's small share."""
    import faiss

    if plan.type is IndexType.IVFPQ:
        nlist = faiss.extract_index_ivf(index).nlist
        nprobe = min(nlist, int(np.ceil((plan.nprobe or 1) / min(1.0, share * 4))))
        params = faiss.SearchParametersIVF(nprobe=nprobe)
    elif plan.type is IndexType.HNSW:
        ef = int(min(4096, max(depth, (plan.ef_search or depth)) / min(1.0, share * 4)))
        params = faiss.SearchParametersHNSW(efSearch=max(ef, depth))
    elif selector is None:
        return None
    else:
        params = faiss.SearchParameters()
    if selector is not None:
        params.sel = selector
    return params


def _rerank(query: np.ndarray, ids: np.ndarray, k: int, vectors_for: VectorsFor) -> tuple[np.ndarray, np.ndarray]:
    """Re-score each row's candidates with their exact vectors; keep the best ``k``."""
    out_scores = np.full((len(query), k), -np.inf, dtype=np.float32)
    out_ids = np.full((len(query), k), -1, dtype=np.int64)
    for row, (q, candidates) in enumerate(zip(query, ids)):
        candidates = candidates[candidates >= 0]
        if not len(candidates):
            continue
        exact = vectors_for(candidates) @ q
        order = np.argsort(-exact, kind="stable")[:k]
        out_scores[row, : len(order)] = exact[order]
        out_ids[row, : len(order)] = candidates[order]
    return out_scores, out_ids


def _vector_source(index: faiss.Index, plan: VectorPlan, vectors_for: VectorsFor | None) -> VectorsFor | None:
    """Where exact vectors come from: the caller, else the flat/hnsw index itself."""
    if vectors_for is not None:
        return vectors_for
    if plan.type is IndexType.IVFPQ:
        return None  # codes only: search every list instead
    return lambda ids: _reconstruct(index, ids)


def _reconstruct(index: faiss.Index, ids: np.ndarray) -> np.ndarray:
    """Vectors of these ids read back from a flat/hnsw index; zero rows for absent ids."""
    out = np.zeros((len(ids), index.d), dtype=np.float32)
    for row, pid in enumerate(ids.tolist()):
        try:
            out[row] = index.reconstruct(pid)
        except RuntimeError:
            pass
    return out


def _exact(query: np.ndarray, allowed: np.ndarray, k: int, vectors_for: VectorsFor) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force scores over the allowed ids (ties: lower id first)."""
    scores = np.full((len(query), k), -np.inf, dtype=np.float32)
    ids = np.full((len(query), k), -1, dtype=np.int64)
    if not len(allowed):
        return scores, ids
    matrix = vectors_for(allowed)
    present = np.abs(matrix).sum(axis=1) > 0  # rows the source did not have
    allowed, matrix = allowed[present], matrix[present]
    top = min(k, len(allowed))
    for row, q in enumerate(query):
        exact = matrix @ q
        order = np.argsort(-exact, kind="stable")[:top]
        scores[row, :top] = exact[order]
        ids[row, :top] = allowed[order]
    return scores, ids
