"""The write side of the Milvus engine: mirror the catalogue into the collection.

After each commit of `qa index`: create the collection (fields in :mod:`qa.backends.milvus`)
when there is none, diff its ids against the catalogue's, insert the new passages first and
delete the gone ones after (so a killed run leaves a collection that still answers), flush, then
record the generation. The vector index type follows the collection's size (:func:`plan_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.backends.spec import BackendSpec
from qa.backends.milvus import (
    _PROP, LAYOUT, MAX_VARCHAR, _properties, _pymilvus, connect, lexical_text, mismatch,
)
from qa.errors import IndexError_
from qa.index.index_types import FLAT_BELOW, HNSW_M, IndexType, VectorPlan, choose
from qa.index.vectors import stored_vectors

if TYPE_CHECKING:
    from qa.index.store import Store

HNSW_BELOW = 5_000_000  # auto: HNSW (vectors + graph in the query nodes' memory) up to here
INSERT_BATCH = 2000
_WINDOW = 16384  # Milvus's largest query limit
_TYPES = {IndexType.FLAT: "FLAT", IndexType.HNSW: "HNSW", IndexType.IVFPQ: "IVF_PQ"}


def plan_for(requested: IndexType | str, n: int, dim: int) -> VectorPlan:
    """The collection's vector index: auto is FLAT, then HNSW, then IVF_PQ as it grows."""
    plan = choose(requested, n, dim)
    if IndexType(str(plan.requested)) is not IndexType.AUTO or n < FLAT_BELOW or n >= HNSW_BELOW:
        return plan
    return choose(IndexType.HNSW, n, dim).with_(
        requested=IndexType.AUTO,
        reason=f"auto: {n:,} passages, {FLAT_BELOW:,} to {HNSW_BELOW:,}: graph search",
    )


def _clip(value: str | None, limit: int = 2048) -> str:
    value = (value or "").lower()
    data = value.encode("utf-8")
    return value if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


