"""Starting or joining Ray for ``qa index --ray``, quietly, and fitting the actor pool to it.

ray is imported inside functions only. Addresses are resolved and checked, and a remote cluster
probed, by :mod:`qa.embed.ray_embed` before :func:`connect` runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from qa.embed.devices import Device, resolve_device
from qa.errors import QAError

HINT = (
    "Check the address (HOST:PORT of the head node's GCS, port 6379 by default; "
    "ray://HOST:10001 for Ray Client), or run without --ray"
)


def import_ray() -> Any:
    """The ray module (with Ray Data).

    Raises:
        QAError: the optional Ray extra is not installed.
    """
    try:
        import ray
        import ray.data  # noqa: F401 - the extra must include Ray Data
    except ImportError as exc:
        raise QAError(
            f"--ray needs the optional Ray extra ({exc})",
            "Install it with `pip install 'qa[ray]'` (or `pip install 'ray[data]>=2.9'`)",
        ) from None
    return ray


def connect(address: str | None, probe: Callable[[str], None]) -> tuple[Any, bool]:
    """``ray.init``: join ``address`` (already checked) or start a quiet local instance.

    ``probe(address)`` runs first when joining a cluster, and raises when it does not answer.

    Returns:
        (the ray module, whether this call ran ``ray.init``: then ``ray.shutdown`` is ours).

    Raises:
        QAError: ray is missing, or the cluster refused us (version mismatch, not Ray, ...).
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    common: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    # Ray's C++ core logs warnings straight to stderr (e.g. about actor constructor arguments
    # in the object store); the CLI reports failures itself, in one line.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    try:
        if address is None:
            with _stderr_silenced():
                ray.init(num_cpus=_machine_cpus(), include_dashboard=False, **common)
            return ray, True
        probe(address)
        env = {"py_modules": [str(Path(__file__).resolve().parents[1])]}  # ship qa itself
        with _stderr_silenced():
            ray.init(address=address, runtime_env=env, **common)
    except QAError:
        raise
    except Exception as exc:  # noqa: BLE001 - ray raises many types; the user needs one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = "start a local Ray instance" if address is None else f"join the Ray cluster at {address}"
        raise QAError(f"cannot {where}: {first}", HINT) from None
    return ray, True


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """File descriptor 2 to /dev/null for a moment: ``ray.init``'s C++ start-up lines (and the
    local instance's processes, which inherit it) do not reach the terminal. Python errors
    still surface as exceptions."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _machine_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def quiet_ray_data(ray: Any) -> None:
    """No progress bars or execution banners from Ray Data on the CLI's stderr."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.enable_operator_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # Ray Data's advice for small datasets ("won't fully utilize the available concurrency")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"ray\.data\..*")


def pick_device(choice: Device, gpus: float, workers: int, local: bool) -> str:
    """The device the actors embed on, given ``--device``, the cluster's GPUs and the pool size.

    ``local``: a Ray instance started on this machine (the only place ``mps`` works).

    Raises:
        QAError: mps on a remote cluster, or cuda without a GPU for every worker.
    """
    if choice is Device.CPU:
        return "cpu"
    if choice is Device.MPS:
        if not local:
            raise QAError("--device mps works with a local Ray instance only", "Use --device cpu or cuda")
        return resolve_device(choice)
    if choice is Device.AUTO:
        return "cuda" if gpus >= 1 else "cpu"
    if gpus < 1:
        raise QAError(
            "--device cuda: the Ray cluster has no GPUs",
            "Add GPU nodes to the cluster, or use --device cpu or auto",
        )
    if workers > gpus:
        raise QAError(
            f"--device cuda: {workers} workers need {workers} GPUs; the cluster has {gpus:g}",
            f"Use --ray-workers {int(gpus)} or fewer",
        )
    return "cuda"
