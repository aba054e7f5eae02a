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
import time
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.backends.spec import BackendSpec
from qa.backends.base import CatalogueReads, Ranked, Scope
from qa.backends.milvus_expr import expression
from qa.errors import BadInputError, IndexError_, QAError
from qa.index.index_types import HNSW_EF_SEARCH, IVF_NPROBE, RERANK
from qa.index.vectors import stored_vectors

from qa.search.filters import glob_regex

if TYPE_CHECKING:
    from qa.index.store import Store
    from qa.search.filters import Filters

LAYOUT = "1"  # the collection's fields and properties; bump when they change
CONNECT_TIMEOUT = 10.0  # seconds to reach a server before giving up (the issue allows 30)
MAX_VARCHAR = 65535
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
    for attempt in range(3 if spec.lite else 1):  # Milvus Lite: a server of this process may be stopping
        try:
            client = pymilvus.MilvusClient(uri=spec.uri, token=token or "", timeout=CONNECT_TIMEOUT)
            client.list_collections(timeout=CONNECT_TIMEOUT)
            return client
        except Exception as exc:  # pymilvus raises MilvusException, grpc errors, OSError ...
            failure = exc
            time.sleep(0.5 * (attempt + 1))
    raise _connect_error(spec, where, failure) from None


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


def engine_error(spec: BackendSpec, action: str, exc: Exception) -> IndexError_:
    """One line for a Milvus call that failed after connecting."""
    detail = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
    return IndexError_(
        f"Milvus at {spec.uri} could not {action} in collection {spec.collection} ({detail})",
        "Check the server (and its logs); the index folder is unchanged",
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


class MilvusBackend(CatalogueReads):
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
        try:
            props = _properties(client, spec.collection)
            where = f"the Milvus collection {spec.collection} at {spec.uri}"
            if props is None:
                raise IndexError_(
                    f"{where} is missing", "Run `qa index PATH ...` (the folders indexed) to write it again"
                )
            why = mismatch(props, store.meta(), dim)
            if why:
                raise IndexError_(f"{where} {why}", "Rebuild it: `qa index --rebuild PATH ...`")
            if props.get("generation") != str(store.generation):
                notice(f"{where} is behind the index (an interrupted `qa index`?); run `qa index` to finish it")
            client.load_collection(spec.collection)
        except BaseException:
            client.close()
            raise
        return cls(store, spec, client, dim, props)

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

    def id_scope(self, ids: Sequence[int]) -> Scope:
        unique = sorted({int(i) for i in ids})
        return Scope(len(unique), f"id in [{', '.join(map(str, unique))}]" if unique else None)

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
        try:
            result = self.client.search(
                self.collection, data=data, anns_field=field, limit=limit, output_fields=["id"],
                filter="" if scope is None else scope.handle, search_params=params,
            )
        except Exception as exc:  # the server went away, or refused the search
            raise engine_error(self.spec, "search", exc) from None
        return [(int(hit["id"]), float(hit["distance"])) for hit in result[0]]

    def document_frequency(self, word: str) -> int:
        """0: Milvus's sparse inverted index needs no postings budget (every term is kept)."""
        return 0

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return stored_vectors(self.store, ids, self.dim)

    def close(self) -> None:
        self.client.close()


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
