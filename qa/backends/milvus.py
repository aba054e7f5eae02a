"""The Milvus engine: one collection per index, Milvus Lite (a local file) or a cluster.

Each passage is one entity: ``id`` (the catalogue's passage id), ``vector`` (FLAT, HNSW or
IVF_PQ by size, inner product on normalised vectors = cosine), ``lexical`` (the title and
text as stems, analysed by Milvus's ``standard`` tokenizer) with its ``sparse`` BM25 output
(built-in BM25 function, ``SPARSE_INVERTED_INDEX``), and the scalar fields a scope filters on
(:mod:`qa.backends.milvus_expr`). The catalogue (``qa.sqlite``) stays the source of truth and
keeps the rows to show; the collection is derived from it after each commit and records the
generation it holds, so a killed run leaves a collection that still answers (one generation
behind, which the next ``qa index`` finishes).

Stems, not raw text, go into ``lexical``: Milvus Lite's analyzer has no English stemmer (its
``stemmer`` filter is accepted and ignored), so qa tokenises as FTS5's ``unicode61
remove_diacritics`` does and stems with the Porter algorithm (``snowballstemmer``), the
question the same way: BM25 then sees FTS5's terms on every Milvus (on 20 BBC questions this
took the same-top-5 count from 12 to 17 against qa's light highlighting stemmer).
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.backends import BackendSpec
from qa.backends.base import Ranked, Scope
from qa.backends.milvus_expr import expression
from qa.errors import BadInputError, IndexError_, QAError
from qa.index.index_types import (
    FLAT_BELOW, HNSW_EF_SEARCH, HNSW_M, IVF_NPROBE, RERANK, IndexType, VectorPlan, choose,
)
from qa.index.vectors import stored_vectors

from qa.search.filters import glob_regex

if TYPE_CHECKING:
    from qa.index.store import ArticleRow, PassageRow, Store
    from qa.search.filters import Filters

LAYOUT = "1"  # the collection's fields and properties; bump when they change
HNSW_BELOW = 5_000_000  # auto: HNSW (vectors + graph in the query nodes' memory) up to here
CONNECT_TIMEOUT = 10.0  # seconds to reach a server before giving up (the issue allows 30)
INSERT_BATCH = 2000
_WINDOW = 16384  # Milvus's largest query limit
MAX_VARCHAR = 65535
_TYPES = {IndexType.FLAT: "FLAT", IndexType.HNSW: "HNSW", IndexType.IVFPQ: "IVF_PQ"}
_PROP = "qa."  # property prefix


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError:
        raise QAError(
            "the Milvus backend needs pymilvus, which is not installed",
            "Run: pip install -e '.[milvus]' (or use --backend local)",
        ) from None
    # its own advice (client-side timestamps, small k-means samples) is not the user's business
    logging.getLogger("pymilvus").setLevel(logging.ERROR)
    logging.getLogger("milvus_lite").setLevel(logging.CRITICAL + 1)  # its tracebacks: one line here
    return pymilvus


def connect(spec: BackendSpec, token: str | None) -> Any:
    """A MilvusClient for ``spec``, checked by listing collections (reachability, token).

    Raises:
        BadInputError: a Milvus Lite file in a folder that does not exist.
        IndexError_: the server cannot be reached, refuses the token, or the file is in use.
    """
    pymilvus = _pymilvus()
    _porter()
    where = spec.uri
    if spec.lite and not os.path.isdir(os.path.dirname(spec.uri)):
        raise BadInputError(
            f"the folder of the Milvus Lite file {spec.uri} does not exist", "Create it, or give another path"
        )
    try:
        client = pymilvus.MilvusClient(uri=spec.uri, token=token or "", timeout=CONNECT_TIMEOUT)
        client.list_collections(timeout=CONNECT_TIMEOUT)
    except Exception as exc:  # pymilvus raises MilvusException, grpc errors, OSError ...
        raise _connect_error(spec, where, exc) from None
    return client


def _connect_error(spec: BackendSpec, where: str, exc: Exception) -> IndexError_:
    detail = " ".join(str(getattr(exc, "message", None) or exc).split())[:160]
    lowered = detail.lower()
    if any(word in lowered for word in ("auth", "token", "credential", "permission", "password")):
        return IndexError_(
            f"Milvus at {where} refused the token ({detail})",
            "Pass the right one with --token or $QA_MILVUS_TOKEN (user:password or an API key)",
        )
    if spec.lite:
        return IndexError_(
            f"cannot open the Milvus Lite file {where} ({detail})",
            "Another process (qa index, qa serve) may hold it: wait for it, or use another file",
        )
    return IndexError_(
        f"cannot reach Milvus at {where} ({detail})",
        "Check the address and that Milvus is running, or use --backend local",
    )


def _properties(client: Any, name: str) -> dict[str, str] | None:
    """The qa properties of a collection (None when there is no such collection)."""
    if not client.has_collection(name):
        return None
    props = client.describe_collection(name).get("properties") or {}
    return {k[len(_PROP):]: str(v) for k, v in props.items() if k.startswith(_PROP)}


def mismatch(props: dict[str, str], meta: dict[str, str], dim: int | None) -> str | None:
    """Why a collection cannot serve this catalogue (None when it can)."""
    from qa.index.store import FORMAT_VERSION

    if props.get("layout") != LAYOUT or props.get("format") != str(FORMAT_VERSION):
        return (f"was written by another qa version (format {props.get('format', '?')}, layout "
                f"{props.get('layout', '?')}; this qa writes {FORMAT_VERSION}, {LAYOUT})")
    if meta.get("catalogue") and props.get("catalogue") != meta.get("catalogue"):
        return "belongs to another qa index folder"
    if meta.get("model") and props.get("model") != meta.get("model"):
        return f"was built with model {props.get('model')}, not {meta.get('model')}"
    if dim and props.get("dimension") != str(dim):
        return f"holds {props.get('dimension')}-dimensional vectors, not {dim}"
    return None


class MilvusBackend:
    """Search through a Milvus collection; rows to show come from the catalogue."""

    name = "milvus"

    def __init__(self, store: Store, spec: BackendSpec, client: Any, dim: int, plan: dict[str, str]) -> None:
        self.store, self.spec, self.client, self.dim = store, spec, client, dim
        self.collection = spec.collection
        self.index_type = plan.get("index_type", "FLAT")

    @classmethod
    def open(
        cls, store: Store, spec: BackendSpec, token: str | None, dim: int, notice: Callable[[str], None]
    ) -> MilvusBackend:
        """Connect and check the collection matches the catalogue.

        Raises:
            IndexError_: unreachable, bad token, no collection, or one built for something else.
        """
        client = connect(spec, token)
        meta = store.meta()
        props = _properties(client, spec.collection)
        where = f"the Milvus collection {spec.collection} at {spec.uri}"
        if props is None:
            raise IndexError_(f"{where} is missing", f"Rebuild it: `qa index --backend {spec.describe()}`")
        why = mismatch(props, meta, dim)
        if why:
            raise IndexError_(f"{where} {why}", "Rebuild it: `qa index --rebuild PATH ...`")
        if props.get("generation") != str(store.generation):
            notice(f"{where} is behind the index (an interrupted `qa index`?); run `qa index` to finish it")
        client.load_collection(spec.collection)
        return cls(store, spec, client, dim, props)

    @property
    def generation(self) -> int:
        return self.store.generation

    def begin(self) -> None:
        self.store.conn.execute("BEGIN")

    def end(self) -> None:
        self.store.conn.execute("COMMIT")

    def counts(self) -> tuple[int, int]:
        return self.store.counts()

    def scope(self, filters: Filters) -> Scope | None:
        if not filters.active:
            return None
        file_ids = None
        if filters.path:
            matches = " OR ".join("qa_path_matches(path, ?)" for _ in filters.path)
            rows = self.store.conn.execute(
                f"SELECT id FROM files WHERE {matches}",
                [f"^(?:{glob_regex(p)})$" for p in filters.path],
            )
            file_ids = [r[0] for r in rows]
            if not file_ids:
                return Scope(0, None)
        # the size (is anything in scope?) from the catalogue, which holds the same passages:
        # Milvus Lite takes seconds for a filtered count(*) at 100k (22 s measured), the
        # catalogue milliseconds; the ranking itself is filtered inside Milvus
        size = len(self.store.passage_ids(*filters.where()))
        return Scope(size, expression(filters, file_ids) if size else None)

    def dense(self, query_vector: np.ndarray, depth: int, scope: Scope | None) -> Ranked:
        rerank = self.index_type == "IVF_PQ"
        limit = max(depth, RERANK) if rerank else depth
        params: dict[str, Any] = {}
        if self.index_type == "HNSW":
            params = {"ef": max(limit, HNSW_EF_SEARCH)}
        elif rerank:
            params = {"nprobe": IVF_NPROBE}
        found = self._search(
            [np.asarray(query_vector, dtype=np.float32).tolist()], "vector", limit, scope,
            {"metric_type": "IP", "params": params},
        )
        if rerank and found:
            ids = np.asarray([i for i, _ in found], dtype=np.int64)
            exact = self.vectors(ids) @ np.asarray(query_vector, dtype=np.float32)
            order = np.argsort(-exact, kind="stable")[:depth]
            return [(int(ids[i]), float(exact[i])) for i in order]
        return found

    def lexical(self, terms: list[str], depth: int, scope: Scope | None) -> Ranked:
        query = lexical_text(" ".join(terms))
        if not query:
            return []
        found = self._search([query], "sparse", depth, scope, {"metric_type": "BM25"})
        return [(pid, abs(score)) for pid, score in found]  # Milvus Lite reports BM25 negated

    def _search(self, data: list[Any], field: str, limit: int, scope: Scope | None, params: dict) -> Ranked:
        if scope is not None and scope.handle is None:
            return []
        result = self.client.search(
            self.collection, data=data, anns_field=field, limit=limit, output_fields=["id"],
            filter="" if scope is None else scope.handle, search_params=params,
        )
        return [(int(hit["id"]), float(hit["distance"])) for hit in result[0]]

    def document_frequency(self, word: str) -> int:
        """0: Milvus's sparse inverted index needs no postings budget (every term is kept)."""
        return 0

    def mentions(self, word: str) -> bool:
        return self.store.mentions(word)

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        return self.store.passages(ids)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return stored_vectors(self.store, ids, self.dim)

    def sentence_vectors(self, ids: Sequence[int]) -> dict[int, bytes]:
        return self.store.sentence_vectors(ids)

    def copies(self, groups: Sequence[int]) -> dict[int, list[tuple[int, int, ArticleRow]]]:
        return self.store.copies(groups)

    def close(self) -> None:
        self.client.close()


