"""Settings shared by every command: where the index lives and which model embeds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_INDEX_DIR = Path("index")


@dataclass(frozen=True)
class Settings:
    """Resolved options for one command run."""

    index_dir: Path
    model: str | None  # None: use whatever model the index was built with (or the default)

    @classmethod
    def from_options(cls, index_dir: Path | None, model: str | None) -> Settings:
        """Options win over QA_INDEX_DIR / QA_MODEL, which win over the defaults."""
        env_dir = os.environ.get("QA_INDEX_DIR")
        chosen_dir = index_dir or (Path(env_dir) if env_dir else DEFAULT_INDEX_DIR)
        chosen_model = model or os.environ.get("QA_MODEL") or None
        return cls(index_dir=chosen_dir, model=chosen_model)
