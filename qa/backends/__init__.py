"""Search backends: which engine an index folder searches with, named by one string.

    local                        SQLite FTS5 + a FAISS file in the index folder (the default)
    milvus:./archive.db          Milvus Lite, a local file (pip install -e '.[milvus]')
    milvus://HOST:19530[/NAME]   a Milvus standalone or distributed cluster, collection NAME

``qa index --backend SPEC`` records the choice in the catalogue (meta ``backend``) and the
manifest, so every other command finds it without flags. A token is never recorded: pass
``--token`` to ``qa index`` and set ``$QA_MILVUS_TOKEN`` for the commands that search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qa.backends.spec import (
    DEFAULT_COLLECTION, LOCAL, TOKEN_ENV, BackendSpec, parse_backend, recorded, token,
)

if TYPE_CHECKING:
    from qa.backends.base import BackendWriter, SearchBackend
    from qa.index.store import Store

__all__ = ["DEFAULT_COLLECTION", "LOCAL", "TOKEN_ENV", "BackendSpec", "open_search_backend",
           "open_writer", "parse_backend", "recorded", "token"]


def open_search_backend(
    store: Store, dim: int, notice: Callable[[str], None]
) -> SearchBackend:
    """The read side for an open catalogue, from the backend it records."""
    spec = recorded(store.meta())
    if spec.kind == LOCAL:
        from qa.backends.local import LocalBackend

        return LocalBackend(store, dim, notice)
    from qa.backends.milvus import MilvusBackend

    return MilvusBackend.open(store, spec, token(), dim, notice)


def open_writer(spec: BackendSpec, given_token: str | None = None) -> BackendWriter:
    """The write side of a backend; for Milvus this connects (and fails) before anything is written."""
    if spec.kind == LOCAL:
        from qa.backends.local import LocalWriter

        return LocalWriter()
    from qa.backends.milvus_writer import MilvusWriter

    return MilvusWriter.connect(spec, token(given_token))
