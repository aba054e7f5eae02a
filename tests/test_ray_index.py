"""`qa index --ray`: the same index as a local run, faults handled (slow: starts Ray)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa.cli.app import app
from conftest import DATA

runner = CliRunner()
QUESTIONS = [
    "what did Peskov say about tanks", "who attacked government websites",
    "is there any progress in the peace talks", "what weapons has the west sent to Ukraine",
    "why is the Kremlin worried about the border", "what did Biden say about Putin",
    "Doomsday Clock", "private military companies", "Leopard tanks from Germany",
    "when did Russia and NATO meet", "what does Moscow want from Washington",
    "Killnet hackers", "negotiations in Istanbul", "who pays for the American tanks",
    "is Kyiv planning strikes on Moscow", "what computer does Putin use",
    "troops near the Ukrainian border", "prisoner exchange", "security guarantees for Russia",
    "what did Lavrov say",
]


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def top5(index_dir) -> list[list[str]]:
    result = invoke("ask", "-", "--json", "-k", "5", "--index-dir", str(index_dir),
                    input="\n".join(QUESTIONS) + "\n")
    assert result.exit_code == 0, result.stderr
    return [[r["text"] for r in json.loads(line)["results"]] for line in result.stdout.splitlines()]


def test_unreachable_address_fails_in_one_line_and_writes_nothing(tmp_path):
    index_dir = tmp_path / "index"
    result = invoke("index", str(DATA), "--ray", "127.0.0.1:1", "--index-dir", str(index_dir))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not index_dir.exists()


@pytest.mark.slow
def test_ray_index_answers_as_a_local_one(real_seed_index_dir, tmp_path):
    pytest.importorskip("ray")
    index_dir = tmp_path / "ray-index"
    result = invoke("index", str(DATA), "--ray", "local", "--ray-workers", "2",
                    "--index-dir", str(index_dir))
    assert result.exit_code == 0, result.stderr
    same = sum(a == b for a, b in zip(top5(index_dir), top5(real_seed_index_dir)))
    assert same >= 19, f"{same}/20 questions have the same top 5"
