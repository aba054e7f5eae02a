"""The FAISS file: derived from SQLite, rebuilt whenever it is missing, stale or damaged.

The file is named after the database generation it was built from (``passages.<gen>.faiss``),
so a reader always knows whether the file on disk matches the passages it sees: no match,
no trust, rebuild. Writes go to a temporary file and are renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.index.layout import IndexLayout

if TYPE_CHECKING:
    import faiss

    from qa.index.store import Store


def build_index(store: Store, dim: int) -> faiss.Index:
    """An exact inner-product index over the normalised passage vectors, ids = passage ids."""
    import faiss

    index = faiss.IndexIDMap(faiss.IndexFlatIP(dim))
    for ids, blobs in store.iter_vectors():
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), dim)
        index.add_with_ids(matrix, np.asarray(ids, dtype=np.int64))
    return index


def write_index(index: faiss.Index, index_dir: Path, generation: int) -> Path:
    """Atomically write the index for ``generation`` and delete files of older generations."""
    import faiss

    layout = IndexLayout(index_dir)
    target = layout.faiss(generation)
    fd, tmp = tempfile.mkstemp(prefix=".passages.", suffix=".tmp", dir=index_dir)
    os.close(fd)
    try:
        faiss.write_index(index, tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for number, old in layout.faiss_files().items():
        if number < generation:
            old.unlink(missing_ok=True)
    return target


def load_index(
    store: Store, dim: int, passages: int, notice: Callable[[str], None]
) -> faiss.Index:
    """Load the FAISS file matching the store, or rebuild it from SQLite (with a notice)."""
    import faiss

    faiss.cvar.distance_compute_blas_threshold = 20  # batched search through BLAS (PERF-NOTES)
    path = store.layout.faiss(store.generation)
    reason = "missing"
    if path.is_file():
        try:
            index = faiss.read_index(str(path))
            if index.ntotal == passages and index.d == dim:
                return index
            reason = "out of date"
        except RuntimeError:
            reason = "damaged"
    notice(f"vector index {path.name} is {reason}; rebuilding it from {store.layout.db}")
    index = build_index(store, dim)
    try:
        write_index(index, store.index_dir, store.generation)
    except OSError:
        pass  # read-only index folder: use the rebuilt index from memory
    return index
