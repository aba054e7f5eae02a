"""`qa index --watch` as a process: Ctrl-C, kill -9 mid-batch, the lock, and running `qa
serve`, `qa shell` and `qa mcp` processes answering from the new generation (slow)."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import DATA
from interface_support import qa_argv

pytestmark = pytest.mark.slow

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
WAIT = 60.0
ZEPPELIN = (
    "Quokkaville council sells zeppelin hangar\n\nThe Quokkaville council sold the old "
    "zeppelin hangar to a bakery on Tuesday, the mayor said.\n"
)
QUESTION = "Which zeppelin hangar did the Quokkaville council sell?"


class Proc:
    """A subprocess whose stdout and stderr lines are read as they come."""

    def __init__(self, argv: list[str], cwd: Path, stdin: bool = False) -> None:
        self.p = subprocess.Popen(
            argv, cwd=cwd, env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.first = ""
        for stream in (self.p.stdout, self.p.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} in {timeout} s; saw {self.seen}") from None
            self.seen.append(line)
            if text in line:
                return line

    def send(self, line: str) -> None:
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(10)


def _watch(corpus: Path, index_dir: Path, cwd: Path) -> Proc:
    """A running `qa index --watch`, past its first full run (the watcher starts before it)."""
    proc = Proc(qa_argv("index", str(corpus), "--watch", "--debounce", "0.5",
                        "--index-dir", str(index_dir), "--model", "hashing"), cwd)
    proc.first = proc.wait_for("Indexed into")
    return proc


def _qa(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(qa_argv(*args), cwd=cwd, env=ENV, text=True, capture_output=True,
                          timeout=WAIT)


def _ask_top(index_dir: Path, question: str, cwd: Path) -> dict:
    out = _qa("ask", question, "-k", "1", "--json", "--index-dir", str(index_dir), cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["results"][0]


def _counts(index_dir: Path) -> tuple[int, int, int]:
    """(embeddings, articles, generation) as a reader sees them now."""
    conn = sqlite3.connect(f"file:{index_dir / 'qa.sqlite'}?mode=ro", uri=True, timeout=10)
    try:
        embeddings = conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        generation = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    finally:
        conn.close()
    return embeddings, articles, generation


@pytest.fixture()
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(DATA, folder)
    return folder


def test_watch_finds_a_dropped_file_refuses_a_second_writer_and_stops_on_ctrl_c(corpus, tmp_path):
    index_dir = tmp_path / "index"
    watcher = _watch(corpus, index_dir, tmp_path)
    try:
        (corpus / "zeppelin.txt").write_text(ZEPPELIN, encoding="utf-8")
        watcher.wait_for("1 added, 0 updated, 0 removed")
        assert _ask_top(index_dir, QUESTION, tmp_path)["source"]["path"].endswith("zeppelin.txt")

        second = _qa("index", str(corpus), "--index-dir", str(index_dir), "--model", "hashing",
                     cwd=tmp_path)
        assert second.returncode == 1
        assert second.stderr.startswith("Error: another `qa index` is writing to")
        assert f"(process {watcher.p.pid})" in second.stderr and "Traceback" not in second.stderr

        (corpus / "zeppelin.txt").unlink()
        watcher.wait_for("0 added, 0 updated, 1 removed")
        watcher.p.send_signal(signal.SIGINT)
        assert watcher.p.wait(WAIT) == 130
        watcher.wait_for("Stopped watching")
    finally:
        watcher.stop()
    assert "Traceback" not in "".join(watcher.seen)
    assert not _ask_top(index_dir, QUESTION, tmp_path)["source"]["path"].endswith("zeppelin.txt")
    again = _qa("index", str(corpus), "--index-dir", str(index_dir), "--model", "hashing", cwd=tmp_path)
    assert again.returncode == 0 and "0 added, 0 updated, 0 removed" in again.stdout  # lock freed


@pytest.mark.parametrize("sig, code", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)])
def test_a_kill_during_a_batch_keeps_the_previous_generation_and_the_next_run_resumes(
    sig, code, corpus, tmp_path
):
    index_dir = tmp_path / "index"
    watcher = _watch(corpus, index_dir, tmp_path)
    before_embeddings, before_articles, generation = _counts(index_dir)
    old_top = _ask_top(index_dir, "what did Peskov say about tanks", tmp_path)
    records = 4000
    dump = tmp_path / "wire.jsonl"
    with open(dump, "w", encoding="utf-8") as handle:
        for i in range(records):
            handle.write(json.dumps({"title": f"Wire {i}", "text": f"Wire story {i}: the "
                                     f"Quokkaville council met for the {i}th time on hangar {i}."}) + "\n")
    try:
        os.rename(dump, corpus / "wire.jsonl")  # appears whole
        deadline = time.monotonic() + WAIT
        while True:  # embeddings are being written, the batch is not committed: kill it now
            embeddings, articles, _ = _counts(index_dir)
            if embeddings > before_embeddings:
                break
            assert time.monotonic() < deadline, "the batch never started embedding"
            time.sleep(0.02)
        os.kill(watcher.p.pid, sig)  # kill -9, or Ctrl-C inside the batch
        assert watcher.p.wait(WAIT) == code
    finally:
        watcher.stop()
    assert embeddings < before_embeddings + records, "the batch finished before the kill"
    assert _counts(index_dir)[1:] == (before_articles, generation)
    assert _ask_top(index_dir, "what did Peskov say about tanks", tmp_path) == old_top

    watcher = _watch(corpus, index_dir, tmp_path)  # its first run is the next batch
    try:
        reused = re.search(r"(\d+) reused", watcher.first)
        assert "1 added" in watcher.first and reused and int(reused.group(1)) > 0, watcher.first
        (corpus / "zeppelin.txt").write_text(ZEPPELIN, encoding="utf-8")
        watcher.wait_for("1 added, 0 updated, 0 removed")
    finally:
        watcher.stop()
    assert _counts(index_dir)[1] == before_articles + records + 1
    assert _ask_top(index_dir, QUESTION, tmp_path)["source"]["path"].endswith("zeppelin.txt")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_running_serve_shell_and_mcp_answer_from_the_watchers_new_generation(corpus, tmp_path):
    from test_mcp import over_mcp

    index_dir = tmp_path / "index"
    watcher = _watch(corpus, index_dir, tmp_path)
    port = _free_port()
    server = Proc(qa_argv("serve", "--port", str(port), "--index-dir", str(index_dir)), tmp_path)
    shell = Proc(qa_argv("shell", "--index-dir", str(index_dir), "-k", "1"), tmp_path, stdin=True)
    url = f"http://127.0.0.1:{port}/ask?" + urllib.parse.urlencode({"q": QUESTION, "k": 1})

    def http_top() -> str:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    return json.load(response)["results"][0]["source"]["path"]
            except OSError:
                assert time.monotonic() < deadline and server.p.poll() is None, server.seen
                time.sleep(0.2)

    async def mcp_work(session):
        first = await session.call_tool("ask", {"question": QUESTION, "k": 1})
        (corpus / "zeppelin.txt").write_text(ZEPPELIN, encoding="utf-8")
        watcher.wait_for("1 added, 0 updated, 0 removed")
        second = await session.call_tool("ask", {"question": QUESTION, "k": 1})
        return [r.structured_content["results"][0]["source"]["path"] for r in (first, second)]

    try:
        before_http = http_top()
        shell.send(QUESTION)
        shell.wait_for("1. [")
        mcp_before, mcp_after = over_mcp(index_dir, mcp_work)  # drops the file in between
        after_http = http_top()
        shell.send(QUESTION)
        shell.wait_for("zeppelin.txt")
    finally:
        for proc in (shell, server, watcher):
            proc.stop()
    assert not before_http.endswith("zeppelin.txt") and not mcp_before.endswith("zeppelin.txt")
    assert after_http.endswith("zeppelin.txt") and mcp_after.endswith("zeppelin.txt")
