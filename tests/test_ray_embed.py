"""qa.embed.ray_embed: addresses, fast failure, lazy import, and (slow) real local Ray runs.

The slow tests start one local Ray instance for the module (about 10 s on 2 cores) and an
actor per encode call (model load, about 8 s); run them with ``pytest -m slow``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import qa  # noqa: F401 - sets HF_HUB_OFFLINE before anything loads a model
from qa.embed import ray_embed
from qa.embed.ray_embed import _last_error, _share, check_address, resolve_address
from qa.errors import QAError

BBC = Path("/work/shared/corpora/bbc")
needs_ray = pytest.mark.skipif(
    not ray_embed.ray_available(), reason="ray[data] is not installed (pip install 'qa[ray]')"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- lazy import ---------------------------------------------------------------------------


def test_importing_the_module_does_not_import_ray() -> None:
    code = (
        "import sys, qa.embed.ray_embed as r\n"
        "r.resolve_address('10.0.0.1:6379'); r.ray_available()\n"
        "print('ray' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_qa_help_does_not_import_ray() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['qa', '--help']\n"
        "from qa.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(str('ray' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().endswith("False")


# ---- addresses -----------------------------------------------------------------------------


def test_no_address_means_a_local_instance() -> None:
    assert resolve_address(None) is None
    assert resolve_address("") is None
    assert resolve_address("local") is None


def test_auto_reads_ray_address_then_the_current_cluster_file(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(ray_embed, "_CURRENT_CLUSTER", tmp_path / "ray_current_cluster")
    monkeypatch.setenv("RAY_ADDRESS", "10.1.2.3:6380")
    assert resolve_address("auto") == "10.1.2.3:6380"
    monkeypatch.delenv("RAY_ADDRESS")
    (tmp_path / "ray_current_cluster").write_text("10.9.9.9:6379\n")
    assert resolve_address("auto") == "10.9.9.9:6379"


def test_auto_without_a_cluster_is_a_one_line_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(ray_embed, "_CURRENT_CLUSTER", tmp_path / "absent")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(QAError) as info:
        resolve_address("auto")
    assert "no running Ray cluster" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "bad",
    ["host:notaport", "host:0", "host:70000", "http://host:80", "a b:1", ":6379", "host:-1", "ray://"],
)
def test_malformed_addresses_are_refused_without_network(bad, monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError(f"check_address({bad!r}) tried to connect")

    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(QAError) as info:
        check_address(bad)
    assert "\n" not in str(info.value)
    assert "Check the address" in str(info.value)


def test_host_without_port_uses_ray_defaults() -> None:
    assert ray_embed._split_host_port("head") == ("head", 6379)
    assert ray_embed._split_host_port("ray://head") == ("head", 10001)
    assert ray_embed._split_host_port("[::1]:7000") == ("::1", 7000)


def test_closed_port_fails_fast_in_one_line() -> None:
    address = f"127.0.0.1:{_free_port()}"
    with pytest.raises(QAError) as info:
        check_address(address)
    message = str(info.value)
    assert "\n" not in message
    assert f"cannot reach the Ray cluster at {address}" in message


def test_unreachable_address_fails_before_ray_is_imported() -> None:
    code = (
        "import sys\n"
        "from qa.embed.model import ModelRef\n"
        "from qa.embed.ray_embed import RayPassageEncoder\n"
        "from qa.errors import QAError\n"
        "try:\n"
        f"    RayPassageEncoder(ModelRef('m', __import__('pathlib').Path('.')), '127.0.0.1:{_free_port()}')\n"
        "except QAError as exc:\n"
        "    print(str(exc).count(chr(10)), 'ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["0", "False"]


@needs_ray
@pytest.mark.slow  # waits out the probe's 4 s timeout by design; the fast failures are above
def test_a_silent_listener_is_given_up_on_within_the_timeout() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        address = f"127.0.0.1:{server.getsockname()[1]}"
        assert check_address(address) == address  # the socket check alone is fooled
        with pytest.raises(QAError) as info:  # the probe gives up (a hang would never raise)
            ray_embed.probe_cluster(address, timeout=4)
    assert "\n" not in str(info.value)


def test_last_error_picks_the_exception_line() -> None:
    stderr = (
        "[2026-01-01 00:00:00,000 W 1 1] gcs_client.cc:210: Failed\n"
        "Traceback (most recent call last):\n  File \"<string>\", line 2\n"
        "ConnectionError: Failed to connect to Ray cluster at 10.0.0.1:6379.\n"
    )
    assert _last_error(stderr) == "ConnectionError: Failed to connect to Ray cluster at 10.0.0.1:6379."
    assert _last_error("") == "the probe process failed"
    assert _last_error("just one line\n") == "just one line"


@pytest.mark.parametrize(
    ("cpus", "workers", "expected"), [(2, 1, 2.0), (2, 2, 1.0), (2, 4, 0.5), (16, 3, 5.0)]
)
def test_cpu_share_per_actor(cpus, workers, expected) -> None:
    assert _share(cpus, workers) == expected


@pytest.mark.parametrize(("workers", "batch"), [(0, None), (-3, None), (1, 0), (1, -5)])
def test_bad_numbers_are_refused_before_connecting(workers, batch) -> None:
    from qa.embed.model import ModelRef

    with pytest.raises(QAError, match="at least 1"):
        ray_embed.RayPassageEncoder(ModelRef("m", Path(".")), None, workers=workers, batch_size=batch)


def test_packed_spans_round_trip() -> None:
    spans = [(0, 5), (6, 2**40)]
    assert ray_embed._unpack_spans(ray_embed._pack_spans(spans)) == spans
    assert ray_embed._unpack_spans(ray_embed._pack_spans([])) == []


def test_model_folder_ships_and_materialises(tmp_path) -> None:
    from qa.embed.model import resolve_model

    source = resolve_model(None).path
    folder = ray_embed._materialise(ray_embed._model_blob(source))
    try:
        for file in source.rglob("*"):
            if file.is_file() and not file.name.startswith("."):
                assert (folder / file.relative_to(source)).read_bytes() == file.read_bytes()
    finally:
        import shutil

        shutil.rmtree(folder)


def test_model_dim_from_config_without_torch() -> None:
    from qa.embed.model import resolve_model

    assert ray_embed._model_dim(resolve_model(None)) == 384


# ---- a real local Ray instance (slow) ------------------------------------------------------


def _bbc_passages(n: int) -> list[str]:
    if not BBC.is_dir():
        pytest.skip(f"BBC corpus not found at {BBC}")
    texts: list[str] = []
    for path in sorted(BBC.rglob("*.txt"))[:40]:
        paragraphs = path.read_text(encoding="utf-8", errors="replace").split("\n\n")
        texts.extend(p.strip() for p in paragraphs[1:] if len(p.strip()) > 40)
    return texts[:n]


def _spans(texts: list[str]) -> list[list[tuple[int, int]]]:
    from qa.ingest.passages import split_sentences

    return [split_sentences(t) for t in texts]


@pytest.fixture(scope="module")
def ray_encoder():
    """One local instance for the module; recreated if a test shut it down (Ctrl-C test)."""
    from qa.embed.model import resolve_model

    made: list[ray_embed.RayPassageEncoder] = []

    def get() -> ray_embed.RayPassageEncoder:
        import ray

        if not made or not ray.is_initialized():
            made.append(ray_embed.RayPassageEncoder(resolve_model(None), None, workers=1, batch_size=8))
        return made[-1]

    yield get
    for encoder in reversed(made):
        encoder.close()


@pytest.fixture(scope="module")
def local_reference():
    from qa.embed.model import resolve_model
    from qa.embed.passage_encoder import PassageEncoder

    texts = _bbc_passages(50)
    spans = _spans(texts)
    return texts, spans, PassageEncoder(resolve_model(None)).encode(texts, spans)


def _assert_same(got, reference, spans) -> None:
    cosines = np.sum(got.vectors * reference.vectors, axis=1)
    assert cosines.min() >= 0.9999
    for mine, theirs, passage_spans in zip(got.sentence_vectors, reference.sentence_vectors, spans):
        assert mine.shape == theirs.shape == (len(passage_spans), reference.vectors.shape[1])
        if len(mine):
            assert np.sum(mine * theirs, axis=1).min() >= 0.9999


@needs_ray
@pytest.mark.slow
def test_ray_gives_the_local_vectors_in_order(ray_encoder, local_reference) -> None:
    texts, spans, reference = local_reference
    assert len(texts) == 50
    progress: list[int] = []
    got = ray_encoder().encode(texts, spans, on_progress=progress.append)
    assert sum(progress) == len(texts)
    assert got.vectors.dtype == np.float32 and got.vectors.shape == reference.vectors.shape
    _assert_same(got, reference, spans)


@needs_ray
@pytest.mark.slow
def test_empty_input_needs_no_actor(ray_encoder) -> None:
    got = ray_encoder().encode([], [])
    assert got.vectors.shape == (0, 384)
    assert got.sentence_vectors == []


@needs_ray
@pytest.mark.slow
def test_cuda_on_a_cluster_without_gpus_is_one_line(ray_encoder) -> None:
    import ray

    ray_encoder()  # make sure the instance is up
    if ray.cluster_resources().get("GPU", 0) >= 1:
        pytest.skip("this Ray instance has GPUs")
    from qa.embed.model import resolve_model

    with pytest.raises(QAError) as info:
        ray_embed.RayPassageEncoder(resolve_model(None), None, device="cuda")
    assert "the Ray cluster has no GPUs" in str(info.value) and "\n" not in str(info.value)
    assert ray.is_initialized()  # a refused encoder leaves the instance it did not start


def _descendants(root: int) -> list[int]:
    """Process ids below ``root`` (Linux /proc), without psutil."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_one_map_worker() -> int:
    for pid in _descendants(os.getpid()):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"MapWorker" in title and b"EmbedActor" in title:
            os.kill(pid, signal.SIGKILL)
            return pid
    return 0


@needs_ray
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the actor's process through /proc")
def test_a_killed_worker_is_retried_and_the_result_is_complete(ray_encoder, local_reference) -> None:
    texts, spans, reference = local_reference
    killed: list[int] = []
    progress: list[int] = []

    def on_progress(n: int) -> None:
        progress.append(n)
        if not killed:
            killed.append(_kill_one_map_worker())

    got = ray_encoder().encode(texts, spans, on_progress=on_progress)
    assert killed and killed[0] > 0, "no EmbedActor process found to kill"
    assert sum(progress) == len(texts)
    assert np.all(np.linalg.norm(got.vectors, axis=1) > 0.99)  # every row filled
    _assert_same(got, reference, spans)


@needs_ray
@pytest.mark.slow
def test_ctrl_c_shuts_the_local_instance_down(ray_encoder, local_reference) -> None:
    import ray

    texts, spans, _ = local_reference
    encoder = ray_encoder()
    assert encoder._initialised_here

    def interrupt(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        encoder.encode(texts, spans, on_progress=interrupt)
    assert not ray.is_initialized()
    encoder.close()  # a second close is harmless
