"""Wire copy republished with small edits is one hit, with the other copies as also_in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli.app import app
from qa.index.shingles import overlap, shingle_hashes
from conftest import DATA

runner = CliRunner()
STORY = DATA / "anadolu-kremlin-no-prospects-for-peace-talks.txt"
QUESTION = "what did Peskov say about Abrams tanks"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def wire_index(tmp_path_factory) -> tuple[Path, Path]:
    """The seed articles plus two edited copies of one of them in another folder."""
    root = tmp_path_factory.mktemp("wire")
    copies = root / "copies"
    copies.mkdir()
    lines = STORY.read_text(encoding="utf-8").splitlines()
    # another byline and a trimmed end
    (copies / "reprint.txt").write_text(
        "\n".join(line.replace("Elena Teslova", "Staff Reporter") for line in lines[:-4]) + "\n",
        encoding="utf-8",
    )
    # a changed first line
    (copies / "syndicated.txt").write_text(
        "Kremlin sees no chance of talks resuming, says spokesman\n" + "\n".join(lines[1:]) + "\n",
        encoding="utf-8",
    )
    index_dir = root / "index"
    result = invoke("index", str(DATA), str(copies), "--model", "hashing", "--index-dir", str(index_dir))
    assert result.exit_code == 0, result.stderr
    return index_dir, copies


def ask(index_dir: Path, *args: str) -> dict:
    result = invoke("ask", QUESTION, "--json", "--index-dir", str(index_dir), *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_shingle_overlap_separates_copies_from_other_text():
    a = "Peskov said if Abrams tanks are delivered to Ukraine they will burn as other tanks"
    assert overlap(shingle_hashes(a), shingle_hashes(a.replace("Peskov", "The spokesman"))) > 0.5
    assert overlap(shingle_hashes(a), shingle_hashes("Leopard tanks from Germany were discussed in Berlin")) < 0.1


def test_copies_are_one_hit_naming_the_others(wire_index):
    index_dir, copies = wire_index
    obj = ask(index_dir, "-k", "5")
    first = obj["results"][0]
    assert "will burn as other tanks" in first["text"]
    others = {Path(c["path"]).name for c in first["also_in"]}
    files = {Path(first["source"]["path"]).name} | others
    assert files == {STORY.name, "reprint.txt", "syndicated.txt"}
    texts = [r["text"] for r in obj["results"]]
    assert sum("will burn as other tanks" in t for t in texts) == 1


def test_k_distinct_hits_are_still_returned_when_copies_collapse(wire_index):
    index_dir, _ = wire_index
    every_passage = ask(index_dir, "-k", "100", "--no-collapse")["results"]
    groups = ask(index_dir, "-k", "100")["results"]
    copies = sum(len(r["also_in"]) for r in groups)
    assert copies > 0 and len(groups) + copies == len(every_passage)  # each passage shown once
    for k in (3, 10, len(groups), len(groups) + 5):
        obj = ask(index_dir, "-k", str(k))
        assert len(obj["results"]) == min(k, len(groups))
        assert len({r["passage_id"] for r in obj["results"]}) == len(obj["results"])


def test_no_collapse_shows_every_copy(wire_index):
    index_dir, _ = wire_index
    obj = ask(index_dir, "-k", "10", "--no-collapse")
    burning = [r for r in obj["results"] if "will burn as other tanks" in r["text"]]
    assert len(burning) == 3
    assert all(r["also_in"] == [] for r in obj["results"])
    text = invoke("ask", QUESTION, "--index-dir", str(index_dir), "-k", "1").stdout
    assert "also in:" in text


def test_different_stories_on_one_topic_are_never_merged(wire_index):
    """The five seed articles all cover the same peace talks; none copies another."""
    index_dir, _ = wire_index
    seeds = {p.name for p in DATA.glob("*.txt")}
    for question in ("peace talks prospects", "Peskov on negotiations with Ukraine", "tension on the border"):
        result = invoke("ask", question, "--json", "-k", "20", "--index-dir", str(index_dir))
        for r in json.loads(result.stdout)["results"]:
            names = {Path(r["source"]["path"]).name} | {Path(c["path"]).name for c in r["also_in"]}
            assert len(names & seeds) <= 1, names


def test_duplicate_marking_resumes_after_new_files(wire_index, tmp_path):
    index_dir, copies = wire_index
    work = tmp_path / "index"
    shutil.copytree(index_dir, work)
    extra = tmp_path / "more"
    extra.mkdir()
    shutil.copy(copies / "reprint.txt", extra / "third-copy.txt")
    result = invoke("index", str(extra), "--index-dir", str(work))
    assert result.exit_code == 0, result.stderr
    first = ask(work, "-k", "1")["results"][0]
    assert "third-copy.txt" in {Path(c["path"]).name for c in first["also_in"]} | {Path(first["source"]["path"]).name}
