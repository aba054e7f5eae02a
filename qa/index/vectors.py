"""The FAISS file: derived from SQLite, updated in place when it can be, rebuilt when it must.

The file is named after the database generation it was built from (``passages.<gen>.faiss``),
so a reader always knows whether the file on disk matches the passages it sees: no match,
no trust, rebuild. Writes go to a temporary file and are renamed into place.

Three index types (see :mod:`qa.index.index_types` for the choice): ``flat`` (exact),
``hnsw`` (graph over full vectors) and ``ivfpq`` (compressed codes, re-ranked with the exact
vectors from SQLite). Queries memory-map the file, so a new process reads only what it touches.
Ids in the index are passage ids; they must never be reused for other text (see
:func:`ids_are_stable`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.index.codecs import decode_vectors
from qa.index.index_types import IndexType, VectorPlan, choose, needs_rebuild
from qa.index.layout import IndexLayout
from qa.index.vector_search import VectorsFor, faiss_threads, nearest

if TYPE_CHECKING:
    import faiss

    from qa.index.store import Store

FEW_QUERIES = 16  # fewer query rows than this are searched on one thread
EXACT_SCOPE = 4096  # a filter allowing at most this many passages is scored exactly
TRAIN_PER_LIST = 32  # ivfpq k-means sample: this many vectors per coarse list (capped by N)


@dataclass
class VectorIndex:
    """An open vector index with the plan it was built with."""

    index: faiss.Index
    plan: VectorPlan

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
        vectors_for: VectorsFor | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return search(self.index, self.plan, query, k, allowed, vectors_for)


# ---- building ------------------------------------------------------------------------------
def build_index(store: Store, dim: int, plan: VectorPlan | None = None) -> faiss.Index:
    """A new index over every stored passage vector (ids = passage ids), trained if needed."""
    plan = plan or choose(IndexType.FLAT, 0, dim)
    index = empty_index(plan, dim)
    if plan.type is IndexType.IVFPQ:
        index.train(_training_sample(store, dim, plan))
    for ids, matrix in _batches(store, dim):
        index.add_with_ids(matrix, ids)
    return index


def empty_index(plan: VectorPlan, dim: int) -> faiss.Index:
    """The untrained, empty index of a plan (inner product on normalised vectors = cosine)."""
    import faiss

    index = faiss.index_factory(dim, plan.factory, faiss.METRIC_INNER_PRODUCT)
    if plan.type is IndexType.IVFPQ:  # polysemous codes are unused here and cost seconds to train
        faiss.downcast_index(faiss.extract_index_ivf(index)).do_polysemous_training = False
    return index


def _batches(store: Store, dim: int, batch: int = 16384) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for ids, blobs in store.iter_vectors(batch):
        matrix = decode_vectors(blobs, dim)
        yield np.asarray(ids, dtype=np.int64), matrix


def _training_sample(store: Store, dim: int, plan: VectorPlan) -> np.ndarray:
    """An evenly spaced sample of the stored vectors, enough for k-means on the coarse lists."""
    nlist = int(plan.factory.split(",")[0][3:])
    total = max(plan.trained_at_n, 1)
    want = min(total, max(nlist * TRAIN_PER_LIST, 256 * 40))
    step = max(1, total // want)
    parts = [matrix[::step] for _, matrix in _batches(store, dim, batch=step * 4096)]
    return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros((0, dim), np.float32))


def write_index(index: faiss.Index, index_dir: Path, generation: int) -> Path:
    """Atomically write the index for ``generation`` and delete files of older generations."""
    import faiss

    layout = IndexLayout(index_dir)
    target = layout.faiss(generation)
    fd, tmp = tempfile.mkstemp(prefix=".passages.", suffix=".tmp", dir=index_dir)
    os.close(fd)
    try:
        faiss.write_index(index, tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the index from other users
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for number, old in layout.faiss_files().items():
        if number < generation:
            old.unlink(missing_ok=True)
    return target


# ---- incremental update --------------------------------------------------------------------
def refresh_index(
    store: Store,
    dim: int,
    requested: IndexType | str | None,
    previous: dict[str, Any] | None,
    notice: Callable[[str], None],
) -> dict[str, Any]:
    """Bring the vector file up to the store's generation; call after each committed run.

    Updates the newest older file in place (adds new passage ids, removes deleted ones) when
    its plan still fits; rebuilds (and retrains) when there is none, the type changes, an
    ivfpq index doubled or halved since training, or hnsw holds too many deleted entries.

    Args:
        store: the open store, after the commit.
        dim: vector dimension.
        requested: ``--index-type`` (auto or a type); None keeps what the previous manifest
            asked for (auto for a new index).
        previous: the ``vectors`` fields of the previous manifest (None if none).
        notice: told, in one line, why the index is rebuilt when it is.

    Returns:
        The manifest's ``vectors`` fields: the plan (type, factory, nprobe, ef_search,
        rerank, reason, trained_at_n, tombstones) plus ``update`` (rebuilt/updated/unchanged),
        ``added``, ``removed``.
    """
    store_ids = _store_ids(store)
    if requested is None:
        requested = str((previous or {}).get("requested") or IndexType.AUTO)
    wanted = choose(requested, len(store_ids), dim)
    loaded, built_at = _previous_index(store, dim, previous)
    why = "no earlier vector index to update" if loaded is None else needs_rebuild(
        loaded.plan, wanted, len(store_ids), loaded.index.ntotal
    )
    if why is None and loaded is not None:
        stale = built_at < store.generation and not ids_are_stable(store)
        info = None if stale else _update(store, dim, loaded, store_ids)
        if info is not None:
            if info["update"] != "unchanged" or not store.layout.faiss(store.generation).is_file():
                write_index(loaded.index, store.index_dir, store.generation)
            return info
        why = "passage ids may have been reused (the passages table lacks AUTOINCREMENT)"
    if previous is not None:
        notice(f"building the vector index anew: {why}")
    index = build_index(store, dim, wanted)
    write_index(index, store.index_dir, store.generation)
    return {**wanted.to_info(), "update": "rebuilt", "added": len(store_ids), "removed": 0}


def _previous_index(
    store: Store, dim: int, previous: dict[str, Any] | None
) -> tuple[VectorIndex | None, int]:
    """The newest vector file of this or an older generation, read in full for updating.

    Returns (the index and its plan, or None when there is no usable one; its generation).
    """
    import faiss

    if not previous:
        return None, 0
    try:
        plan = VectorPlan.from_info(previous)
    except (KeyError, TypeError, ValueError):
        return None, 0
    files = {g: p for g, p in store.layout.faiss_files().items() if g <= store.generation}
    if not files:
        return None, 0
    try:
        index = faiss.read_index(str(files[max(files)]))
    except RuntimeError:
        return None, 0
    return (VectorIndex(index, plan) if index.d == dim else None), max(files)


def _update(store: Store, dim: int, loaded: VectorIndex, store_ids: np.ndarray) -> dict[str, Any]:
    """Add the store's new ids to the index and remove the ids it no longer has, in place."""
    index_ids = index_ids_of(loaded.index)
    live = index_ids[index_ids >= 0]
    removed = np.setdiff1d(live, store_ids, assume_unique=True)
    added = np.setdiff1d(store_ids, live, assume_unique=True)
    plan = loaded.plan
    if len(removed):
        plan = _remove(loaded.index, plan, removed)
    if len(added):
        for ids, matrix in _vectors_of(store, dim, added):
            loaded.index.add_with_ids(matrix, ids)
    changed = bool(len(added) or len(removed))
    loaded.plan = plan
    return {
        **plan.to_info(), "update": "updated" if changed else "unchanged",
        "added": int(len(added)), "removed": int(len(removed)),
    }


