"""A deterministic, dependency-free embedder for tests: words and character trigrams hashed
into a fixed-size vector (the "hashing trick"), L2-normalised.

It shares nothing with a neural model but its interfaces: the indexing side
(``encode(texts, spans, on_progress)`` -> :class:`~qa.embed.passage_encoder.Encoded`, plus
``export_onnx``) and the query side (``encode(texts)``). Texts that share words get similar
vectors, so logic tests can check that search finds the passage that shares the question's
words, in milliseconds and without torch. Select it with ``--model hashing``; ranking and parity
tests use the real model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qa.embed.model import HASHING as NAME
from qa.embed.onnx_export import ENCODER_FILE
from qa.embed.passage_encoder import Encoded

DIM = 256
_WORD = re.compile(r"\w+", re.UNICODE)


def _bucket(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIM, 1.0 if (value >> 63) & 1 else -1.0


def embed_text(text: str) -> np.ndarray:
    """The hashed, normalised vector of one text (zeros stay zeros)."""
    vector = np.zeros(DIM, dtype=np.float32)
    for word in _WORD.findall(text.lower()):
        index, sign = _bucket("w:" + word)
        vector[index] += sign
        padded = f"#{word}#"
        for i in range(len(padded) - 2):
            index, sign = _bucket("t:" + padded[i : i + 3])
            vector[index] += 0.3 * sign
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


class HashingEncoder:
    """Both encoder roles of the hashing embedder."""

    name = NAME
    dim = DIM

    def encode(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> object:
        """With ``spans`` (indexing): an ``Encoded``; without (queries): an (n, dim) array."""
        vectors = np.stack([embed_text(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)
        if spans is None:
            return vectors
        sentences = [
            np.stack([embed_text(t[s:e]) for s, e in sp]) if sp else np.zeros((0, DIM), np.float32)
            for t, sp in zip(texts, spans)
        ]
        if on_progress is not None:
            on_progress(len(texts))
        return Encoded(vectors, sentences)

    def export_onnx(self, dest: Path) -> None:
        """No model to export: record that queries use the hashing embedder too."""
        dest.mkdir(parents=True, exist_ok=True)
        (dest / ENCODER_FILE).write_text(json.dumps({"model": NAME, "kind": NAME, "dim": DIM}))
