"""What `qa index` keeps beside qa.sqlite, and the search backend it writes to.

The backend's writer is opened (and a Milvus collection checked) before anything is written;
after the commit, :func:`write_derived` brings the backend's index (the FAISS file, or the
Milvus collection) and manifest.json up to date, and :func:`refresh_encoder` exports the model
for torch-free queries when the index folder lacks a current copy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.backends import BackendSpec, open_writer
from qa.backends import token as backend_token
from qa.embed.factory import passage_encoder
from qa.embed.model import ModelRef
from qa.embed.onnx_export import ENCODER_FILE
from qa.errors import IndexError_
from qa.index.index_types import IndexType
from qa.index.layout import IndexLayout, read_manifest
from qa.index.store import Store, dumps_manifest

if TYPE_CHECKING:
    from qa.backends.base import BackendWriter
    from qa.embed.passage_encoder import PassageEncoder


def peek_meta(index_dir: Path) -> dict[str, str]:
    """The catalogue's meta, read without writing anything ({} for a new or unusable index)."""
    if not IndexLayout(index_dir).db.is_file():
        return {}
    try:
        store = Store.open(index_dir)
    except (IndexError_, OSError):
        return {}
    try:
        return store.meta()
    finally:
        store.close()


def open_backend_writer(
    spec: BackendSpec, token: str | None, writers: int, meta: dict[str, str], rebuild: bool
) -> BackendWriter:
    """The writer of the search backend ``spec``; a Milvus collection is reached and checked
    against the catalogue's ``meta`` here, before anything is written."""
    if spec.kind == "local":
        return open_writer(spec)
    from qa.backends.milvus_writer import MilvusWriter

    writer = MilvusWriter.connect(spec, backend_token(token), writers)
    try:
        writer.check(meta, rebuild)
    except BaseException:
        writer.close()
        raise
    return writer


def backend_meta(meta: dict[str, str], spec: BackendSpec) -> dict[str, str]:
    """The meta keys naming the search backend (and the catalogue, for a Milvus collection)."""
    values = {"backend": spec.describe()}
    if spec.kind != "local" or meta.get("catalogue"):  # kept through --rebuild's clear()
        import uuid

        values["catalogue"] = meta.get("catalogue") or uuid.uuid4().hex
    return values


def write_derived(
    store: Store, index_type: IndexType | None, notice: Callable[[str], None],
    writer: BackendWriter, update: bool = True,
) -> None:
    """The search backend's index (the FAISS file updated in place where it can be, built anew
    on --rebuild; or the Milvus collection) and manifest.json."""
    manifest: dict[str, Any] = store.manifest()
    manifest["backend"] = store.meta().get("backend", "local")
    if manifest["dimension"]:
        previous = read_manifest(store.layout).get("vectors") if update else None
        manifest["vectors"] = writer.sync(
            store, int(manifest["dimension"]), index_type, previous, notice
        )
    target = store.layout.manifest
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(dumps_manifest(manifest), encoding="utf-8")
    os.replace(tmp, target)


def derived_current(store: Store, writer: BackendWriter) -> bool:
    """Whether manifest.json and the backend's index match what the database holds."""
    manifest = read_manifest(store.layout)
    current = store.manifest()
    return all(manifest.get(key) == value for key, value in current.items()) and (
        not current["dimension"] or writer.current(store)
    )


def refresh_encoder(
    index_dir: Path, ref: ModelRef, encoder: PassageEncoder | None, warn: Callable[[str], None]
) -> bool:
    """Export the model to ONNX for fast queries when the index folder lacks a current copy.

    Returns whether the model had to be loaded just for this.
    """
    folder = IndexLayout(index_dir).encoder_dir
    try:
        info = json.loads((folder / ENCODER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    if info.get("model") == ref.name and (
        encoder is None or info.get("source_checksum") == ref.weights_checksum()
    ):
        return False
    loaded = encoder is None
    try:
        if encoder is None:
            encoder = passage_encoder(ref)
        encoder.export_onnx(folder)
    except Exception as exc:  # any model the exporter cannot handle: queries still work, slower
        warn(f"could not export a fast query encoder ({exc}); `qa ask` will be slower")
    return loaded