def plan_for(requested: IndexType | str, n: int, dim: int) -> VectorPlan:
    """The collection's vector index: auto is FLAT, then HNSW, then IVF_PQ as it grows."""
    plan = choose(requested, n, dim)
    if IndexType(str(plan.requested)) is not IndexType.AUTO or n < FLAT_BELOW or n >= HNSW_BELOW:
        return plan
    return choose(IndexType.HNSW, n, dim).with_(
        requested=IndexType.AUTO,
        reason=f"auto: {n:,} passages, {FLAT_BELOW:,} to {HNSW_BELOW:,}: graph search",
    )


_TOKEN = re.compile(r"[^\W_]+")


def lexical_text(text: str) -> str:
    """What the BM25 field holds (and a query is): Porter stems of unicode61-style tokens."""
    stem = _porter()
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return " ".join(stem(w) for w in _TOKEN.findall(folded))


@lru_cache(maxsize=1)
def _porter() -> Callable[[str], str]:
    try:
        import snowballstemmer
    except ImportError:
        raise QAError(
            "the Milvus backend needs snowballstemmer, which is not installed",
            "Run: pip install -e '.[milvus]'",
        ) from None
    return lru_cache(maxsize=65536)(snowballstemmer.stemmer("porter").stemWord)


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
            **plan.to_info(), "engine": "milvus", "reason": f"Milvus {_TYPES[plan.type]}: {plan.reason}",
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
        args: dict[str, Any] = {}
        if kind == "HNSW":
            args = {"M": HNSW_M, "efConstruction": 200}
        elif kind == "IVF_PQ":
            ivf, pq = plan.factory.split(",")
            args = {"nlist": int(ivf[3:]), "m": int(pq[2:]), "nbits": 8}
        params = self.client.prepare_index_params()
        params.add_index("vector", index_type=kind, metric_type="IP", params=args)
        self.client.create_index(name, params)
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


class _Neighbours:
    """Batch dense search in the collection, shaped like VectorIndex.search (for dedup)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client, self.name = client, name

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


def new_catalogue_id() -> str:
    return uuid.uuid4().hex


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
