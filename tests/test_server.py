"""`qa serve`: the HTTP API against the core call, its limits, its guard, and the search page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qa.cli.render import where_text
from qa.errors import QAError
from qa.interfaces.server import ServerSettings, check_bind, create_app, is_loopback, running
from qa.interfaces.service import MAX_QUESTION_CHARS, QAService
from qa.search.filters import Filters
from qa.search.results import answer_to_dict, article_to_dict, show_to_dict
from conftest import DATA, RecordingProgress
from interface_support import cli_app, same_answer

QUESTION = "what did Peskov say about tanks"
BASE = "http://127.0.0.1"
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def service(real_seed_index_dir):
    svc = QAService(real_seed_index_dir)
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def client(real_seed_index_dir, service):
    return TestClient(create_app(ServerSettings(real_seed_index_dir), service), base_url=BASE)


def assert_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str)
    assert body["error"] and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


# ---- the same answers as the core ------------------------------------------------------------
@pytest.mark.parametrize("k,mode", [(5, "hybrid"), (3, "dense"), (2, "lexical")])
def test_get_ask_is_the_ask_json_object(client, searcher, k, mode):
    response = client.get("/ask", params={"q": QUESTION, "k": k, "mode": mode})
    assert response.status_code == 200
    assert same_answer(response.json(), answer_to_dict(searcher.ask(QUESTION, k=k, mode=mode)))
    assert len(response.json()["results"]) == k


def test_post_ask_with_filters_equals_get(client, searcher):
    body = {"question": QUESTION, "k": 3, "outlet": ["Anadolu Agency"], "since": "2023"}
    posted = client.post("/ask", json=body)
    got = client.get("/ask", params={"q": QUESTION, "k": 3, "outlet": "Anadolu Agency",
                                     "since": "2023"})
    expected = answer_to_dict(searcher.ask(QUESTION, k=3, filters=Filters.from_mapping(body)))
    assert posted.status_code == got.status_code == 200
    assert posted.json() == got.json() and same_answer(got.json(), expected)
    assert expected["filters"] == {"outlet": ["Anadolu Agency"], "since": "2023"}
    assert {r["source"]["outlet"] for r in expected["results"]} == {"Anadolu Agency"}


def test_repeated_filters_are_lists(client, searcher):
    outlets = ["Anadolu Agency", "Realnoe Vremya"]
    response = client.get("/ask", params=[("q", QUESTION), ("outlet", outlets[0]),
                                          ("outlet", outlets[1])])
    assert response.status_code == 200
    assert response.json()["filters"] == {"outlet": outlets}


def test_sources_and_show_are_the_cli_objects(client, searcher):
    listed = client.get("/sources")
    assert listed.status_code == 200
    assert listed.json() == [article_to_dict(a) for a in searcher.sources()]
    assert len(listed.json()) == len(list(DATA.glob("*.txt")))
    ref = listed.json()[0]["path"]
    shown = client.get("/show", params={"ref": ref})
    assert shown.status_code == 200
    assert shown.json() == show_to_dict(*searcher.show(ref))


def test_sources_filters(client):
    response = client.get("/sources", params={"outlet": "Anadolu Agency"})
    assert response.status_code == 200
    assert {a["outlet"] for a in response.json()} == {"Anadolu Agency"}


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


# ---- hostile input -------------------------------------------------------------------------
@pytest.mark.parametrize("ref", [
    "/etc/passwd", "../..", "../../../../etc/passwd", "data", ".", "", "data/nothing.txt",
    "data/little-ground-for-optimism.txt#7", "%2e%2e%2f", "x" * 5000, "data/\x00.txt",
    "file:///etc/passwd",
])
def test_show_is_404_for_anything_not_indexed(client, ref):
    assert_error(client.get("/show", params={"ref": ref}), 404)


def test_show_without_ref_is_422(client):
    assert_error(client.get("/show"), 422)


def test_question_length_limit(client):
    at_limit = "tanks " * (MAX_QUESTION_CHARS // 6)
    assert len(at_limit) <= MAX_QUESTION_CHARS
    assert client.get("/ask", params={"q": at_limit, "k": 1}).status_code == 200
    over = "x" * (MAX_QUESTION_CHARS + 1)
    message = assert_error(client.get("/ask", params={"q": over}), 413)
    assert str(MAX_QUESTION_CHARS) in message
    assert_error(client.post("/ask", json={"question": over}), 413)


def test_body_size_limit(client):
    big = {"question": "tanks", "author": "a" * (64 * 1024)}
    assert_error(client.post("/ask", json=big), 413)
    assert_error(client.post("/ask", content=b"{" * (64 * 1024 + 1)), 413)


def test_chunked_body_over_the_limit_is_413(client):
    def chunks():
        for _ in range(80):
            yield b"x" * 1024

    assert_error(client.post("/ask", content=chunks()), 413)


@pytest.mark.parametrize("k", ["0", "101", "-1", "abc", "1.5", ""])
def test_k_out_of_range_is_422(client, k):
    assert_error(client.get("/ask", params={"q": QUESTION, "k": k}), 422)


def test_k_at_the_bounds(client):
    assert len(client.get("/ask", params={"q": QUESTION, "k": 1}).json()["results"]) == 1
    assert client.get("/ask", params={"q": QUESTION, "k": 100}).status_code == 200


@pytest.mark.parametrize("params", [
    {"since": "2023-13"}, {"since": "yesterday"}, {"until": "2023-02-30"},
    {"since": "2024", "until": "2023"}, {"mode": "psychic"}, {"fusion": "magic"},
])
def test_malformed_get_parameters_are_422(client, params):
    assert_error(client.get("/ask", params={"q": QUESTION, **params}), 422)


@pytest.mark.parametrize("body", [
    {"question": QUESTION, "k": True}, {"question": QUESTION, "k": "5"},
    {"question": QUESTION, "k": 0}, {"question": QUESTION, "outlet": 5},
    {"question": QUESTION, "outlet": [1, 2]}, {"question": QUESTION, "undated": "yes"},
    {"question": QUESTION, "since": "2023-99"}, {"question": QUESTION, "outlets": ["typo"]},
    {"question": 42}, {"k": 3}, {"question": "   "}, {"question": QUESTION, "mode": "x"},
])
def test_malformed_post_bodies_are_422(client, body):
    assert_error(client.post("/ask", json=body), 422)


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"question"', b"\xff\xfe",
                                 b'{"question": "a"'])
def test_post_body_that_is_not_an_object_is_422(client, raw):
    assert_error(client.post("/ask", content=raw,
                             headers={"Content-Type": "application/json"}), 422)


def test_unknown_route_and_method_are_json(client):
    assert_error(client.get("/etc/passwd"), 404)
    assert_error(client.get("/static/../../qa/errors.py"), 404)
    assert_error(client.delete("/ask"), 405)


def test_no_cors_headers(client):
    response = client.get("/ask", params={"q": QUESTION, "k": 1},
                          headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options("/ask", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_host_header_must_be_loopback_on_a_loopback_bind(client):
    """A DNS-rebinding page reaches 127.0.0.1 under its own host name: refused."""
    assert_error(client.get("/healthz", headers={"Host": "evil.example"}), 400)
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200


# ---- token -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def guarded(real_seed_index_dir, service):
    settings = ServerSettings(real_seed_index_dir, token=TOKEN, host="0.0.0.0")
    return TestClient(create_app(settings, service), base_url="http://qa.example")


def test_token_is_required(guarded):
    for path in ("/ask?q=tanks", "/sources", "/show?ref=/etc/passwd", "/"):
        response = guarded.get(path)
        assert_error(response, 401)
        assert "www-authenticate" in response.headers
        wrong = guarded.get(path, headers={"Authorization": "Bearer not-the-token"})
        assert_error(wrong, 401)
    assert_error(guarded.get("/sources", headers={"Authorization": TOKEN}), 401)
    assert_error(guarded.get("/sources", headers={"Authorization": f"Bearer {TOKEN}x"}), 401)


def test_right_token_is_accepted_and_healthz_is_open(guarded):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/ask", params={"q": QUESTION, "k": 1}, headers=auth).status_code == 200
    assert guarded.post("/ask", json={"question": QUESTION}, headers=auth).status_code == 200
    assert guarded.get("/healthz").status_code == 200


def test_browser_basic_auth_with_the_token_as_password(guarded):
    response = guarded.get("/", auth=("anyone", TOKEN))
    assert response.status_code == 200 and "<form" in response.text
    assert guarded.get("/").headers["www-authenticate"].startswith("Basic")
    assert_error(guarded.get("/", auth=(TOKEN, "wrong")), 401)
    assert_error(guarded.get("/", headers={"Authorization": "Basic !!!notbase64"}), 401)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2", "[::1]"])
def test_loopback_binds_need_no_token(host):
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org", "10.0.0.1"])
def test_public_bind_needs_a_token(host):
    assert not is_loopback(host)
    with pytest.raises(QAError, match="token"):
        check_bind(host, None)
    with pytest.raises(QAError):
        check_bind(host, "")
    check_bind(host, TOKEN)


def test_serve_refuses_a_public_bind_without_token(real_seed_index_dir, monkeypatch):
    monkeypatch.delenv("QA_TOKEN", raising=False)
    result = CliRunner().invoke(
        cli_app(), ["serve", "--host", "0.0.0.0", "--index-dir", str(real_seed_index_dir)]
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "token" in lines[0] and "Traceback" not in result.output


def test_serve_takes_the_token_from_qa_token(real_seed_index_dir, monkeypatch):
    seen = {}
    monkeypatch.setenv("QA_TOKEN", TOKEN)
    monkeypatch.setattr("qa.interfaces.server.serve",
                        lambda settings, port, notice: seen.update(settings=settings, port=port))
    result = CliRunner().invoke(
        cli_app(), ["serve", "--host", "0.0.0.0", "--port", "8123", "--index-dir",
                    str(real_seed_index_dir)], catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert seen["settings"].token == TOKEN and seen["port"] == 8123
    assert seen["settings"].host == "0.0.0.0"


def test_serve_on_a_taken_port_is_one_line(real_seed_index_dir):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_app(), ["serve", "--port", str(port), "--index-dir",
                                                str(real_seed_index_dir)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0]


def test_serve_without_index_is_one_line(tmp_path):
    result = CliRunner().invoke(cli_app(), ["serve", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "no index" in result.stderr


# ---- the search page -----------------------------------------------------------------------
def test_page_without_question_is_a_form(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<form class="ask" method="get" action="/"' in html and 'name="q"' in html
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["content-security-policy"]
    external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]*)"', html)
    assert external == []  # no CDN, fonts or scripts from elsewhere
    for outlet in {a["outlet"] for a in client.get("/sources").json() if a["outlet"]}:
        assert f'<option value="{outlet}"' in html


def test_page_shows_the_answer_and_source(client, searcher):
    response = client.get("/", params={"q": QUESTION, "k": 3})
    assert response.status_code == 200
    html = response.text
    answer = searcher.ask(QUESTION, k=3)
    first = answer.hits[0]
    from html import escape

    assert f"<mark>{escape(first.answer)}</mark>" in html
    for part in (first.source.meta.outlet, first.source.meta.date, first.source.meta.title):
        assert escape(part) in html
    assert escape(where_text(first)) in html
    assert html.count("<li>") == 3
    link = re.search(r'href="(/article\?ref=[^"]+)"', html).group(1).replace("&amp;", "&")
    article = client.get(link.split("#")[0])
    assert article.status_code == 200 and escape(first.text) in article.text


def test_page_escapes_the_question(client):
    evil = '<script>alert("x")</script>'
    html = client.get("/", params={"q": evil}).text
    assert evil not in html and "&lt;script&gt;" in html


def test_page_errors_are_shown_not_raised(client):
    response = client.get("/", params={"q": QUESTION, "since": "2023-13"})
    assert response.status_code == 422 and 'class="error"' in response.text
    response = client.get("/", params={"q": QUESTION, "k": "many"})
    assert response.status_code == 422 and 'class="error"' in response.text
    response = client.get("/", params={"q": "x" * (MAX_QUESTION_CHARS + 1)})
    assert response.status_code == 413


def test_article_view_only_for_indexed_articles(client):
    for ref in ("/etc/passwd", "../..", ""):
        response = client.get("/article", params={"ref": ref})
        assert response.status_code == 404 and "passwd" not in response.text.split("</main>")[1]
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


# ---- concurrency and re-indexing -------------------------------------------------------------
QUESTIONS = [json.loads(line)["question"] for line in
             (Path(__file__).parents[1] / "bench" / "questions" / "seeds.jsonl").open()][:12]


@pytest.mark.parametrize("workers", [1, 2])
def test_parallel_clients_get_the_serial_answers(real_seed_index_dir, searcher, workers):
    import httpx2 as httpx

    expected = {q: answer_to_dict(searcher.ask(q, k=3)) for q in QUESTIONS}
    errors: list[str] = []
    app = create_app(ServerSettings(real_seed_index_dir, workers=workers))
    with running(app) as base:

        def client_run(offset: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                for i in range(len(QUESTIONS)):
                    q = QUESTIONS[(i + offset) % len(QUESTIONS)]
                    r = http.get("/ask", params={"q": q, "k": 3})
                    if r.status_code != 200 or not same_answer(r.json(), expected[q]):
                        errors.append(f"{q}: {r.status_code} {r.text[:2000]}")

        threads = [threading.Thread(target=client_run, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_reindex_is_picked_up_without_restart(seed_index_copy, tmp_path):
    from qa.index.indexer import run_index

    corpus = tmp_path / "corpus"
    shutil.copytree(DATA, corpus)
    run_index(seed_index_copy, [corpus], None, RecordingProgress())  # the copy's own paths
    client = TestClient(create_app(ServerSettings(seed_index_copy)), base_url=BASE)
    question = "Which zeppelin hangar did the Quokkaville council sell?"
    before = client.get("/sources").json()
    assert not any("zeppelin" in r["text"] for r in
                   client.get("/ask", params={"q": question}).json()["results"])
    (corpus / "zeppelin.txt").write_text(
        "Quokkaville council sells zeppelin hangar\n\nThe Quokkaville council sold the old "
        "zeppelin hangar to a bakery on Tuesday, the mayor said.\n", encoding="utf-8")
    run_index(seed_index_copy, [corpus], None, RecordingProgress())
    after = client.get("/sources").json()
    assert len(after) == len(before) + 1
    top = client.get("/ask", params={"q": question, "k": 1}).json()["results"][0]
    assert "zeppelin hangar to a bakery" in top["text"]
    assert top["source"]["path"].endswith("zeppelin.txt")


# ---- the CLI stays light -------------------------------------------------------------------
FRAMEWORKS = ("fastapi", "uvicorn", "starlette", "prompt_toolkit", "mcp", "pydantic")


def test_help_and_ask_do_not_import_the_interface_frameworks(real_seed_index_dir):
    """`qa --help` and a cold `qa ask` load none of FastAPI, uvicorn, prompt_toolkit, mcp."""
    code = (
        "import sys\n"
        "import qa.cli.app\n"
        "import qa.interfaces.cli_commands\n"
        "def run(*args):\n"
        "    sys.argv = ['qa', *args]\n"
        "    try:\n        qa.cli.app.main()\n    except SystemExit:\n        pass\n"
        f"    loaded = [m for m in {FRAMEWORKS!r} if m in sys.modules]\n"
        "    assert not loaded, (args, loaded)\n"
        "run('--help')\n"
        f"run('ask', 'tanks', '--json', '--index-dir', {str(real_seed_index_dir)!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1])["results"]


# ---- load (slow suite) ------------------------------------------------------------------------
@pytest.mark.slow
def test_load_8_clients_50_questions(real_seed_index_dir):
    """8 parallel clients x 50 questions on loopback: every request answered, none failed.

    Latency is not asserted here (shared, noisy machines): `bench/serve_load.py` reports p50/p95.
    """
    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    from serve_load import run_load

    report = run_load(real_seed_index_dir, clients=8, per_client=50)
    assert report["errors"] == 0 and report["requests"] == 400, report


# ---- the shared, batching query encoder ------------------------------------------------------
class SlowEncoder:
    """Vectors that name their text; records batch sizes; slow enough for callers to pile up."""

    dim = 2

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[int] = []
        self.fail_on = fail_on

    def encode(self, texts):
        import numpy as np

        self.batches.append(len(texts))
        time.sleep(0.05)
        if self.fail_on in texts:
            raise RuntimeError("model fell over")
        return np.array([[len(t), sum(map(ord, t))] for t in texts], dtype=np.float32)


def _prepare_all(shared, texts):
    results, errors = {}, {}

    def one(text):
        try:
            results[text] = shared.encode_one(text).tolist()
        except RuntimeError as exc:
            errors[text] = str(exc)

    threads = [threading.Thread(target=one, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_shared_encoder_batches_parallel_questions():
    from qa.interfaces.service import SharedEncoder

    inner = SlowEncoder()
    shared = SharedEncoder("fake", inner)
    texts = [f"question number {i}" * (i + 1) for i in range(12)]
    results, errors = _prepare_all(shared, texts)
    assert errors == {}
    assert results == {t: [float(len(t)), float(sum(map(ord, t)))] for t in texts}
    assert sum(inner.batches) == len(texts) and len(inner.batches) < len(texts)
    assert max(inner.batches) > 1


def test_shared_encoder_error_reaches_every_waiting_caller():
    from qa.interfaces.service import SharedEncoder

    shared = SharedEncoder("fake", SlowEncoder(fail_on="bad"))
    texts = ["bad"] + [f"q{i}" for i in range(6)]
    results, errors = _prepare_all(shared, texts)
    assert set(results) | set(errors) == set(texts) and "bad" in errors
    assert all(message == "model fell over" for message in errors.values())
    # a failed batch leaves the encoder usable
    assert shared.encode(["fine afterwards"]).shape == (1, 2)


def test_shared_encoder_encodes_lists_in_order():
    from qa.interfaces.service import SharedEncoder

    inner = SlowEncoder()
    shared = SharedEncoder("fake", inner)

    def named(t):
        return [float(len(t)), float(sum(map(ord, t)))]

    assert shared.encode_one("one").tolist() == named("one")
    assert shared.encode(["two", "three"]).tolist() == [named("two"), named("three")]
    assert sum(inner.batches) == 3
