"""The index folder: one layout object names its files; qa finds the index from anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.index.layout import ENV_VAR, IndexLayout, find_index_dir


def make_index(folder: Path) -> Path:
    index = folder / "index"
    index.mkdir(parents=True)
    IndexLayout(index).db.write_bytes(b"")
    return index


def test_explicit_folder_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert find_index_dir(tmp_path / "given", cwd=tmp_path) == tmp_path / "given"


def test_environment_comes_next(tmp_path, monkeypatch):
    make_index(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert find_index_dir(None, cwd=tmp_path) == tmp_path / "from-env"


def test_the_nearest_index_in_a_parent_folder_is_found(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    outer = make_index(tmp_path)
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_index_dir(None, cwd=deep) == outer.resolve()
    inner = make_index(tmp_path / "a")
    assert find_index_dir(None, cwd=deep) == inner.resolve()  # the nearest one
    assert find_index_dir(None, cwd=tmp_path) == Path("index")  # here: shown relative


def test_a_folder_named_index_without_a_database_is_not_an_index(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    (tmp_path / "index").mkdir()
    (tmp_path / "sub").mkdir()
    assert find_index_dir(None, cwd=tmp_path / "sub") == Path("index")  # the default


@pytest.mark.parametrize("generation", [0, 7])
def test_layout_names_every_file(tmp_path, generation):
    layout = IndexLayout(tmp_path)
    names = {layout.db.name, layout.manifest.name, layout.encoder_dir.name, layout.lock.name,
             layout.faiss(generation).name}
    assert len(names) == 5 and all(p.parent == tmp_path for p in (layout.db, layout.faiss(generation)))
    layout.faiss(generation).write_bytes(b"x")
    assert layout.faiss_files() == {generation: layout.faiss(generation)}


def test_ask_from_a_sub_folder_uses_the_index_above(seed_index_dir, tmp_path, monkeypatch):
    import shutil

    from typer.testing import CliRunner

    from qa.cli.app import app

    monkeypatch.delenv(ENV_VAR, raising=False)
    shutil.copytree(seed_index_dir, tmp_path / "index")
    sub = tmp_path / "notes" / "2023"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    result = CliRunner().invoke(app, ["sources"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Index: {(tmp_path / 'index').resolve()}/")
