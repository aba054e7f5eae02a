"""The query encoder: a lean ONNX path that never imports torch or sentence-transformers.

``PassageEncoder.export_onnx`` (:mod:`qa.embed.onnx_export`) writes a folder with ``model.onnx``
(the whole sentence-transformers pipeline: transformer, pooling, Dense, Normalize), the model's
``tokenizer.json`` and ``encoder.json``. ``load_query_encoder`` uses it when it is there and
falls back to sentence-transformers (slow start) when it is not.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qa.embed.model import HASHING, ModelRef
from qa.embed.onnx_export import ENCODER_FILE

BATCH = 32


@runtime_checkable
class QueryEncoder(Protocol):
    """Turns questions into L2-normalised float32 vectors comparable to the index's."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""
        ...


class OnnxQueryEncoder:
    """Query encoder on onnxruntime + tokenizers, reproducing sentence-transformers' vectors.

    Args:
        folder: a folder written by ``PassageEncoder.export_onnx``.

    Raises:
        OSError / ValueError: the folder is missing or incomplete.
    """

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        meta = json.loads((folder / ENCODER_FILE).read_text(encoding="utf-8"))
        self.meta = meta
        self.name: str = meta["model"]
        self.dim: int = int(meta["dim"])
        self.max_seq_length = int(meta["max_seq_length"])
        self._inputs: list[str] = list(meta["inputs"])
        self._lowercase = bool(meta.get("do_lower_case")) and not meta.get("lowercase_in_tokenizer", False)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.enable_truncation(
            max_length=self.max_seq_length,
            strategy="longest_first",
            direction=meta.get("truncation_side", "right"),
        )
        tokenizer.enable_padding(
            pad_id=int(meta.get("pad_token_id", 0)),
            pad_token=meta.get("pad_token", "[PAD]"),
            direction=meta.get("padding_side", "right"),
        )
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 2
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(folder / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._output = self._session.get_outputs()[0].name

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts as sentence-transformers would (normalised float32, (n, dim)).

        Texts go through the model in batches of BATCH, so memory stays bounded however many
        are passed (padding 600 texts to 256 word pieces at once took gigabytes).
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._lowercase:
            texts = [text.lower() for text in texts]
        return np.concatenate(
            [self._encode_batch(list(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)]
        )

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        feed = {name: np.asarray(columns[name], dtype=np.int64) for name in self._inputs}
        (vectors,) = self._session.run([self._output], feed)
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerQueryEncoder:
    """Fallback query encoder on sentence-transformers (imports torch: a slow start)."""

    def __init__(self, model: ModelRef) -> None:
        from qa.embed.passage_encoder import load_sentence_transformer

        self._st: Any = load_sentence_transformer(model)
        self.name = model.name
        self.dim = int(self._st.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts as normalised float32 vectors, (n, dim)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._st.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


def load_query_encoder(folder: Path, model: ModelRef, threads: int | None = None) -> QueryEncoder:
    """The ONNX encoder in ``folder`` when it exists for ``model``, else sentence-transformers.

    ``threads``: onnxruntime's intra-op threads (default: every core; a server answering many
    questions at once does better with 1 per request).

    Raises:
        ModelUnavailableError: falling back, and the model cannot be loaded offline.
    """
    if model.name == HASHING:
        from qa.embed.hashing import HashingEncoder

        return HashingEncoder()  # type: ignore[return-value]
    folder = Path(folder)
    meta_file = folder / ENCODER_FILE
    reason = "not found"
    if meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            if meta.get("model") == model.name:
                return OnnxQueryEncoder(folder, threads)
            reason = f"is for model {meta.get('model')!r}"
        except Exception as exc:  # noqa: BLE001 - any damage means: use the slow path
            reason = f"unusable ({type(exc).__name__})"
    print(
        f"notice: fast query encoder {reason} in {folder}; using sentence-transformers (slower start)",
        file=sys.stderr,
    )
    return SentenceTransformerQueryEncoder(model)
