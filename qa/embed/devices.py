"""Where the embedding model runs: ``--device auto|cpu|cuda|mps``.

torch is imported inside :func:`resolve_device` only, so the CLI can name the Enum in its
options without paying for torch at start-up.
"""

from __future__ import annotations

from enum import Enum

from qa.errors import QAError


class Device(str, Enum):
    """The ``--device`` choices. ``auto`` means cuda, else mps, else cpu."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"
    MPS = "mps"


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def parse_device(device: str | Device) -> Device:
    """The Device for a name; a one-line error for anything else.

    Raises:
        QAError: not one of auto, cpu, cuda, mps.
    """
    if isinstance(device, Device):
        return device
    try:
        return Device(str(device).strip().lower())
    except ValueError:
        names = ", ".join(d.value for d in Device)
        raise QAError(f"unknown device {device!r}", f"Use one of: {names}") from None


def resolve_device(device: str | Device) -> str:
    """The torch device string to load the model on, checked against this machine.

    Args:
        device: ``auto``, ``cpu``, ``cuda`` or ``mps`` (str or :class:`Device`).

    Returns:
        ``"cpu"``, ``"cuda"`` or ``"mps"``.

    Raises:
        QAError: an unknown name, or cuda/mps asked for where torch cannot use it.
    """
    choice = parse_device(device)
    if choice is Device.CPU:
        return "cpu"
    if choice is Device.AUTO:
        if _cuda_available():
            return "cuda"
        return "mps" if _mps_available() else "cpu"
    if choice is Device.CUDA and not _cuda_available():
        raise QAError(
            "--device cuda: no CUDA GPU is usable here (torch.cuda.is_available() is False)",
            "Use --device cpu or auto, or install a CUDA build of torch on a machine with a GPU",
        )
    if choice is Device.MPS and not _mps_available():
        raise QAError(
            "--device mps: Apple's Metal backend is not available here",
            "Use --device cpu or auto (mps needs macOS on Apple silicon)",
        )
    return choice.value