class MilvusWriter:
    """Mirror the catalogue into the collection: insert new passages, delete gone ones."""

    def __init__(self, spec: BackendSpec, client: Any, writers: int = 1) -> None:
        self.spec, self.client, self.writers = spec, client, max(1, writers)

    @classmethod
    def connect(cls, spec: BackendSpec, token: str | None, writers: int = 1) -> MilvusWriter:
        return cls(spec, connect(spec, token), writers)

    def check(self, meta: dict[str, str], rebuild: bool) -> None:
        """Before anything is written: refuse a collection built for another index, model or qa.

        Raises:
            IndexError_: the collection exists and does not match (without --rebuild).
        """
        props = _properties(self.client, self.spec.collection)
        if props is None or rebuild:
            return
        why = mismatch(props, {**meta, "catalogue": meta.get("catalogue") or "(new)"}, None)
        if why:
            raise IndexError_(
                f"the Milvus collection {self.spec.collection} at {self.spec.uri} {why}",
                "Pick another collection (milvus://HOST:PORT/NAME, milvus:FILE.db#NAME), "
                "or replace it with `qa index --rebuild`",
            )

    def current(self, store: Store) -> bool:
        props = _properties(self.client, self.spec.collection)
        return bool(props) and props.get("generation") == str(store.generation) and not mismatch(
            props, store.meta(), None
        )

    def sync(
        self, store: Store, dim: int, requested: IndexType | str | None,
        previous: dict[str, Any] | None, notice: Callable[[str], None],
    ) -> dict[str, Any]:
        name = self.spec.collection
        meta = store.meta()
        props = _properties(self.client, name)
        if props is not None and mismatch(props, meta, dim):
            notice(f"replacing the Milvus collection {name}: it {mismatch(props, meta, dim)}")
            self.client.drop_collection(name)
            props = None
        wanted_ids = _catalogue_ids(store)
        if requested is None:
            requested = str((previous or {}).get("requested") or IndexType.AUTO)
        plan = plan_for(requested, len(wanted_ids), dim)
        if props is None:
            self._create(name, dim, meta, plan)
            props = _properties(self.client, name) or {}
        elif props.get("index_type") != _TYPES[plan.type]:
            notice(f"Milvus vector index {props.get('index_type')} -> {_TYPES[plan.type]} ({plan.reason})")
            self._index(name, plan, rebuild=True)
        self.client.load_collection(name)
        present = self._ids(name, int(wanted_ids[-1]) if len(wanted_ids) else 0)
        added = np.setdiff1d(wanted_ids, present, assume_unique=True)
        removed = np.setdiff1d(present, wanted_ids, assume_unique=True)
        self._insert(store, dim, added)  # new rows first: a killed run still answers
        for start in range(0, len(removed), 16384):
            self.client.delete(name, ids=removed[start : start + 16384].tolist())
        self.client.flush(name)
        for stale in store.layout.faiss_files().values():  # a FAISS file from before the switch
            stale.unlink(missing_ok=True)
        self._set(name, {"generation": str(store.generation), "index_type": _TYPES[plan.type],
                         "requested": str(plan.requested)})
        changed = bool(len(added) or len(removed))
        return {
            **plan.to_info(), "engine": "milvus", "factory": f"Milvus {_index_args(plan)[0]}",
            "reason": plan.reason,
            "update": "updated" if changed else "unchanged", "added": int(len(added)),
            "removed": int(len(removed)),
        }

    def _create(self, name: str, dim: int, meta: dict[str, str], plan: Any) -> None:
        from qa.index.store import FORMAT_VERSION

        pymilvus = _pymilvus()
        DataType = pymilvus.DataType
        schema = self.client.create_schema(auto_id=False, description="qa passages")
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("lexical", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard", "filter": ["lowercase"]})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        for field in ("outlet", "author", "title"):
            schema.add_field(field, DataType.VARCHAR, max_length=2048)
        schema.add_field("date", DataType.VARCHAR, max_length=32)
        schema.add_field("file_id", DataType.INT64)
        schema.add_field("record", DataType.INT64)
        schema.add_function(pymilvus.Function(
            name="bm25", function_type=pymilvus.FunctionType.BM25,
            input_field_names=["lexical"], output_field_names=["sparse"],
        ))
        params = self.client.prepare_index_params()
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")
        self._index(name, plan, rebuild=False)
        self._set(name, {
            "layout": LAYOUT, "format": str(FORMAT_VERSION), "model": meta.get("model", ""),
            "dimension": str(dim), "catalogue": meta["catalogue"], "generation": "-1",
        })

    def _index(self, name: str, plan: Any, rebuild: bool) -> None:
        kind = _TYPES[plan.type]
        if rebuild:
            self.client.release_collection(name)
            self.client.drop_index(name, "vector")
        _, args = _index_args(plan)
        params = self.client.prepare_index_params()
        params.add_index("vector", index_type=kind, metric_type="IP", params=args)
        try:
            self.client.create_index(name, params)
        except Exception as exc:  # e.g. Milvus Lite has no IVF_PQ
            raise IndexError_(
                f"Milvus at {self.spec.uri} cannot build a {kind} index "
                f"({' '.join(str(getattr(exc, 'message', None) or exc).split())[:160]})",
                "Run `qa index` again with --index-type hnsw or flat",
            ) from None
        self._set(name, {"index_type": kind})

    def _set(self, name: str, values: dict[str, str]) -> None:
        self.client.alter_collection_properties(name, properties={_PROP + k: v for k, v in values.items()})

    def _ids(self, name: str, upto: int) -> np.ndarray:
        """Every id in the collection, read in id windows of at most one query's limit each
        (ids are unique, so a window cannot hold more; no query iterator: Milvus Lite lacks
        the timestamp call it makes)."""
        found: list[int] = []
        windows = [f"id >= {a} and id < {a + _WINDOW}" for a in range(0, upto + 1, _WINDOW)]
        windows.append(f"id >= {(upto // _WINDOW + 1) * _WINDOW}")
        for expr in windows:
            while True:
                rows = self.client.query(name, filter=expr, output_fields=["id"], limit=_WINDOW)
                found.extend(int(row["id"]) for row in rows)
                if len(rows) < _WINDOW or not expr.startswith("id >= ") or " and " in expr:
                    break
                expr = f"id > {max(int(r['id']) for r in rows)}"  # the open-ended tail, paged
        return np.unique(np.asarray(found, dtype=np.int64))

    def _insert(self, store: Store, dim: int, ids: np.ndarray) -> None:
        chunks = [ids[i : i + INSERT_BATCH] for i in range(0, len(ids), INSERT_BATCH)]
        if self.writers == 1 or len(chunks) < 2:
            for chunk in chunks:
                self.client.insert(self.spec.collection, _rows(store, dim, chunk))
            return
        # parallel batches from the driver (rows read here, sent on several connections' worth
        # of threads: the client is thread-safe); Ray workers do not write themselves
        with ThreadPoolExecutor(max_workers=self.writers) as pool:
            pending = []
            for chunk in chunks:
                rows = _rows(store, dim, chunk)
                pending.append(pool.submit(self.client.insert, self.spec.collection, rows))
                if len(pending) >= 2 * self.writers:
                    pending.pop(0).result()
            for future in pending:
                future.result()

    def neighbours(self, store: Store, dim: int, notice: Callable[[str], None]) -> _Neighbours:
        return _Neighbours(self.client, self.spec.collection)

    def close(self) -> None:
        self.client.close()


def _index_args(plan: VectorPlan) -> tuple[str, dict[str, Any]]:
    """The Milvus vector index of a plan: (description, build parameters)."""
    kind = _TYPES[plan.type]
    if kind == "HNSW":
        return f"HNSW M={HNSW_M}", {"M": HNSW_M, "efConstruction": 200}
    if kind == "IVF_PQ":
        ivf, pq = plan.factory.split(",")
        return f"IVF_PQ nlist={ivf[3:]} m={pq[2:]}", {"nlist": int(ivf[3:]), "m": int(pq[2:]), "nbits": 8}
    return kind, {}


class _Neighbours:
    """Batch dense search in the collection, shaped like VectorIndex.search (for dedup)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client, self.name = client, name
        self.index = self  # duplicates.py asks ``vectors.index.ntotal``, as of a FAISS index

    @property
    def ntotal(self) -> int:
        rows = self.client.query(self.name, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def search(self, queries: np.ndarray, k: int, allowed: Any = None, vectors_for: Any = None) -> tuple[np.ndarray, np.ndarray]:
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for start in range(0, len(queries), 256):
            part = np.asarray(queries[start : start + 256], dtype=np.float32)
            result = self.client.search(self.name, data=part.tolist(), anns_field="vector", limit=k,
                                        output_fields=["id"], search_params={"metric_type": "IP"})
            for row, hits in enumerate(result, start=start):
                for col, hit in enumerate(hits[:k]):
                    ids[row, col], scores[row, col] = int(hit["id"]), float(hit["distance"])
        return scores, ids


def _catalogue_ids(store: Store) -> np.ndarray:
    rows = store.conn.execute("SELECT p.id FROM passages p JOIN embeddings e ON e.text_sha = p.text_sha")
    return np.unique(np.fromiter((row[0] for row in rows), dtype=np.int64))


def _rows(store: Store, dim: int, ids: np.ndarray) -> list[dict[str, Any]]:
    """Entities for these passage ids: vector, stems for BM25, scalar fields for scopes."""
    chunk = ids.tolist()
    marks = ",".join("?" * len(chunk))
    meta = {
        row[0]: row[1:]
        for row in store.conn.execute(
            "SELECT p.id, p.text, a.title, a.outlet, a.author, a.date, a.file_id, a.record "
            f"FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id IN ({marks})", chunk,
        )
    }
    vectors = stored_vectors(store, ids, dim)
    out = []
    for pid, vector in zip(chunk, vectors):
        text, title, outlet, author, date, file_id, record = meta[pid]
        lexical = lexical_text(f"{title or ''} {text}")
        data = lexical.encode("utf-8")
        if len(data) > MAX_VARCHAR:
            lexical = data[:MAX_VARCHAR].decode("utf-8", "ignore")
        out.append({
            "id": pid, "vector": vector.tolist(), "lexical": lexical, "outlet": _clip(outlet),
            "author": _clip(author), "title": _clip(title), "date": (date or "")[:32],
            "file_id": int(file_id), "record": -1 if record is None else int(record),
        })
    return out
