"""`qa show`: an article as qa parsed it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa.cli.app import app
from conftest import DATA

runner = CliRunner()
STORY = DATA / "anadolu-kremlin-no-prospects-for-peace-talks.txt"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_show_json_is_the_parsed_article(seed_index_dir):
    result = invoke("show", str(STORY), "--json", "--index-dir", str(seed_index_dir))
    assert result.exit_code == 0, result.stderr
    obj = json.loads(result.stdout)
    assert set(obj) == {"path", "record", "title", "outlet", "date", "author", "url", "passages"}
    assert obj["outlet"] == "Anadolu Agency" and obj["date"] == "2023-01-25" and obj["record"] is None
    assert obj["title"] == "Kremlin says 'no prospects' for resumption of Russia-Ukraine peace talks"
    text = STORY.read_text(encoding="utf-8")
    assert obj["passages"] and all(p["text"].split("\n")[0] in text for p in obj["passages"])
    assert any("will burn as other tanks" in p["text"] for p in obj["passages"])
    numbers = [p["paragraph"] for p in obj["passages"]]
    assert numbers == sorted(numbers) and numbers[0] == 1


def test_show_accepts_the_path_as_qa_prints_it(seed_index_dir, monkeypatch):
    monkeypatch.chdir(DATA.parent)
    relative = f"data/{STORY.name}"
    result = invoke("show", relative, "--index-dir", str(seed_index_dir))
    assert result.exit_code == 0, result.stderr
    assert "Anadolu Agency" in result.stdout and relative in result.stdout


@pytest.mark.parametrize("ref", ["/etc/passwd", "../../etc/passwd", "data/nothing.txt", "x#3", ""])
def test_unknown_refs_are_one_line_errors(seed_index_dir, ref):
    result = invoke("show", ref, "--index-dir", str(seed_index_dir))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
