"""`qa mcp`: the tools through the SDK's own stdio client, and one answer from every interface."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import anyio
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from interface_support import qa_argv, same_answer
from qa.cli.app import app as qa_app
from qa.search.filters import Filters
from qa.search.results import answer_to_dict, article_to_dict, show_to_dict

QUESTIONS = [
    "what did Peskov say about tanks",
    "Which neutral site was chosen for the Russia-Ukraine talks?",
    "How long did the Geneva security talks last?",
]


@contextlib.asynccontextmanager
async def _spawned(index_dir):
    """`qa mcp` spawned over stdio, its session initialised."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    argv = qa_argv("mcp", "--index-dir", str(index_dir))
    params = StdioServerParameters(command=argv[0], args=argv[1:], cwd=os.getcwd(),
                                   env={"PYTHONPATH": os.pathsep.join(sys.path)})
    with open(os.environ.get("QA_TEST_MCP_ERRLOG", os.devnull), "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


async def _session(index_dir, work):
    """Run ``work(session)`` against `qa mcp` spawned over stdio; its result."""
    async with _spawned(index_dir) as session:
        return await work(session)


def over_mcp(index_dir, work):
    return anyio.run(_session, index_dir, work)


@pytest.fixture(scope="module")
def real_mcp(real_seed_index_dir):
    """``real_mcp(work)``: ``work(session)`` run against one `qa mcp` on the real-model seed
    index, spawned over stdio once for this module (its tools only read the index); its result."""
    from anyio.from_thread import start_blocking_portal

    with start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(_spawned(real_seed_index_dir)) as session:
            yield lambda work: portal.call(work, session)


def test_tools_answer_like_the_cli(real_mcp, searcher):
    async def work(session):
        out = {"tools": (await session.list_tools()).tools}
        out["ask"] = await session.call_tool("ask", {"question": QUESTIONS[0], "k": 3})
        out["scoped"] = await session.call_tool(
            "ask", {"question": QUESTIONS[0], "k": 2, "mode": "dense",
                    "outlet": ["Anadolu Agency"], "since": "2023"})
        out["sources"] = await session.call_tool("sources", {})
        ref = out["sources"].structured_content["articles"][0]["path"]
        out["ref"] = ref
        out["show"] = await session.call_tool("show", {"ref": ref})
        return out

    out = real_mcp(work)
    tools = {t.name: t for t in out["tools"]}
    assert set(tools) == {"ask", "show", "sources", "quotes"}
    for tool in tools.values():  # written for an assistant: how to cite, what is there
        assert len(tool.description) > 150
    assert "outlet" in tools["ask"].description and "date" in tools["ask"].description
    assert tools["ask"].input_schema["properties"]["k"]["maximum"] == 100

    assert not out["ask"].is_error
    assert same_answer(out["ask"].structured_content,
                       answer_to_dict(searcher.ask(QUESTIONS[0], k=3)))
    filters = Filters.build(outlet=["Anadolu Agency"], since="2023")
    expected = answer_to_dict(searcher.ask(QUESTIONS[0], k=2, mode="dense", filters=filters))
    assert same_answer(out["scoped"].structured_content, expected)
    assert out["sources"].structured_content == {
        "articles": [article_to_dict(a) for a in searcher.sources()]}
    assert out["show"].structured_content == show_to_dict(*searcher.show(out["ref"]))
    assert json.loads(out["ask"].content[0].text) == out["ask"].structured_content


def test_tool_errors_say_what_to_change(real_mcp):
    calls = [
        ("show", {"ref": "/etc/passwd"}, "not in the index"),
        ("show", {"ref": "../.."}, "not in the index"),
        ("ask", {"question": "tanks", "k": 0}, "greater than or equal to 1"),
        ("ask", {"question": "tanks", "k": 101}, "less than or equal to 100"),
        ("ask", {"question": "tanks", "since": "2023-13"}, "month 13"),
        ("ask", {"question": "tanks", "mode": "psychic"}, "mode"),
        ("ask", {"question": "x" * 2001}, "over the limit"),
        ("ask", {"question": "   "}, "empty"),
        ("sources", {"outlet": 5}, "outlet"),
        ("nonsense", {}, "nonsense"),
    ]

    async def work(session):
        return [await session.call_tool(name, args) for name, args, _ in calls]

    for (name, args, fragment), result in zip(calls, real_mcp(work)):
        assert result.is_error, (name, args)
        text = result.content[0].text
        assert fragment in text and "Traceback" not in text, (name, text)


def test_same_top_k_from_cli_http_and_mcp(real_seed_index_dir, real_mcp):
    """The acceptance target: one question, one index, the same passages everywhere."""
    from qa.interfaces.server import ServerSettings, create_app

    cli = []
    for q in QUESTIONS:
        result = CliRunner().invoke(qa_app, ["ask", q, "--json", "-k", "5", "--index-dir",
                                             str(real_seed_index_dir)], catch_exceptions=False)
        assert result.exit_code == 0
        cli.append(json.loads(result.stdout))
    http_client = TestClient(create_app(ServerSettings(real_seed_index_dir)),
                             base_url="http://127.0.0.1")
    http = [http_client.get("/ask", params={"q": q, "k": 5}).json() for q in QUESTIONS]

    async def work(session):
        return [(await session.call_tool("ask", {"question": q, "k": 5})).structured_content
                for q in QUESTIONS]

    mcp = real_mcp(work)
    for c, h, m in zip(cli, http, mcp):
        texts = [r["text"] for r in c["results"]]
        assert len(texts) == 5
        assert [r["text"] for r in h["results"]] == texts == [r["text"] for r in m["results"]]
        assert same_answer(h, c) and same_answer(m, c)  # the whole object; scores to 1e-4


def test_mcp_without_an_index_is_one_line(tmp_path):
    proc = subprocess.run(qa_argv("mcp", "--index-dir", str(tmp_path / "none")),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no index" in lines[0]


def test_module_entry_point_without_an_index(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "qa.interfaces.mcp_server", "--index-dir", str(tmp_path / "x")],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("Error: no index") and len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize("name", ["qa.interfaces.service", "qa.interfaces.shell"])
def test_core_modules_do_not_import_mcp(name):
    code = f"import sys, {name}; assert 'mcp' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
