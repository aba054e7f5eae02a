"""The command line as a user meets it: output, the JSON contract, errors, lazy imports."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from qa.cli.app import app

runner = CliRunner()
QUESTION = "what did Peskov say about tanks"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def check_contract(obj: dict, question: str, k: int) -> None:
    assert set(obj) == {"question", "no_match", "results"}
    assert obj["question"] == question and isinstance(obj["no_match"], bool)
    assert [r["rank"] for r in obj["results"]] == list(range(1, k + 1))
    for r in obj["results"]:
        assert set(r) == {
            "rank", "score", "relevance", "passage_id", "text", "answer", "speaker", "source",
            "first", "also_in",
        }
        assert isinstance(r["first"], bool)
        assert r["speaker"] is None or isinstance(r["speaker"], str)
        assert isinstance(r["score"], float) and isinstance(r["passage_id"], int)
        assert 0.0 <= r["relevance"] <= 1.0 and isinstance(r["also_in"], list)
        assert isinstance(r["text"], str) and r["answer"] and r["answer"] in r["text"]
        src = r["source"]
        assert set(src) == {
            "path", "record", "paragraph", "paragraph_end", "page",
            "title", "outlet", "date", "author", "url",
        }
        assert isinstance(src["path"], str) and isinstance(src["paragraph"], int)
        assert src["paragraph_end"] is None or src["paragraph_end"] > src["paragraph"]
        assert src["record"] is None and src["page"] is None  # .txt files: neither
        for key in ("title", "outlet", "date", "author", "url"):
            assert src[key] is None or isinstance(src[key], str)
        assert src["date"] is None or ISO_DATE.match(src["date"])
    scores = [r["score"] for r in obj["results"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_json_is_the_contract(seed_index_dir):
    result = invoke("ask", QUESTION, "--json", "-k", "3", "--index-dir", str(seed_index_dir))
    assert result.exit_code == 0
    obj = json.loads(result.stdout)
    check_contract(obj, QUESTION, 3)
    first = obj["results"][0]
    assert "will burn as other tanks" in first["text"]
    assert first["source"]["outlet"] == "Anadolu Agency"
    assert first["source"]["date"] == "2023-01-25"
    assert first["source"]["path"].startswith("data/")


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_answers(seed_index_dir, mode):
    result = invoke("ask", QUESTION, "--json", "--mode", mode, "--index-dir", str(seed_index_dir))
    obj = json.loads(result.stdout)
    check_contract(obj, QUESTION, 5)
    assert any("Abrams" in r["text"] for r in obj["results"][:3])


def test_ask_json_lines_from_stdin(seed_index_dir):
    questions = [QUESTION, "", "Which computer does Putin use?"]
    result = invoke(
        "ask", "-", "--json", "-k", "2", "--index-dir", str(seed_index_dir),
        input="\n".join(questions) + "\n",
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    objs = [json.loads(line) for line in lines]
    check_contract(objs[0], QUESTION, 2)
    check_contract(objs[1], "Which computer does Putin use?", 2)
    assert "secure computer" in objs[1]["results"][0]["text"]


def test_ask_text_shows_source_and_answer(real_seed_index_dir):
    seed_index_dir = real_seed_index_dir  # the real answer, as a user reads it
    result = invoke("ask", QUESTION, "-k", "2", "--index-dir", str(seed_index_dir))
    assert result.exit_code == 0
    text = result.stdout
    assert re.match(r"1\. \[\d\.\d{2}\] Anadolu Agency · 2023-01-25 · Kremlin says", text.lstrip())
    assert re.search(r"data/anadolu-kremlin-no-prospects-for-peace-talks\.txt:\d+", text)
    assert "will burn as other tanks" in text
    assert "said by Dmitry Peskov" in text  # who the answer quotes, as the article names him
    assert "2. " in text


def test_sources_lists_every_article(seed_index_dir):
    result = invoke("sources", "--json", "--index-dir", str(seed_index_dir))
    articles = json.loads(result.stdout)
    assert len(articles) == 5
    assert all(a["passages"] > 0 for a in articles)
    anadolu = next(a for a in articles if "anadolu" in a["path"])
    assert anadolu["outlet"] == "Anadolu Agency" and anadolu["date"] == "2023-01-25"
    text = invoke("sources", "--index-dir", str(seed_index_dir)).stdout
    header, *lines = text.strip().splitlines()
    assert header.startswith(f"Index: {seed_index_dir}/ (vectors: flat")  # which index, what kind
    assert len(lines) == 5
    assert "Anadolu Agency  2023-01-25  Kremlin says" in text


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("Error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message


def test_ask_without_index_says_run_index(tmp_path):
    one_line_error(invoke("ask", "anything", "--index-dir", str(tmp_path / "none")), "qa index")


def test_sources_without_index_says_run_index(tmp_path):
    one_line_error(invoke("sources", "--index-dir", str(tmp_path / "none")), "qa index")


def test_empty_question_is_refused(seed_index_dir):
    one_line_error(invoke("ask", "   ", "--index-dir", str(seed_index_dir)), "empty")


def test_missing_path_is_refused_and_index_kept(seed_index_copy, tmp_path):
    before = (seed_index_copy / "qa.sqlite").stat().st_mtime_ns
    result = invoke("index", str(tmp_path / "nope"), "--index-dir", str(seed_index_copy))
    one_line_error(result, "does not exist")
    assert (seed_index_copy / "qa.sqlite").stat().st_mtime_ns == before


def test_unknown_model_is_refused(seed_index_dir):
    result = invoke("ask", QUESTION, "--model", "no-such-model-xyz", "--index-dir", str(seed_index_dir))
    one_line_error(result, "no-such-model-xyz", "--model")


def test_index_with_other_model_names_both(real_seed_index_copy, tmp_path):
    seed_index_copy = real_seed_index_copy  # built with the default model
    other = tmp_path / "other-model"
    other.mkdir()
    result = invoke("index", "data", "--model", str(other), "--index-dir", str(seed_index_copy))
    one_line_error(result, "all-MiniLM-L6-v2", str(other), "--rebuild")


def test_fts_operators_in_question_do_not_break_search(seed_index_dir):
    result = invoke("ask", '"AND OR NOT * ( ) NEAR: tanks', "--json", "--index-dir", str(seed_index_dir))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["results"]


def test_every_command_has_help():
    for command in ("index", "ask", "sources", "show", "bench"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.stdout
        assert "--index-dir" in result.stdout
        assert ("--model" in result.stdout) == (command in ("index", "ask", "bench"))


HEAVY = ("torch", "transformers", "sentence_transformers")


def test_cli_import_and_help_stay_light():
    code = (
        "import sys, runpy\n"
        "import qa.cli.app\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "sys.argv = ['qa', '--help']\n"
        "try:\n    qa.cli.app.main()\nexcept SystemExit:\n    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "ask" in proc.stdout and "index" in proc.stdout


def test_ask_does_not_import_torch(seed_index_dir):
    code = (
        "import sys\n"
        "import qa.cli.app\n"
        f"sys.argv = ['qa', 'ask', 'tanks', '--json', '--index-dir', {str(seed_index_dir)!r}]\n"
        "try:\n    qa.cli.app.main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["results"]


def test_sources_stays_light(seed_index_dir):
    """`qa sources` needs neither the model runtimes nor numpy/faiss (keeps it well under 0.3 s)."""
    code = (
        "import sys\n"
        "import qa.cli.app\n"
        f"sys.argv = ['qa', 'sources', '--index-dir', {str(seed_index_dir)!r}]\n"
        "try:\n    qa.cli.app.main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'onnxruntime',\n"
        "                     'faiss', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Anadolu Agency" in proc.stdout
