"""The backend choice: parsing --backend, Milvus filter expressions, and the faults that need no
Milvus (missing extra, bad spec, unreachable or refusing server, mocked). Milvus Lite itself is
exercised in test_milvus.py (slow)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.backends import BackendSpec, parse_backend
from qa.backends.milvus_expr import contains, expression, literal
from qa.cli.app import app
from qa.errors import BadInputError
from qa.search.filters import Filters

DATA = Path(__file__).resolve().parents[1] / "data"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("Error: ") and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---- --backend ------------------------------------------------------------------------------
def test_local_is_the_default_and_round_trips():
    assert parse_backend("") == parse_backend("local") == BackendSpec()
    assert BackendSpec().describe() == "local"


def test_milvus_lite_path_is_made_absolute_from_the_working_folder(tmp_path):
    spec = parse_backend("milvus:./archive.db", cwd=tmp_path)
    assert (spec.kind, spec.uri, spec.collection) == ("milvus", str(tmp_path / "archive.db"), "qa_passages")
    assert spec.lite
    assert parse_backend(spec.describe()) == spec
    named = parse_backend("milvus:sub/x.db#news_2024", cwd=tmp_path)
    assert named.collection == "news_2024" and parse_backend(named.describe()) == named


@pytest.mark.parametrize("text, uri, collection", [
    ("milvus://db.example.org:19530", "http://db.example.org:19530", "qa_passages"),
    ("milvus://db.example.org", "http://db.example.org:19530", "qa_passages"),
    ("milvus://10.0.0.5:443/wire", "http://10.0.0.5:443", "wire"),
    ("milvus+https://in03.cloud.example:443/wire", "https://in03.cloud.example:443", "wire"),
    ("milvus://[::1]:19530/", "http://[::1]:19530", "qa_passages"),
])
def test_milvus_server_uris(text, uri, collection):
    spec = parse_backend(text)
    assert (spec.uri, spec.collection, spec.lite) == (uri, collection, False)
    assert parse_backend(spec.describe()) == spec


@pytest.mark.parametrize("text, fragment", [
    ("mysql://localhost", "unknown backend"),
    ("faiss", "unknown backend"),
    ("milvus:archive.sqlite", "must end in .db"),
    ("milvus:", "must end in .db"),
    ("milvus:dir/.db", "must end in .db"),
    ("milvus://", "HOST:PORT"),
    ("milvus://host:0", "HOST:PORT"),
    ("milvus://host:99999", "HOST:PORT"),
    ("milvus://ho st:19530", "HOST:PORT"),
    ("milvus://host:19530/bad-name", "collection name"),
    ("milvus://host:19530/1abc", "collection name"),
    ("milvus:x.db#drop;collection", "collection name"),
])
def test_bad_backend_specs_are_refused_with_the_accepted_forms(text, fragment):
    with pytest.raises(BadInputError) as caught:
        parse_backend(text)
    assert fragment in str(caught.value)


def test_index_with_a_bad_backend_writes_nothing(tmp_path):
    index_dir = tmp_path / "ix"
    result = invoke("index", str(DATA), "--model", "hashing", "--index-dir", str(index_dir),
                    "--backend", "postgres://localhost")
    one_line_error(result, "unknown backend", "--backend local")
    assert not index_dir.exists()


# ---- Milvus filter expressions ----------------------------------------------------------------
def test_literals_escape_quotes_backslashes_and_controls():
    assert literal('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


def test_contains_escapes_like_wildcards():
    # 100% and a_b are literal text, not wildcards; the pattern's backslashes are escaped again
    assert contains("author", "100%") == 'author like "%100\\\\%%"'
    assert contains("title", "a_b") == 'title like "%a\\\\_b%"'


def test_expression_of_each_filter():
    assert expression(Filters()) == ""
    assert expression(Filters.build(outlet=["BBC", "Reuters"])) == 'outlet in ["bbc", "reuters"]'
    assert expression(Filters.build(author="Smith")) == 'author like "%smith%"'
    assert expression(Filters.build(since="2023")) == '(date != "" and date >= "2023-01-01")'
    assert expression(Filters.build(since="2023-02", until="2023-02", undated=True)) == (
        '(date == "" or (date != "" and date >= "2023-02-01" and date <= "2023-02-28"))'
    )
    assert expression(Filters.build(path="bbc/**"), [3, 1, 3]) == "file_id in [1, 3]"
    assert expression(Filters.build(path="nothing/*"), []) == "id < 0"
    both = expression(Filters.build(outlet="bbc", title="Tank"))
    assert both == 'outlet in ["bbc"] and title like "%tank%"'


# ---- faults without a Milvus ------------------------------------------------------------------
def test_missing_extra_is_one_line_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)  # import fails as when not installed
    index_dir = tmp_path / "ix"
    result = invoke("index", str(DATA), "--model", "hashing", "--index-dir", str(index_dir),
                    "--backend", f"milvus:{tmp_path / 'a.db'}")
    one_line_error(result, "needs pymilvus", "pip install -e '.[milvus]'")
    assert not index_dir.exists() and not (tmp_path / "a.db").exists()


def _fake_pymilvus(monkeypatch, message: str) -> list[dict]:
    """A pymilvus whose client fails as a server would; records how it was called."""
    calls: list[dict] = []

    class MilvusException(Exception):
        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.message = message

    class MilvusClient:
        def __init__(self, **kwargs) -> None:
            calls.append(kwargs)
            raise MilvusException(message)

    module = types.ModuleType("pymilvus")
    module.MilvusClient = MilvusClient
    module.MilvusException = MilvusException
    monkeypatch.setitem(sys.modules, "pymilvus", module)
    stemmer = types.ModuleType("snowballstemmer")  # the extra's stemmer, absent from `make test`
    stemmer.stemmer = lambda language: types.SimpleNamespace(stemWord=lambda word: word)
    monkeypatch.setitem(sys.modules, "snowballstemmer", stemmer)
    # connect() pauses 0.5 s after a failed attempt; a fake server's refusal needs no waiting
    import qa.backends.milvus as milvus_backend

    monkeypatch.setattr(milvus_backend, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    return calls


@pytest.mark.parametrize("message, fragments", [
    ("Fail connecting to server on 127.0.0.1:19530, illegal connection params or server unavailable",
     ("cannot reach Milvus at http://127.0.0.1:19530", "Check the address")),
    ("<MilvusException: (code=1800, message=user hasn't authenticated)>",
     ("refused the token", "--token or $QA_MILVUS_TOKEN")),
])
def test_server_faults_are_one_line_and_write_nothing(tmp_path, monkeypatch, message, fragments):
    calls = _fake_pymilvus(monkeypatch, message)
    monkeypatch.setenv("QA_MILVUS_TOKEN", "root:wrong")
    index_dir = tmp_path / "ix"
    result = invoke("index", str(DATA), "--model", "hashing", "--index-dir", str(index_dir),
                    "--backend", "milvus://127.0.0.1:19530/news")
    one_line_error(result, *fragments)
    assert not index_dir.exists()
    assert calls[0]["uri"] == "http://127.0.0.1:19530" and calls[0]["token"] == "root:wrong"
    assert 0 < calls[0]["timeout"] <= 30


def test_an_index_recorded_on_milvus_reports_an_unreachable_server_on_ask(seed_index_copy, monkeypatch):
    import sqlite3

    conn = sqlite3.connect(seed_index_copy / "qa.sqlite")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('backend', 'milvus://127.0.0.1:19530/news')")
    conn.commit()
    conn.close()
    _fake_pymilvus(monkeypatch, "server unavailable")
    result = invoke("ask", "tanks", "--index-dir", str(seed_index_copy))
    one_line_error(result, "cannot reach Milvus at http://127.0.0.1:19530")
