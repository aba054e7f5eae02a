"""`qa quotes`, the quotes table at index time, the speaker in `qa ask`, and hostile input to
`qa quotes`, `/quotes`, the MCP `quotes` tool and `:quotes` (hashing embedder: logic only)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DATA, RecordingProgress
from qa.cli.app import app

runner = CliRunner()
PESKOV_FILES = {p.name for p in DATA.glob("*.txt") if "Peskov" in p.read_text(encoding="utf-8")}


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def quotes_json(index_dir: Path, *args: str) -> list[dict]:
    result = invoke("quotes", *args, "--json", "--index-dir", str(index_dir))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_quotes_json_is_the_contract(seed_index_dir):
    listed = quotes_json(seed_index_dir, "Peskov")
    asked = json.loads(invoke("ask", "tanks", "--json", "--index-dir", str(seed_index_dir)).stdout)
    source_keys = set(asked["results"][0]["source"])
    assert listed
    for q in listed:
        assert set(q) == {"speaker", "quote", "kind", "source"}
        assert q["speaker"] == "Dmitry Peskov" and q["kind"] in ("direct", "indirect")
        assert set(q["source"]) == source_keys
    assert {Path(q["source"]["path"]).name for q in listed} <= PESKOV_FILES
    assert any('"' in q["quote"] or "\u201c" in q["quote"] for q in listed if q["kind"] == "direct")


def test_quotes_are_oldest_first_and_every_quote_is_a_sentence_of_its_passage(seed_index_dir):
    listed = quotes_json(seed_index_dir)
    dates = [q["source"]["date"] for q in listed if q["source"]["date"]]
    assert dates == sorted(dates)
    show = {}
    for q in listed:
        path = q["source"]["path"]
        if path not in show:
            show[path] = json.loads(invoke("show", path, "--json", "--index-dir",
                                           str(seed_index_dir)).stdout)
        assert any(q["quote"] in p["text"] for p in show[path]["passages"])


@pytest.mark.parametrize("name", ["peskov", "Dmitry Peskov", "PESKOV", "mr peskov"])
def test_speaker_matches_any_part_of_the_name_in_any_case(seed_index_dir, name):
    assert {q["speaker"] for q in quotes_json(seed_index_dir, name)} == {"Dmitry Peskov"}


def test_k_caps_and_scope_filters(seed_index_dir):
    assert len(quotes_json(seed_index_dir, "-k", "3")) == 3
    scoped = quotes_json(seed_index_dir, "Peskov", "--outlet", "Anadolu Agency")
    assert scoped and {q["source"]["outlet"] for q in scoped} == {"Anadolu Agency"}
    assert quotes_json(seed_index_dir, "Peskov", "--since", "2030") == []


def test_speakers_lists_counts_most_quoted_first(seed_index_dir):
    rows = quotes_json(seed_index_dir, "--speakers")
    assert rows[0]["speaker"] == "Dmitry Peskov"
    counts = [r["quotes"] for r in rows]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == len(quotes_json(seed_index_dir))


def test_about_ranks_the_speakers_quotes(seed_index_dir):
    ranked = quotes_json(seed_index_dir, "Peskov", "--about", "Abrams tanks", "-k", "3")
    assert len(ranked) == 3 and all("relevance" in q for q in ranked)
    assert [q["relevance"] for q in ranked] == sorted((q["relevance"] for q in ranked), reverse=True)
    everyone = quotes_json(seed_index_dir, "--about", "tanks", "-k", "5")
    assert len(everyone) == 5


def test_text_output_groups_by_article(seed_index_dir):
    result = invoke("quotes", "Peskov", "--index-dir", str(seed_index_dir))
    assert result.exit_code == 0
    assert "Dmitry Peskov (direct)" in result.stdout and "Anadolu Agency" in result.stdout


@pytest.mark.parametrize("args,fragment", [
    (["Pesko"], "Closest names: Dmitry Peskov"),
    (["Nobody Atall"], "no quotes by 'Nobody Atall'"),
    ([""], "speaker is empty"),
    (["x" * 300], "over 200"),
    (["Peskov", "--sort", "relevance"], "needs --about"),
    (["--about", "   "], "--about is empty"),
    (["--since", "2023-13"], "month 13"),
])
def test_bad_input_is_one_line_and_exit_1(seed_index_dir, args, fragment):
    result = runner.invoke(app, ["quotes", *args, "--index-dir", str(seed_index_dir)])
    assert result.exit_code == 1, result.output
    assert result.stdout == "" or "Error" in result.output
    lines = result.output.strip().splitlines()
    assert fragment in " ".join(lines) and "Traceback" not in result.output
    assert lines[0].startswith("Error:")


def test_bad_option_values_exit_2(seed_index_dir):
    for args in (["--sort", "bogus"], ["-k", "0"]):
        result = runner.invoke(app, ["quotes", *args, "--index-dir", str(seed_index_dir)])
        assert result.exit_code == 2


def test_index_built_before_attribution_says_run_qa_index_again(seed_index_dir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(seed_index_dir, old)
    conn = sqlite3.connect(old / "qa.sqlite")
    conn.execute("DROP TABLE quotes")
    conn.execute("DELETE FROM meta WHERE key = 'attribution'")
    conn.commit()
    conn.close()
    result = runner.invoke(app, ["quotes", "Peskov", "--index-dir", str(old)])
    assert result.exit_code == 1
    assert "before qa attributed quotes" in result.output and "qa index" in result.output
    assert len(result.output.strip().splitlines()) <= 2  # one line (wrapped at most once)
    assert invoke("ask", "tanks", "--index-dir", str(old)).exit_code == 0  # ask still works
    from qa.index.indexer import run_index

    run_index(old, [DATA], "hashing", RecordingProgress())  # nothing changed: re-attributes
    assert quotes_json(old, "Peskov") == quotes_json(seed_index_dir, "Peskov")


def test_indexing_attributes_only_new_and_changed_articles(tmp_path):
    from qa.index.indexer import run_index

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    index = tmp_path / "index"
    run_index(index, [data], "hashing", RecordingProgress())

    def rows() -> dict[str, list[tuple]]:
        conn = sqlite3.connect(index / "qa.sqlite")
        found: dict[str, list[tuple]] = {}
        for path, *quote in conn.execute(
            "SELECT f.path, q.rowid, q.speaker, q.start_char FROM quotes q "
            "JOIN passages p ON p.id = q.passage_id JOIN articles a ON a.id = p.article_id "
            "JOIN files f ON f.id = a.file_id ORDER BY q.rowid"
        ):
            found.setdefault(Path(path).name, []).append(tuple(quote))
        conn.close()
        return found

    before = rows()
    changed = data / "little-ground-for-optimism.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + '\n"We are ready," Maria Lopez said.\n',
                       encoding="utf-8")
    (data / "realnoe-vremya-peskov-on-talks.txt").unlink()
    run_index(index, [data], "hashing", RecordingProgress())
    after = rows()
    assert "realnoe-vremya-peskov-on-talks.txt" not in after  # gone with its passages
    for name in before:
        if name not in (changed.name, "realnoe-vremya-peskov-on-talks.txt"):
            assert after[name] == before[name]  # the same rows: not rewritten
    assert ("Maria Lopez" in {speaker for _, speaker, _ in after[changed.name]})


def test_ask_json_names_the_speaker_of_the_answer(seed_index_dir):
    out = json.loads(invoke("ask", "what did Peskov say about tanks", "--json", "--index-dir",
                            str(seed_index_dir)).stdout)
    first = out["results"][0]
    assert first["speaker"] == "Dmitry Peskov"
    listed = {q["quote"] for q in quotes_json(seed_index_dir, "Peskov")}
    assert any(quote in first["answer"] for quote in listed)  # (with context when widened)
    plain = json.loads(invoke("ask", "Leopard tanks", "--json", "--index-dir",
                              str(seed_index_dir)).stdout)
    quoted = {q["quote"]: q["speaker"] for q in quotes_json(seed_index_dir)}
    for hit in plain["results"]:
        inside = {speaker for quote, speaker in quoted.items() if quote in hit["answer"]}
        assert hit["speaker"] in inside if hit["speaker"] else True
        if not inside:
            assert hit["speaker"] is None


def test_quotes_stays_light(seed_index_dir):
    """`qa quotes` without --about needs no model runtime, numpy or faiss."""
    code = (
        "import sys\n"
        "import qa.cli.app\n"
        f"sys.argv = ['qa', 'quotes', 'Peskov', '--index-dir', {str(seed_index_dir)!r}]\n"
        "try:\n    qa.cli.app.main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'onnxruntime',\n"
        "                     'faiss', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Dmitry Peskov" in proc.stdout


# ---- the interfaces ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def service(seed_index_dir):
    from qa.interfaces.service import QAService

    svc = QAService(seed_index_dir)
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def client(seed_index_dir, service):
    from fastapi.testclient import TestClient

    from qa.interfaces.server import ServerSettings, create_app

    return TestClient(create_app(ServerSettings(seed_index_dir), service),
                      base_url="http://127.0.0.1")


def test_http_quotes_is_the_cli_list(client, seed_index_dir):
    got = client.get("/quotes", params={"speaker": "Peskov"})
    assert got.status_code == 200
    assert got.json() == quotes_json(seed_index_dir, "Peskov")
    speakers = client.get("/quotes", params={"speakers": "true"})
    assert speakers.json() == quotes_json(seed_index_dir, "--speakers")
    about = client.get("/quotes", params={"speaker": "Peskov", "about": "tanks", "k": 2})
    assert about.status_code == 200 and len(about.json()) == 2


@pytest.mark.parametrize("params,status,fragment", [
    ({"speaker": "Pesko"}, 422, "Closest names"),
    ({"speaker": "x" * 2001}, 413, "over the limit"),
    ({"about": "y" * 2001}, 413, "over the limit"),
    ({"k": 0}, 422, "k must be"),
    ({"k": 5000}, 422, "k must be"),
    ({"k": "lots"}, 422, ""),
    ({"sort": "bogus"}, 422, "sort"),
    ({"speaker": "Peskov", "since": "2023-13"}, 422, "month 13"),
    ({"speakers": "maybe"}, 422, ""),
])
def test_http_quotes_hostile_input(client, params, status, fragment):
    response = client.get("/quotes", params=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and fragment in body["error"]
    assert "\n" not in body["error"] and "Traceback" not in body["error"]


def test_service_refuses_non_strings(service):
    from qa.errors import BadInputError

    for kwargs in ({"speaker": 5}, {"about": ["tanks"]}, {"k": True}):
        with pytest.raises(BadInputError):
            service.quotes(**kwargs)


def test_shell_quotes_and_speakers(service):
    import io

    from rich.console import Console

    from qa.interfaces.shell import Shell

    console = Console(file=io.StringIO(), width=200, color_system=None, highlight=False)
    shell = Shell(service, console)
    shell.run([":quotes Peskov", ":quotes Peskov / tanks", ":speakers", ":quotes Pesko",
               ":quotes " + "z" * 2500, ":k 2"])
    output = console.file.getvalue()
    assert "Dmitry Peskov (direct)" in output and "Closest names: Dmitry Peskov" in output
    assert "over the limit" in output and "Traceback" not in output
    assert shell.settings.k == 2  # the session went on


def test_mcp_quotes_tool(seed_index_dir):
    import anyio

    from test_mcp import _session

    async def work(session):
        ok = await session.call_tool("quotes", {"speaker": "Peskov", "k": 3})
        bad = [await session.call_tool("quotes", args) for args in (
            {"speaker": "Pesko"}, {"k": 0}, {"speaker": "x" * 2001}, {"since": "2023-13"},
            {"speaker": 7},
        )]
        return ok, bad

    ok, bad = anyio.run(_session, seed_index_dir, work)
    assert not ok.is_error
    assert ok.structured_content["quotes"] == quotes_json(seed_index_dir, "Peskov", "-k", "3")
    for result in bad:
        assert result.is_error and "Traceback" not in result.content[0].text
    assert "Closest names" in bad[0].content[0].text
