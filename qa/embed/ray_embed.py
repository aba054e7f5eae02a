"""Embedding on a Ray cluster (``qa index --ray [ADDRESS]``), with a PassageEncoder interface.

The driver (the ``qa index`` process) reads the files and builds the passages as usual, sends
the passage texts to Ray Data, and gets the vectors back in streamed batches; an actor pool of
:class:`EmbedActor` (one model load per actor) does the encoding. The driver alone writes the
index, so only the driver needs to see the files.

ray is imported inside functions only: importing this module, ``qa --help`` and every run
without ``--ray`` stay free of it. :func:`check_address` uses sockets only, so the CLI can refuse
an unreachable cluster in one line before anything else happens; :func:`probe_cluster` then
checks that a Ray head node answers there, before :mod:`qa.embed.ray_cluster` joins it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed.devices import Device, parse_device, resolve_device
from qa.embed.model import ModelRef
from qa.embed.ray_cluster import HINT, connect, pick_device, quiet_ray_data
from qa.errors import QAError

DEFAULT_PORT = 6379  # Ray's GCS port on the head node
CLIENT_PORT = 10001  # Ray Client (ray://) port
CONNECT_TIMEOUT_S = 5.0  # the socket pre-check
PROBE_TIMEOUT_S = 45.0  # the ray.init probe: the two stay within the 60 s the CLI promises
DEFAULT_BATCH = 256  # passages per Ray task on CPU
GPU_BATCH = 2048  # passages per Ray task on a GPU actor (it cuts them into batches of 512)
MAX_RESTARTS = 3  # a killed actor is restarted this often ...
MAX_TASK_RETRIES = 3  # ... and its unfinished batches are sent again this often
_CURRENT_CLUSTER = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"


def ray_available() -> bool:
    """Whether the optional ``ray[data]`` extra is installed (without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("ray")  # finding "ray.data" would import ray itself
    roots = spec.submodule_search_locations if spec is not None else None
    return bool(roots) and any((Path(root) / "data" / "__init__.py").is_file() for root in roots)


def resolve_address(address: str | None) -> str | None:
    """The address to hand to ``ray.init``: None (start a local instance) or a cluster's.

    ``auto`` means ``$RAY_ADDRESS``, else the cluster ``ray start`` left on this machine.

    Raises:
        QAError: ``auto`` and no cluster is known, or an address that is not HOST[:PORT].
    """
    if address is None or address.strip() in ("", "local"):
        return None
    address = address.strip()
    if address == "auto":
        found = os.environ.get("RAY_ADDRESS", "").strip()
        if not found or found in ("auto", "local"):
            found = _CURRENT_CLUSTER.read_text().strip() if _CURRENT_CLUSTER.is_file() else ""
        if not found:
            raise QAError(
                "--ray auto: no running Ray cluster found (RAY_ADDRESS is not set and "
                "`ray start` has not run on this machine)",
                "Set RAY_ADDRESS, pass --ray HOST:PORT, or pass --ray without an address "
                "for a local instance",
            )
        address = found
    _split_host_port(address)  # validates
    return address


def _split_host_port(address: str) -> tuple[str, int]:
    client = address.startswith("ray://")
    rest = address[len("ray://") :] if client else address
    if "://" in rest or not rest or any(c.isspace() for c in rest):
        raise QAError(f"--ray: {address!r} is not a Ray address", HINT)
    host, sep, port_text = rest.rpartition(":")
    if not sep:
        host, port_text = rest, str(CLIENT_PORT if client else DEFAULT_PORT)
    host = host.strip("[]")  # [::1]:6379
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise QAError(f"--ray: {address!r} is not HOST:PORT", HINT)
    return host, int(port_text)


def check_address(address: str | None, timeout: float = CONNECT_TIMEOUT_S) -> str | None:
    """Resolve ``address`` and make sure something listens there, without importing ray.

    Returns:
        The resolved address (None: a local instance will be started).

    Raises:
        QAError: one line, within ``timeout`` seconds (plus name resolution), when the
            address is malformed or nothing accepts a connection on it.
    """
    resolved = resolve_address(address)
    if resolved is None:
        return None
    host, port = _split_host_port(resolved)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise QAError(f"cannot reach the Ray cluster at {resolved}: {reason}", HINT) from None
    return resolved


_PROBE = (
    "import logging, sys, ray\n"
    "ray.init(address=sys.argv[1], log_to_driver=False, logging_level=logging.ERROR)\n"
    "print(ray.__version__)\n"
)


def probe_cluster(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Join ``address`` from a child process that is killed after ``timeout`` seconds.

    ``ray.init`` retries for minutes when something listens on the port without answering
    as a Ray GCS (a proxy, another service), and cannot be interrupted from Python; a child
    process can. Costs one extra ``import ray`` (about 2-3 s) per cluster run.

    Raises:
        QAError: the child failed (its last error line is quoted) or timed out.
    """
    env = dict(os.environ, RAY_BACKEND_LOG_LEVEL="fatal")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, address],
            capture_output=True, text=True, timeout=timeout, env=env, check=False,
        )
    except subprocess.TimeoutExpired:
        raise QAError(
            f"no Ray cluster answered at {address} within {timeout:.0f} s "
            "(something listens there, but not a Ray head node)",
            HINT,
        ) from None
    if done.returncode != 0:
        raise QAError(f"cannot join the Ray cluster at {address}: {_last_error(done.stderr)}", HINT)


def _last_error(stderr: str) -> str:
    """The exception line of a child's traceback (``Name: message``), else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b", line)]
    chosen = errors[-1] if errors else (lines[-1] if lines else "the probe process failed")
    return chosen[:300]


class EmbedActor:
    """The Ray Data callable class: loads the model once, then encodes batches of rows.

    Args:
        name: the model's name as the index records it.
        path: the model folder on the driver's machine.
        blob: ``{relative path: bytes}`` of that folder when it may be absent on the worker.
        device: ``cpu``, ``cuda`` or ``mps`` (checked again on the worker).
        precision: as :class:`~qa.embed.passage_encoder.PassageEncoder`.
        threads: torch threads (the CPUs Ray reserved for this actor).
    """

    def __init__(
        self,
        name: str,
        path: str,
        blob: dict[str, bytes] | None,
        device: str,
        precision: str,
        threads: int,
    ) -> None:
        import torch

        from qa.embed.passage_encoder import PassageEncoder

        folder = Path(path)
        if not (folder / "config.json").is_file() and blob is not None:
            folder = _materialise(blob)
        self.encoder = PassageEncoder(ModelRef(name, folder), precision, resolve_device(device))
        torch.set_num_threads(max(1, threads))  # PassageEncoder takes every core; Ray gave us these
        self.dim = self.encoder.dim

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        spans = [_unpack_spans(raw) for raw in batch["spans"]]
        encoded = self.encoder.encode(texts, spans)
        sentences = np.empty(len(texts), dtype=object)
        for row, vectors in enumerate(encoded.sentence_vectors):
            sentences[row] = np.ascontiguousarray(vectors, dtype=np.float32).tobytes()
        return {
            "idx": np.asarray(batch["idx"], dtype=np.int64),
            "vector": np.ascontiguousarray(encoded.vectors, dtype=np.float32),
            "sentences": sentences,
        }


def _materialise(blob: dict[str, bytes]) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="qa-model-"))
    for relative, data in blob.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


