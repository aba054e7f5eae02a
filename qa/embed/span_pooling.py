"""Late chunking on the host: a batch's token vectors -> one vector per sentence span.

The passage encoder pads pre-tokenised rows into a batch (:func:`pad_batch`), runs the model,
then averages the token vectors that start inside each sentence's character span
(:func:`span_means`) and regroups them per passage (:func:`split_spans`). On a GPU the means
are taken on the device instead where the spans allow (``PassageEncoder._encode_batch_device``).
torch is imported inside :func:`pad_batch` only.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def pad_batch(enc: Any, batch: list[int], tokenizer: Any) -> tuple[dict[str, Any], list[int]]:
    """Pad the pre-tokenised rows of one batch to its longest row, as the tokenizer would."""
    import torch

    lengths = [len(enc["input_ids"][i]) for i in batch]
    width = max(lengths)
    left = tokenizer.padding_side == "left"
    pads = {"input_ids": tokenizer.pad_token_id or 0, "attention_mask": 0, "token_type_ids": tokenizer.pad_token_type_id}
    features: dict[str, Any] = {}
    for key in ("input_ids", "token_type_ids", "attention_mask"):
        if key not in enc:
            continue
        array = np.full((len(batch), width), pads[key], dtype=np.int64)
        for row, index in enumerate(batch):
            values = enc[key][index]
            if left:
                array[row, width - len(values) :] = values
            else:
                array[row, : len(values)] = values
        features[key] = torch.from_numpy(array)
    features["padding_side"] = "left" if left else "right"
    return features, lengths


def span_means(
    tokens: np.ndarray,
    enc: Any,
    batch: list[int],
    spans: list[list[tuple[int, int]]],
    lengths: list[int],
    padding_side: str,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Mean of the token embeddings that start inside each span (special tokens excluded).

    Returns the (m, dim) means of the spans that have tokens and, for each, its (batch row,
    span number); spans without tokens (truncated away, or blank) are absent and fall back later.
    """
    width = tokens.shape[1]
    means: list[np.ndarray] = []
    owners: list[tuple[int, int]] = []
    for row, index in enumerate(batch):
        n = lengths[row]
        offsets = np.asarray(enc["offset_mapping"][index], dtype=np.int64).reshape(n, 2)
        real = np.asarray(enc["special_tokens_mask"][index], dtype=bool) == 0
        real &= offsets[:, 1] > offsets[:, 0]
        starts = offsets[:, 0]
        shift = width - n if padding_side == "left" else 0
        for span_no, (lo, hi) in enumerate(spans[row]):
            positions = np.flatnonzero(real & (starts >= lo) & (starts < hi))
            if positions.size:
                means.append(tokens[row, positions + shift].mean(axis=0))
                owners.append((row, span_no))
    if not means:
        return np.zeros((0, tokens.shape[2]), np.float32), owners
    return np.stack(means).astype(np.float32, copy=False), owners


def split_spans(
    span_vecs: np.ndarray, owners: list[tuple[int, int]], pooled: np.ndarray, counts: list[int]
) -> list[np.ndarray]:
    """Regroup span vectors per passage; spans without tokens take the passage vector."""
    result = [np.repeat(pooled[row : row + 1], count, axis=0) for row, count in enumerate(counts)]
    for vec, (row, span_no) in zip(span_vecs, owners):
        result[row][span_no] = vec
    return result


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32 (zero rows stay zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)
