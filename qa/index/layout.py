"""The index folder: the one place that names its files, and how `qa` finds it.

    index/
      qa.sqlite                 source of truth (articles, passages, embeddings, FTS5)
      passages.<gen>.faiss      vector index derived from qa.sqlite, named by its generation
      manifest.json             what the folder holds (format, model, counts, vector index)
      encoder/                  the model exported to ONNX for torch-free queries
      .lock                     held by a running `qa index`

Every other module asks an :class:`IndexLayout` for these paths; it also moves a damaged
database aside (``qa index --rebuild``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DIR = "index"
ENV_VAR = "QA_INDEX_DIR"
_DB = "qa.sqlite"


@dataclass(frozen=True)
class IndexLayout:
    """The paths of one index folder."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / _DB

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def encoder_dir(self) -> Path:
        return self.root / "encoder"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    def faiss(self, generation: int) -> Path:
        return self.root / f"passages.{generation}.faiss"

    def faiss_files(self) -> dict[int, Path]:
        """Every vector-index file in the folder, by generation."""
        found: dict[int, Path] = {}
        for path in self.root.glob("passages.*.faiss"):
            number = path.name.split(".")[1]
            if number.isdigit():
                found[int(number)] = path
        return found

    def damaged_db(self, suffix: str = "") -> Path:
        """Where an unusable database (and its ``-wal``/``-shm`` side files) is moved aside."""
        return self.root / f"{_DB}.damaged{suffix}"

    def db_side_file(self, suffix: str) -> Path:
        return self.root / f"{_DB}{suffix}"

    def move_db_aside(self) -> Path:
        """Rename an unusable database (and its WAL) out of the way; drop its derived files.

        Returns where the database went.
        """
        aside = self.damaged_db()
        os.replace(self.db, aside)
        for suffix in ("-wal", "-shm"):
            side = self.db_side_file(suffix)
            if side.exists():
                os.replace(side, self.damaged_db(suffix))
        for derived in [*self.faiss_files().values(), self.manifest]:
            derived.unlink(missing_ok=True)
        return aside

    def holds_index(self) -> bool:
        return self.db.is_file()


def find_index_dir(explicit: Path | None, cwd: Path | None = None) -> Path:
    """Which index folder a command uses.

    ``--index-dir`` when given, else ``$QA_INDEX_DIR``, else the nearest ``index/`` holding a
    qa index in the current folder or one of its parents (as git finds ``.git``), else
    ``./index``.
    """
    if explicit is not None:
        return explicit
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DEFAULT_DIR
        if IndexLayout(candidate).holds_index():
            return candidate if folder != here else Path(DEFAULT_DIR)
    return Path(DEFAULT_DIR)


def read_manifest(layout: IndexLayout) -> dict[str, Any]:
    """manifest.json of an index folder ({} when missing or unreadable)."""
    try:
        data = json.loads(layout.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