def _remove(index: faiss.Index, plan: VectorPlan, ids: np.ndarray) -> VectorPlan:
    """Delete ids: really for flat and ivfpq; as tombstones (id -1) for hnsw."""
    import faiss

    if plan.type is not IndexType.HNSW:
        index.remove_ids(faiss.IDSelectorBatch(ids))
        return plan
    id_map = faiss.vector_to_array(index.id_map)
    id_map[np.isin(id_map, ids)] = -1
    faiss.copy_array_to_vector(id_map, index.id_map)
    index.construct_rev_map()
    return plan.with_(tombstones=int((id_map < 0).sum()))


def _vectors_of(store: Store, dim: int, ids: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Stored vectors of these ids, in batches (ids sorted, so batches read in order)."""
    for start in range(0, len(ids), 4096):
        chunk = np.sort(ids[start : start + 4096])
        yield chunk, stored_vectors(store, chunk, dim)


def index_ids_of(index: faiss.Index) -> np.ndarray:
    """Every id held by the index (hnsw tombstones show as -1), as int64."""
    import faiss

    if hasattr(index, "id_map"):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    ivf = faiss.extract_index_ivf(index)
    invlists = ivf.invlists
    parts = [
        faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
        for i in range(ivf.nlist)
        if invlists.list_size(i)
    ]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def ids_are_stable(store: Store) -> bool:
    """Whether passage ids are never reused (``INTEGER PRIMARY KEY AUTOINCREMENT``)."""
    row = store.conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'passages'"
    ).fetchone()
    return bool(row and "AUTOINCREMENT" in row[0].upper())


def _store_ids(store: Store) -> np.ndarray:
    """Ids of the passages that have a vector, sorted."""
    rows = store.conn.execute(
        "SELECT p.id FROM passages p JOIN embeddings e ON e.text_sha = p.text_sha"
    )
    return np.unique(np.fromiter((row[0] for row in rows), dtype=np.int64))


def stored_vectors(store: Store, ids: np.ndarray, dim: int) -> np.ndarray:
    """The stored vectors of these passage ids from SQLite, as float32, in the order given.

    Ids without a vector get a zero row (they score 0 and rank last).
    """
    ids = np.asarray(ids, dtype=np.int64)
    found: dict[int, bytes] = {}
    unique = np.unique(ids).tolist()
    for start in range(0, len(unique), 900):
        chunk = unique[start : start + 900]
        marks = ",".join("?" * len(chunk))
        rows = store.conn.execute(
            "SELECT p.id, e.vector FROM passages p JOIN embeddings e ON e.text_sha = p.text_sha "
            f"WHERE p.id IN ({marks})",
            chunk,
        )
        found.update(rows)
    out = np.zeros((len(ids), dim), dtype=np.float32)
    rows = [row for row, pid in enumerate(ids.tolist()) if pid in found]
    if rows:
        out[rows] = decode_vectors([found[int(ids[row])] for row in rows], dim)
    return out


# ---- reading -------------------------------------------------------------------------------
def read_mapped(path: Path) -> faiss.Index:
    """Open a vector file memory-mapped and read-only: pages are read when a search touches them.

    ``IO_FLAG_MMAP_IFC`` maps the vectors of flat/hnsw storage and the ivf lists zero-copy
    (faiss 1.15; plain ``IO_FLAG_MMAP`` still copied flat vectors into memory).
    """
    import faiss

    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)


def load_index(
    store: Store,
    dim: int,
    passages: int,
    notice: Callable[[str], None],
    info: dict[str, Any] | None = None,
) -> VectorIndex:
    """Map the vector file matching the store, or rebuild it from SQLite (with a notice).

    Args:
        store: the open store.
        dim: vector dimension.
        passages: passages in the store (a file holding another number of live ids is stale).
        notice: told why the file is rebuilt when it is.
        info: the manifest's ``vectors`` fields (None: a flat index, as before plans existed).
    """
    import faiss

    faiss.cvar.distance_compute_blas_threshold = 20  # batched search through BLAS (PERF-NOTES)
    plan = _plan_from(info, passages, dim)
    path = store.layout.faiss(store.generation)
    reason = "missing"
    if path.is_file():
        try:
            index = read_mapped(path)
            if index.ntotal - plan.tombstones == passages and index.d == dim:
                return VectorIndex(index, plan)
            reason = "out of date"
        except RuntimeError:
            reason = "damaged"
    notice(f"vector index {path.name} is {reason}; rebuilding it from {store.layout.db}")
    plan = choose(plan.requested, passages, dim)
    index = build_index(store, dim, plan)
    try:
        write_index(index, store.index_dir, store.generation)
    except OSError:
        pass  # read-only index folder: use the rebuilt index from memory
    return VectorIndex(index, plan)


def _plan_from(info: dict[str, Any] | None, passages: int, dim: int) -> VectorPlan:
    if info:
        try:
            return VectorPlan.from_info(info)
        except (KeyError, TypeError, ValueError):
            pass
    return choose(IndexType.FLAT if not info else IndexType.AUTO, passages, dim)


# ---- searching -----------------------------------------------------------------------------
def search(
    index: faiss.Index,
    plan: VectorPlan,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None = None,
    vectors_for: VectorsFor | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest passages of each query row, optionally only among ``allowed`` ids.

    A filter keeps the exactness of the unfiltered search: a scope of at most
    :data:`EXACT_SCOPE` passages is scored exactly (``vectors_for``, else vectors read back
    from a flat/hnsw index); a larger one is searched through an id selector with nprobe /
    efSearch raised for its share of the collection, and scored exactly if that still found
    fewer than ``min(k, len(allowed))``. ivfpq candidates are re-scored with ``vectors_for``.

    Args:
        index: an index from :func:`load_index` or :func:`build_index`.
        plan: its plan.
        query: (n, dim) float32 normalised query vectors.
        k: hits wanted per query.
        allowed: passage ids in scope (None: all).
        vectors_for: exact vectors of passage ids (e.g. ``lambda ids: stored_vectors(store, ids, dim)``).

    Returns:
        (scores, ids), each (n, k); rows padded with -inf / -1 when fewer hits exist.
    """
    query = np.ascontiguousarray(np.atleast_2d(query), dtype=np.float32)
    with faiss_threads(1 if len(query) < FEW_QUERIES else 0):
        return nearest(index, plan, query, k, allowed, vectors_for, EXACT_SCOPE)
