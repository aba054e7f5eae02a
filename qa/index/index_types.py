"""Which FAISS index a collection gets: the type, its factory string and search parameters.

Pure logic, no FAISS import: ``qa index --index-type`` and ``qa sources`` use it without
loading the vector library. Figures behind the thresholds are in docs/scale.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from qa.errors import BadInputError

# Below this many passages ``auto`` keeps the exact flat index: a flat query costs ~0.2 us per
# passage here (~10 ms at 50k), cheaper than training and less than the approximate index's
# recall loss is worth. Measured crossover in docs/scale.md.
FLAT_BELOW = 50_000
# ivfpq needs enough vectors to train 256 PQ centroids and its coarse lists; fewer -> flat.
IVFPQ_MIN_TRAIN = 2_000
PQ_BYTES = 48  # 48 sub-quantisers x 8 bits: 8 dimensions each for MiniLM's 384
HNSW_M = 32
HNSW_EF_SEARCH = 128
IVF_NPROBE = 32
RERANK = 256  # ivfpq candidates re-scored with the exact float32 vectors from SQLite
RETRAIN_GROWTH = 2.0  # ivfpq retrains when the collection doubled (or halved) since training
COMPACT_TOMBSTONES = 0.1  # hnsw rebuilds when a tenth of its entries are deleted ones


class IndexType(StrEnum):
    """``qa index --index-type``: the kind of vector index."""

    AUTO = "auto"
    FLAT = "flat"
    HNSW = "hnsw"
    IVFPQ = "ivfpq"


@dataclass(frozen=True)
class VectorPlan:
    """A concrete vector index: what to build and how to search it.

    Attributes:
        type: flat, hnsw or ivfpq (never auto).
        factory: the ``faiss.index_factory`` string.
        requested: what the user asked for (auto or a type).
        reason: one sentence saying why this type, for the manifest and ``qa sources``.
        nprobe: ivfpq lists probed per query.
        ef_search: hnsw candidate-list size per query.
        rerank: ivfpq candidates re-scored exactly (0: none).
        trained_at_n: passages when the index was built or trained.
        tombstones: deleted entries still in the file (hnsw only; filtered out at search).
    """

    type: IndexType
    factory: str
    requested: IndexType = IndexType.AUTO
    reason: str = ""
    nprobe: int | None = None
    ef_search: int | None = None
    rerank: int = 0
    trained_at_n: int = 0
    tombstones: int = 0

    def to_info(self) -> dict[str, Any]:
        """The plan as manifest fields (JSON-ready)."""
        info = asdict(self)
        info["type"], info["requested"] = str(self.type), str(self.requested)
        return info

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> VectorPlan:
        """Read a plan back from manifest fields; raises ValueError/KeyError/TypeError if bad."""
        fields = {k: info[k] for k in cls.__dataclass_fields__ if k in info}
        fields["type"] = IndexType(fields["type"])
        fields["requested"] = IndexType(fields.get("requested", "auto"))
        if fields["type"] is IndexType.AUTO or not isinstance(fields["factory"], str):
            raise ValueError("a stored plan names a concrete type and a factory string")
        return cls(**fields)

    def with_(self, **changes: Any) -> VectorPlan:
        return replace(self, **changes)

    def summary(self) -> str:
        """One line for ``qa sources``, e.g. ``ivfpq (IVF4096,PQ48, nprobe 32): reason``."""
        params = [self.factory]
        if self.nprobe:
            params.append(f"nprobe {self.nprobe}")
        if self.ef_search:
            params.append(f"efSearch {self.ef_search}")
        if self.rerank:
            params.append(f"exact re-rank of {self.rerank}")
        return f"{self.type} ({', '.join(params)}): {self.reason}"


def parse_index_type(value: object) -> IndexType:
    """The user's ``--index-type`` as an IndexType, or a one-line BadInputError."""
    try:
        return IndexType(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(t.value for t in IndexType)
        raise BadInputError(f"unknown index type {value!r}", f"Use one of: {choices}") from None


def nlist_for(n_passages: int) -> int:
    """IVF coarse lists: the power of two nearest 4*sqrt(N), between 16 and 65536.

    Small collections get fewer: at least 39 training vectors per list (k-means' own minimum).
    """
    n = max(n_passages, 1)
    nlist = 2 ** round(math.log2(4 * math.sqrt(n)))
    nlist = min(nlist, 2 ** int(math.log2(max(n / 39, 1))))
    return int(min(65536, max(16, nlist)))


def choose(index_type: IndexType | str, n_passages: int, dim: int) -> VectorPlan:
    """The index for ``n_passages`` vectors of ``dim`` dimensions.

    Args:
        index_type: auto, or the type the user asked for.
        n_passages: how many passages the index will hold now.
        dim: vector dimension.

    Returns:
        A concrete plan; ``auto`` is flat below :data:`FLAT_BELOW` passages, ivfpq above.
    """
    requested = parse_index_type(index_type)
    if requested is IndexType.AUTO:
        if n_passages < FLAT_BELOW:
            return _flat(requested, n_passages, f"auto: {n_passages:,} passages < {FLAT_BELOW:,}, exact search is fast enough")
        return _ivfpq(requested, n_passages, dim, f"auto: {n_passages:,} passages >= {FLAT_BELOW:,}, compressed index with exact re-rank")
    if requested is IndexType.FLAT:
        return _flat(requested, n_passages, "asked for flat: exact search")
    if requested is IndexType.HNSW:
        return VectorPlan(
            IndexType.HNSW, f"IDMap2,HNSW{HNSW_M},Flat", requested,
            "asked for hnsw: graph search over full vectors", ef_search=HNSW_EF_SEARCH,
            trained_at_n=n_passages,
        )
    if n_passages < IVFPQ_MIN_TRAIN or dim % _pq_bytes(dim) != 0:
        return _flat(requested, n_passages, f"asked for ivfpq, but {n_passages:,} passages are too few to train it (< {IVFPQ_MIN_TRAIN:,}): exact flat")
    return _ivfpq(requested, n_passages, dim, "asked for ivfpq: compressed index with exact re-rank")


def _flat(requested: IndexType, n: int, reason: str) -> VectorPlan:
    return VectorPlan(IndexType.FLAT, "IDMap2,Flat", requested, reason, trained_at_n=n)


def _pq_bytes(dim: int) -> int:
    """PQ sub-quantisers: 48 for 384 dims; otherwise the largest divisor of dim up to dim/8."""
    if dim % PQ_BYTES == 0 and dim // PQ_BYTES >= 4:
        return PQ_BYTES
    for m in range(max(1, dim // 8), 0, -1):
        if dim % m == 0:
            return m
    return 1


def _ivfpq(requested: IndexType, n: int, dim: int, reason: str) -> VectorPlan:
    nlist = nlist_for(n)
    return VectorPlan(
        IndexType.IVFPQ, f"IVF{nlist},PQ{_pq_bytes(dim)}", requested, reason,
        nprobe=min(nlist, IVF_NPROBE), rerank=RERANK, trained_at_n=n,
    )


def needs_rebuild(previous: VectorPlan, wanted: VectorPlan, n_passages: int, ntotal: int) -> str | None:
    """Why an existing index cannot be updated in place (None: it can).

    Args:
        previous: the plan the index on disk was built with.
        wanted: :func:`choose` for the collection as it is now.
        n_passages: passages now.
        ntotal: entries in the index file (live + tombstones).
    """
    if previous.type != wanted.type:
        return f"index type changes from {previous.type} to {wanted.type}"
    if previous.type is IndexType.IVFPQ:
        trained = max(previous.trained_at_n, 1)
        if n_passages >= RETRAIN_GROWTH * trained or n_passages * RETRAIN_GROWTH <= trained:
            return f"{n_passages:,} passages vs {trained:,} when trained: retraining"
    if previous.type is IndexType.HNSW and previous.tombstones > COMPACT_TOMBSTONES * max(ntotal, 1):
        return f"{previous.tombstones:,} deleted entries of {ntotal:,}: compacting"
    return None
