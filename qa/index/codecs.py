"""How vectors are stored in the index database, and read back as float32.

* passage vectors: float16 (2 bytes a component; cosine to the float32 original > 0.99999);
* sentence vectors: int8 with one float32 scale per sentence (the largest component maps to
  127), stored as records of ``scale, codes``; cosine to the original > 0.9999.

At 1M passages this halves the vector bytes of the database (docs/scale.md). Readers call
:func:`decode_vectors` and :func:`decode_sentences`; a blob's length tells its encoding, so
float32 passage vectors (older callers, test stores) still read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_PEAK = 127  # the int8 code of a sentence vector's largest component
_CHUNK = 1024  # sentences encoded at a time


def encode_vector(vector: np.ndarray | bytes) -> bytes:
    """A passage vector (float32 array or float32 bytes) in its stored form."""
    if isinstance(vector, (bytes, bytearray, memoryview)):
        vector = np.frombuffer(vector, dtype=np.float32)
    return np.asarray(vector, dtype=np.float32).astype("<f2").tobytes()


def stored_dimension(length: int) -> int:
    """The dimension of a passage vector whose stored blob has ``length`` bytes."""
    return length // 2


def decode_vectors(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    """(len(blobs), dim) float32 from stored passage vectors (float16, or float32)."""
    joined = b"".join(blobs)
    if len(joined) == 2 * dim * len(blobs):  # all float16 (or none at all)
        return np.frombuffer(joined, dtype="<f2").reshape(len(blobs), dim).astype(np.float32)
    if len(joined) == 4 * dim * len(blobs):
        return np.frombuffer(joined, dtype=np.float32).reshape(len(blobs), dim).copy()
    return np.stack([decode_vectors([blob], dim)[0] for blob in blobs])  # mixed


def encode_rows(rows: Sequence[tuple[bytes, Any, bytes, Any]]) -> list[tuple[bytes, bytes, bytes, bytes]]:
    """Embedding rows (key, vector, spans, sentence vectors) with both vectors in stored form.

    One conversion for the whole batch (a row at a time cost ~0.15 ms: 2.5 min at 1M).
    Vectors are float32 arrays or bytes; sentence vectors float arrays or float16 bytes.
    """
    if not rows:
        return []
    vectors = [_floats(vector, np.float32) for _, vector, _, _ in rows]
    dim = len(vectors[0])
    if any(len(v) != dim for v in vectors):
        raise ValueError("embedding rows of different dimensions in one batch")
    sentences = [_floats(s, "<f2").reshape(-1, dim) for _, _, _, s in rows]
    stored = np.stack(vectors).astype("<f2")
    blob = encode_sentences(np.concatenate(sentences), dim)
    ends = np.cumsum([len(s) for s in sentences]) * (dim + 4)
    starts = np.concatenate([[0], ends[:-1]])
    return [
        (key, stored[i].tobytes(), spans, blob[int(starts[i]) : int(ends[i])])
        for i, (key, _, spans, _) in enumerate(rows)
    ]


def _floats(value: Any, raw: Any) -> np.ndarray:
    """A float32 array from an array, or from bytes of dtype ``raw``."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return np.frombuffer(value, dtype=raw).astype(np.float32).ravel()
    return np.asarray(value, dtype=np.float32).ravel()


def _records(dim: int) -> np.dtype:
    return np.dtype([("scale", "<f4"), ("codes", "i1", (dim,))])


def encode_sentences(vectors: np.ndarray | bytes, dim: int) -> bytes:
    """Sentence vectors ((n, dim) floats, or float16 bytes) in their stored form."""
    if isinstance(vectors, (bytes, bytearray, memoryview)):
        vectors = np.frombuffer(vectors, dtype="<f2")
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    if len(matrix) > _CHUNK:  # temporaries that stay in cache: 3x faster on 40k sentences
        return b"".join(
            encode_sentences(matrix[i : i + _CHUNK], dim) for i in range(0, len(matrix), _CHUNK)
        )
    peak = np.abs(matrix).max(axis=1) if len(matrix) else np.zeros(0, np.float32)
    scale = np.where(peak > 0, peak / _PEAK, 1.0).astype(np.float32)
    codes = np.clip(np.rint(matrix / scale[:, None]), -_PEAK, _PEAK).astype(np.int8)
    records = np.empty((len(matrix), 4 + dim), dtype=np.uint8)  # the layout of _records(dim)
    records[:, :4] = scale.astype("<f4").view(np.uint8).reshape(-1, 4)
    records[:, 4:] = codes.view(np.uint8)
    return records.tobytes()


def sentence_count(blob: bytes, dim: int) -> int:
    """How many sentence vectors a stored blob holds."""
    return len(blob) // (dim + 4)


def decode_sentences(blob: bytes, dim: int) -> np.ndarray:
    """(n, dim) float32 sentence vectors from their stored form."""
    records = np.frombuffer(blob, dtype=_records(dim))
    return records["codes"].astype(np.float32) * records["scale"][:, None]


def decode_sentence_rows(rows: Sequence[tuple[int, bytes]]) -> list[np.ndarray]:
    """Sentence-vector matrices from (sentence count, stored blob) rows, decoded in one go."""
    counts = [count if blob else 0 for count, blob in rows]
    if not sum(counts):
        return [np.zeros((0, 0), np.float32) for _ in rows]
    dim = next(len(blob) // count for count, blob in rows if count and blob) - 4
    matrix = decode_sentences(b"".join(blob for count, blob in rows if count), dim)
    return np.split(matrix, np.cumsum(counts)[:-1])
