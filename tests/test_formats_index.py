"""Every format through `qa index` and `qa ask`/`qa show`: records, pages, bad files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pdf_fixtures import paragraphs, write_encrypted, write_report
from qa.cli.app import app

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("archive")
    folder = root / "news"
    folder.mkdir()
    shutil.copy(FIXTURES / "records" / "kaggle.csv", folder)
    shutil.copy(FIXTURES / "html" / "article.html", folder)
    lines = (FIXTURES / "records" / "news.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "dump.jsonl").write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    placed = write_report(folder / "report.pdf", paragraphs(6, seed=3), title="Annual harbour report",
                          header="Harbour Authority", break_before={3})
    write_encrypted(folder / "locked.pdf", "secret")
    (folder / "empty.pdf").write_bytes(b"")
    index_dir = root / "index"
    result = invoke("index", str(folder), "--model", "hashing", "--index-dir", str(index_dir))
    assert result.exit_code == 0, result.stderr
    return folder, index_dir, (placed, result)


def test_bad_files_are_one_line_warnings_and_the_rest_is_indexed(archive):
    folder, index_dir, (_, result) = archive
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert any("dump.jsonl:2" in w for w in warnings)  # the malformed line, by number
    assert any("locked.pdf" in w and "encrypted" in w for w in warnings)
    assert any("empty.pdf" in w for w in warnings)
    assert "Traceback" not in result.output
    paths = {Path(a["path"]).name for a in json.loads(
        invoke("sources", "--json", "--index-dir", str(index_dir)).stdout)}
    assert {"kaggle.csv", "article.html", "dump.jsonl", "report.pdf"} <= paths
    assert "locked.pdf" not in paths


def test_records_keep_their_number_and_metadata(archive):
    folder, index_dir, _ = archive
    articles = json.loads(invoke("sources", "--json", "--index-dir", str(index_dir)).stdout)
    dump = [a for a in articles if a["path"].endswith("dump.jsonl")]
    source = [json.loads(line) for line in (FIXTURES / "records" / "news.jsonl").read_text().splitlines()
              if line.strip()]
    # line 2 of the indexed file is the malformed one: records keep their line numbers
    assert sorted(a["record"] for a in dump)[0] == 1 and 2 not in {a["record"] for a in dump}
    first = next(a for a in dump if a["record"] == 1)
    assert first["title"] == source[0]["title"]
    assert first["date"] == source[0]["date_publish"][:10]
    csv_rows = [a for a in articles if a["path"].endswith("kaggle.csv")]
    assert {a["outlet"] for a in csv_rows} >= {"Atlantic"} and all(a["record"] for a in csv_rows)


def test_show_takes_a_records_reference(archive):
    folder, index_dir, _ = archive
    ref = f"{folder / 'dump.jsonl'}#1"
    obj = json.loads(invoke("show", ref, "--json", "--index-dir", str(index_dir)).stdout)
    assert obj["record"] == 1 and "harbour reopened" in obj["passages"][0]["text"].lower()
    missing = invoke("show", f"{folder / 'dump.jsonl'}#999", "--index-dir", str(index_dir))
    assert missing.exit_code == 1 and len(missing.stderr.strip().splitlines()) == 1


def test_pdf_passages_know_their_page_and_drop_running_headers(archive):
    folder, index_dir, (placed, _) = archive
    obj = json.loads(invoke("show", str(folder / "report.pdf"), "--json", "--index-dir", str(index_dir)).stdout)
    assert obj["title"] == "Annual harbour report"
    assert all(p["page"] >= 1 for p in obj["passages"])
    assert not any(p["text"].strip() == "Harbour Authority" for p in obj["passages"])
    assert max(p["page"] for p in obj["passages"]) >= 2  # paragraph 4 starts on a new page


def test_hits_carry_record_and_page(archive):
    folder, index_dir, _ = archive
    hit = json.loads(invoke("ask", "harbour reopened after storms", "--json", "-k", "10",
                            "--index-dir", str(index_dir)).stdout)["results"]
    records = [r for r in hit if r["source"]["path"].endswith("dump.jsonl")]
    assert records and all(isinstance(r["source"]["record"], int) for r in records)
    pages = [r for r in hit if r["source"]["path"].endswith("report.pdf")]
    assert all(isinstance(r["source"]["page"], int) for r in pages)


def test_a_dump_without_a_text_column_names_its_columns(tmp_path):
    bad = tmp_path / "odd.csv"
    bad.write_text("id,score,flag\n1,2,yes\n", encoding="utf-8")
    result = invoke("index", str(bad), "--model", "hashing", "--index-dir", str(tmp_path / "ix"))
    assert result.exit_code == 0  # warned and skipped, nothing else to index
    assert "id" in result.stderr and "--fields" in result.stderr
    fields = invoke("index", str(bad), "--fields", "txt=score", "--index-dir", str(tmp_path / "ix"))
    assert fields.exit_code == 1 and len(fields.stderr.strip().splitlines()) == 1