def _model_blob(path: Path) -> dict[str, bytes]:
    """The model folder's files, to ship to workers that lack it (small models: ~90 MB)."""
    return {
        str(file.relative_to(path)): file.read_bytes()
        for file in sorted(path.rglob("*"))
        if file.is_file() and not file.name.startswith(".")
    }


def _pack_spans(spans: list[tuple[int, int]]) -> bytes:
    return np.asarray(spans, dtype=np.int64).reshape(-1, 2).tobytes()


def _unpack_spans(raw: bytes) -> list[tuple[int, int]]:
    pairs = np.frombuffer(raw, dtype=np.int64).reshape(-1, 2)
    return [(int(lo), int(hi)) for lo, hi in pairs]


class RayPassageEncoder:
    """PassageEncoder's interface, with the encoding done by a Ray Data actor pool.

    Construction connects (or starts a local instance) and checks the cluster can host the
    pool; the model is loaded by the actors only, once each, when :meth:`stream` first runs.

    Args:
        model: the resolved model (its folder is read on the driver and shipped to a remote
            cluster's workers, so they need not have it).
        address: None (start a local Ray), ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``.
        workers: actors in the pool (one model copy each; one GPU each with cuda).
        batch_size: passages per Ray task (default 256 on CPU, 2048 on GPU).
        device: ``auto`` (cuda when the cluster has GPUs, else cpu), ``cpu``, ``cuda`` or
            ``mps`` (local instance only).
        precision: as :class:`~qa.embed.passage_encoder.PassageEncoder`.
        cpus_per_worker: CPUs reserved per actor; default: the cluster's CPUs / workers.

    Raises:
        QAError: ray missing, address unreachable or refused, no GPU for cuda, bad numbers.
    """

    # Each encode()/stream() call is one Ray Data job: a fresh actor pool, one model load per
    # actor (seconds). Callers should hand over large pieces (tens of thousands of passages)
    # and consume stream(), not call encode() per 512-passage chunk.
    streams = True

    def __init__(
        self,
        model: ModelRef,
        address: str | None = None,
        workers: int = 1,
        batch_size: int | None = None,
        device: str | Device = "auto",
        precision: str = "auto",
        cpus_per_worker: float | None = None,
    ) -> None:
        if workers < 1:
            raise QAError(f"--ray-workers must be at least 1, not {workers}")
        if batch_size is not None and batch_size < 1:
            raise QAError(f"--batch-size must be at least 1, not {batch_size}")
        choice = parse_device(device)
        self.ref = model
        self.name = model.name
        self.workers = workers
        self.precision = precision
        self.address = check_address(address)
        self._ray, self._initialised_here = connect(self.address, probe_cluster)
        try:
            quiet_ray_data(self._ray)
            resources = self._ray.cluster_resources()
            gpus = float(resources.get("GPU", 0))
            self.device = pick_device(choice, gpus, workers, local=self.address is None)
            self.cpus_per_worker = cpus_per_worker or _share(float(resources.get("CPU", 1)), workers)
            self.batch_size = batch_size or (GPU_BATCH if self.device == "cuda" else DEFAULT_BATCH)
            self._blob = None if self.address is None else self._ray.put(_model_blob(model.path))
            self.dim = _model_dim(model)
        except BaseException:
            self.close()
            raise

    def stream(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> Iterator[tuple[np.ndarray, np.ndarray, list[np.ndarray]]]:
        """Encode on the cluster; yield results as they arrive, in no particular order.

        Yields:
            (positions in ``texts``, their (k, dim) float32 vectors, their sentence vectors).
        """
        if len(spans) != len(texts):
            raise ValueError("spans must have one entry per text")
        if not texts:
            return
        mapped = _map_batches(
            self._dataset(texts, spans),
            fn_constructor_kwargs={
                "name": self.ref.name,
                "path": str(self.ref.path),
                "blob": self._blob,
                "device": self.device,
                "precision": self.precision,
                "threads": max(1, int(self.cpus_per_worker)),
            },
            batch_size=self.batch_size,
            batch_format="numpy",
            concurrency=self.workers,
            num_cpus=self.cpus_per_worker,
            num_gpus=1 if self.device == "cuda" else 0,
        )
        for batch in mapped.iter_batches(batch_size=None, batch_format="numpy"):
            idx = np.asarray(batch["idx"], dtype=np.int64)
            vectors = np.asarray(batch["vector"], dtype=np.float32).reshape(len(idx), -1)
            dim = vectors.shape[1]
            sentences = [np.frombuffer(raw, dtype=np.float32).reshape(-1, dim) for raw in batch["sentences"]]
            yield idx, vectors, sentences

    def _dataset(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> Any:
        """One Arrow block per Ray task, so the pool's actors share the work from the start.

        Rows go out sorted by length (their ``idx`` puts them back): each task then holds
        passages of similar length and its batches carry little padding.
        """
        import pyarrow as pa

        order = np.argsort([len(t) for t in texts], kind="stable")
        blocks = []
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size].tolist()
            blocks.append(
                pa.table(
                    {
                        "idx": pa.array(rows, pa.int64()),
                        "text": pa.array([texts[i] for i in rows], pa.large_string()),
                        "spans": pa.array([_pack_spans(spans[i]) for i in rows], pa.binary()),
                    }
                )
            )
        return self._ray.data.from_arrow(blocks)

    def encode(
        self,
        texts: list[str],
        spans: list[list[tuple[int, int]]],
        batch_size: int | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> Any:
        """Same result as ``PassageEncoder.encode`` (``batch_size`` is ignored: fixed at init).

        Raises:
            KeyboardInterrupt: after shutting a local instance down.
        """
        from qa.embed.passage_encoder import Encoded

        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        sentence_vectors: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        try:
            for idx, block, sentences in self.stream(texts, spans):
                vectors[idx] = block
                for position, value in zip(idx.tolist(), sentences):
                    sentence_vectors[position] = value
                if on_progress is not None:
                    on_progress(len(idx))
        except KeyboardInterrupt:
            self.close()
            raise
        return Encoded(vectors, sentence_vectors)

    def export_onnx(self, dest: Path) -> None:
        """Export the query encoder on the driver (a local CPU model; the actors are remote)."""
        from qa.embed.passage_encoder import PassageEncoder

        PassageEncoder(self.ref).export_onnx(dest)

    def close(self) -> None:
        """Disconnect; a local instance this object started is shut down. Safe to repeat."""
        ray = getattr(self, "_ray", None)
        if ray is not None and self._initialised_here and ray.is_initialized():
            ray.shutdown()
        self._ray = None

    def __enter__(self) -> RayPassageEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _map_batches(dataset: Any, **kwargs: Any) -> Any:
    """``map_batches(EmbedActor, ...)`` with bounded actor restarts and task retries.

    Ray 2.60 deprecates passing ``max_restarts``/``max_task_retries`` (its defaults are
    unlimited restarts and retries); where a later Ray refuses them, its defaults apply.
    """
    retries = {"max_restarts": MAX_RESTARTS, "max_task_retries": MAX_TASK_RETRIES}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return dataset.map_batches(EmbedActor, **kwargs, **retries)
        except TypeError:
            return dataset.map_batches(EmbedActor, **kwargs)


def _share(cpus: float, workers: int) -> float:
    """CPUs per actor: an equal share, whole CPUs when there is at least one each."""
    share = cpus / workers
    return float(int(share)) if share >= 1 else round(share, 2)


def _model_dim(model: ModelRef) -> int:
    """The output dimension, from the model's config files (no torch on the driver)."""
    import json

    dense = sorted(model.path.glob("*Dense*/config.json"))
    for path in (*dense[-1:], model.path / "config.json"):
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for key in ("out_features", "hidden_size", "d_model"):
            if key in config:
                return int(config[key])
    raise QAError(f"cannot tell the vector size of model '{model.name}' from {model.path}")
