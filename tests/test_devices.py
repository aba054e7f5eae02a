"""--device: the Enum, resolve_device on this (GPU-less) machine, and the GPU code path run on CPU.

The cuda path of PassageEncoder (grouped tokenisation in a thread, span means pooled with one
index_add_) is exercised here on CPU in fp32, where it must give exactly the CPU path's numbers;
fp16 autocast and the .to("cuda") moves are the only parts a GPU-less machine cannot run.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import qa  # noqa: F401 - sets HF_HUB_OFFLINE before anything loads a model
from qa.embed import devices
from qa.embed.devices import Device, parse_device, resolve_device
from qa.errors import QAError


def _fake(monkeypatch: pytest.MonkeyPatch, cuda: bool, mps: bool) -> None:
    monkeypatch.setattr(devices, "_cuda_available", lambda: cuda)
    monkeypatch.setattr(devices, "_mps_available", lambda: mps)


def test_enum_values_are_the_cli_choices() -> None:
    assert [d.value for d in Device] == ["auto", "cpu", "cuda", "mps"]
    assert Device("cuda") is Device.CUDA
    assert Device.CPU == "cpu"  # a str Enum: Typer and f-strings see the plain name


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected) -> None:
    _fake(monkeypatch, cuda, mps)
    assert resolve_device("auto") == expected
    assert resolve_device(Device.AUTO) == expected


def test_explicit_devices_when_available(monkeypatch) -> None:
    _fake(monkeypatch, True, True)
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("mps") == "mps"
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("name", ["cuda", "mps"])
def test_missing_accelerator_is_a_one_line_error(monkeypatch, name) -> None:
    _fake(monkeypatch, False, False)
    with pytest.raises(QAError) as info:
        resolve_device(name)
    message = str(info.value)
    assert "\n" not in message
    assert f"--device {name}" in message
    assert "--device cpu" in message  # the hint names the way out


def test_this_machine_auto_picks_cpu_and_cuda_fails() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU; the test is for GPU-less machines")
    expected = "mps" if devices._mps_available() else "cpu"
    assert resolve_device("auto") == expected
    with pytest.raises(QAError, match="no CUDA GPU"):
        resolve_device("cuda")


@pytest.mark.parametrize("bad", ["", "gpu", "tpu", "cuda:0", "cpu,cuda", "\x00", "c" * 10_000])
def test_unknown_device_names_are_refused(bad) -> None:
    with pytest.raises(QAError) as info:
        parse_device(bad)
    assert "\n" not in str(info.value)
    assert "auto, cpu, cuda, mps" in str(info.value)


def test_names_are_case_and_space_insensitive(monkeypatch) -> None:
    _fake(monkeypatch, False, False)
    assert parse_device(" CPU ") is Device.CPU
    assert resolve_device("Auto") == "cpu"


def test_importing_devices_does_not_import_torch() -> None:
    code = "import sys, qa.embed.devices as d; d.parse_device('cuda'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- the GPU code path of PassageEncoder, run on CPU ---------------------------------------


@pytest.fixture(scope="module")
def fp32_encoder():
    from qa.embed.model import resolve_model
    from qa.embed.passage_encoder import PassageEncoder

    return PassageEncoder(resolve_model(None), precision="fp32")


TEXTS = [
    "The Bank of England kept rates on hold. Analysts had expected a cut! Markets fell.",
    "Arsenal beat Chelsea 2-1 on Saturday. The win lifts them to second place.",
    "",
    "One sentence only",
    "Crème brûlée at São Paulo's café. Naïve façade? Yes.",
    "A long one. " * 200,  # truncated at the model's window: later spans have no tokens
]


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for i, ch in enumerate(text):
        if ch in ".!?":
            spans.append((start, i + 1))
            start = i + 2
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _pipelined(encoder, texts, spans, batch_size):
    from qa.embed.passage_encoder import Encoded

    out = Encoded(np.zeros((len(texts), encoder.dim), np.float32), [None] * len(texts))
    progress: list[int] = []
    encoder._encode_pipelined(texts, spans, batch_size, progress.append, out)
    return out, progress


@pytest.mark.slow  # real-model parity over three batch sizes
@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_gpu_path_matches_cpu_path_exactly_in_fp32(fp32_encoder, batch_size) -> None:
    spans = [_sentence_spans(t) for t in TEXTS]
    reference = fp32_encoder.encode(TEXTS, spans, batch_size=batch_size)
    got, progress = _pipelined(fp32_encoder, TEXTS, spans, batch_size)
    assert sum(progress) == len(TEXTS)
    np.testing.assert_allclose(got.vectors, reference.vectors, atol=1e-5)
    for mine, theirs, passage_spans in zip(got.sentence_vectors, reference.sentence_vectors, spans):
        assert mine.shape == (len(passage_spans), fp32_encoder.dim)
        np.testing.assert_allclose(mine, theirs, atol=1e-5)


def test_gpu_path_handles_overlapping_and_odd_spans(fp32_encoder) -> None:
    text = "Alpha beta gamma. Delta epsilon zeta."
    odd = [[(0, 17), (6, 36)], [(18, 36), (0, 17)], [(10, 5), (0, 36)], [(0, 0), (40, 50)]]
    texts = [text] * len(odd)
    reference = fp32_encoder.encode(texts, odd)
    got, _ = _pipelined(fp32_encoder, texts, odd, 2)
    for mine, theirs in zip(got.sentence_vectors, reference.sentence_vectors):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    # spans without tokens fall back to the passage vector, as on CPU
    np.testing.assert_allclose(got.sentence_vectors[3][1], got.vectors[3], atol=1e-6)


def test_span_index_refuses_overlaps_and_maps_tokens() -> None:
    from qa.embed.passage_encoder import _span_index

    enc = {
        "offset_mapping": [[(0, 0), (0, 5), (6, 10), (11, 15), (0, 0)]],
        "special_tokens_mask": [[1, 0, 0, 0, 1]],
    }
    ids, owners = _span_index(enc, [0], [[(0, 10), (11, 15)]], [5], 7, "right")
    assert ids[0].tolist() == [-1, 0, 0, 1, -1, -1, -1]
    assert owners == [(0, 0), (0, 1)]
    ids, _ = _span_index(enc, [0], [[(0, 10), (11, 15)]], [5], 7, "left")
    assert ids[0].tolist() == [-1, -1, -1, 0, 0, 1, -1]
    assert _span_index(enc, [0], [[(0, 12), (11, 15)]], [5], 7, "right") is None
    assert _span_index(enc, [0], [[(11, 15), (0, 10)]], [5], 7, "right") is None


def test_device_defaults_keep_the_cpu_behaviour(fp32_encoder) -> None:
    from qa.embed.passage_encoder import PassageEncoder

    assert fp32_encoder.device == "cpu"
    assert fp32_encoder.precision == "fp32"
    with pytest.raises(ValueError, match="fp16"):
        PassageEncoder(fp32_encoder.ref, precision="fp16")
