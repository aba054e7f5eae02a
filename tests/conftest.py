"""Shared fixtures: the seed articles indexed once per session with the real packaged model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared"
BBC = SHARED / "corpora" / "bbc"
SCIFACT = SHARED / "corpora" / "scifact"


def _build_each_cli_once() -> None:
    """Typer's CliRunner turns the Typer app into its click command tree on every ``invoke``
    (~10 ms: every signature and type hint is read again; ~300 invokes in the suite). Build the
    tree once per app, as `qa` does once per process, and hand the same tree to each invoke:
    parsing, callbacks and output run exactly as before. Built again if commands are added."""
    import typer.testing

    build = getattr(typer.testing, "_get_command", None)
    if build is None or getattr(build, "_qa_cached", False):
        return  # another typer version: leave it alone
    built: dict[int, tuple[object, tuple, object]] = {}

    def build_once(app):
        registrations = (tuple(app.registered_commands), tuple(app.registered_groups),
                         app.registered_callback)
        entry = built.get(id(app))
        if entry is None or entry[0] is not app or entry[1] != registrations:
            entry = built[id(app)] = (app, registrations, build(app))
        return entry[2]

    build_once._qa_cached = True
    typer.testing._get_command = build_once


_build_each_cli_once()


class RecordingProgress:
    """The indexer's Progress protocol, recording instead of drawing."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.total = 0
        self.done = 0

    def start(self, total: int, description: str, unit: str = "passages") -> None:
        self.total += total

    def advance(self, n: int) -> None:
        self.done += n

    def stop(self) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test reads the user's index or model settings by accident."""
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "default-index"))


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory) -> Path:
    """An index of data/ with the hashing test embedder, built once (in a fraction of a
    second); tests must not modify it (copy it first). For logic, contracts and faults."""
    from qa.index.indexer import run_index

    index_dir = tmp_path_factory.mktemp("seed-index")
    run_index(index_dir, [DATA], "hashing", RecordingProgress())
    return index_dir


@pytest.fixture(scope="session")
def real_seed_index_dir(tmp_path_factory) -> Path:
    """An index of data/ with the real packaged model, built once: for ranking and parity."""
    from qa.index.indexer import run_index

    index_dir = tmp_path_factory.mktemp("real-seed-index")
    run_index(index_dir, [DATA], None, RecordingProgress())
    return index_dir


@pytest.fixture()
def seed_index_copy(seed_index_dir, tmp_path) -> Path:
    """A private copy of the seed index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(seed_index_dir, target)
    return target


@pytest.fixture()
def real_seed_index_copy(real_seed_index_dir, tmp_path) -> Path:
    """A private copy of the real-model seed index that a test may change."""
    target = tmp_path / "index"
    shutil.copytree(real_seed_index_dir, target)
    return target


@pytest.fixture(scope="session")
def searcher(real_seed_index_dir):
    """The real-model seed index, open for ranking tests."""
    from qa.search.searcher import Searcher

    s = Searcher(real_seed_index_dir, None, notice=lambda m: None)
    yield s
    s.close()
