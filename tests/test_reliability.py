"""Reliability (issue 5, items 1-3): crashes, Ctrl-C, concurrent runs, damaged indexes.

Fast tests work on a private copy of the seed index. The slow ones (`-m slow`) index a few
hundred BBC articles in a subprocess and kill it at several moments.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli.app import app
from qa.index.lock import writer_lock

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
BBC = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "bbc"
QUESTIONS = [
    "what did Peskov say about tanks",
    "Which computer does Putin use?",
    "Who won the Australian Open?",
    "What did the chancellor say about the economy?",
]
runner = CliRunner()


# ---- helpers ------------------------------------------------------------------------------
def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("Error: ") and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message, message
    return message


def answers(index_dir: Path) -> list[dict]:
    """`qa ask --json -` for every question: what a user sees of the index."""
    result = invoke("ask", "-", "--json", "-k", "5", "--index-dir", str(index_dir),
                    input="\n".join(QUESTIONS) + "\n")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def without_ids(answers_: list[dict]) -> list[dict]:
    return [{**a, "results": [{k: v for k, v in r.items() if k != "passage_id"} for r in a["results"]]}
            for a in answers_]


def sources(index_dir: Path) -> list[dict]:
    result = invoke("sources", "--json", "--index-dir", str(index_dir))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def set_meta(index_dir: Path, key: str, value: str) -> None:
    conn = sqlite3.connect(index_dir / "qa.sqlite")
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
    conn.close()


# ---- damaged FAISS file -------------------------------------------------------------------
def _truncate_half(p: Path) -> None:
    os.truncate(p, p.stat().st_size // 2)


def _overwrite_header(p: Path) -> None:
    with p.open("r+b") as handle:
        handle.write(b"\xff" * 64)


FAISS_DAMAGE = {
    "deleted": lambda p: p.unlink(),
    "truncated": _truncate_half,
    "emptied": lambda p: os.truncate(p, 0),
    "garbage header": _overwrite_header,
}


@pytest.mark.parametrize("damage", sorted(FAISS_DAMAGE))
def test_damaged_faiss_file_is_rebuilt_from_sqlite(seed_index_copy, damage):
    before = answers(seed_index_copy)
    [faiss_file] = seed_index_copy.glob("passages.*.faiss")
    FAISS_DAMAGE[damage](faiss_file)

    result = invoke("ask", QUESTIONS[0], "--json", "--index-dir", str(seed_index_copy))
    assert result.exit_code == 0, result.stderr
    notice = result.stderr.strip()
    assert notice.startswith("notice:") and "rebuilding it from" in notice
    assert json.loads(result.stdout) == before[0]
    assert answers(seed_index_copy) == before
    # the rebuilt file was written back: the next ask needs no rebuild
    again = invoke("ask", QUESTIONS[0], "--json", "--index-dir", str(seed_index_copy))
    assert again.stderr == "" and json.loads(again.stdout) == before[0]


# ---- damaged SQLite file ------------------------------------------------------------------
def _damage_pages(p: Path) -> None:
    """Scribble over the middle of many pages: the header still reads, queries do not."""
    size = p.stat().st_size
    page = int.from_bytes(p.read_bytes()[16:18], "big")  # the header's page size
    with p.open("r+b") as handle:
        for offset in range(2 * page, size, 4 * page):  # the start of every fourth page
            handle.seek(offset)
            handle.write(b"\xff" * 2048)


def _truncate_pages(p: Path) -> None:
    os.truncate(p, p.stat().st_size * 3 // 4 // 4096 * 4096)


SQLITE_DAMAGE = {
    "header overwritten": lambda p: p.write_bytes(b"\x00garbage" * 16 + p.read_bytes()[128:]),
    "truncated": _truncate_pages,
    "pages scribbled": _damage_pages,
}


@pytest.mark.parametrize("damage", sorted(SQLITE_DAMAGE))
def test_damaged_database_gives_one_line_error_naming_the_fix(seed_index_copy, damage):
    SQLITE_DAMAGE[damage](seed_index_copy / "qa.sqlite")
    dir_ = str(seed_index_copy)
    for args in (["ask", QUESTIONS[0]], ["ask", QUESTIONS[0], "--mode", "lexical"],
                 ["sources"], ["index", str(DATA)]):
        one_line_error(invoke(*args, "--index-dir", dir_), "damaged", "qa index --rebuild")


@pytest.mark.parametrize("damage", ["header overwritten", "pages scribbled"])
def test_rebuild_recovers_a_damaged_database(seed_index_dir, seed_index_copy, damage):
    expected_sources, expected = sources(seed_index_dir), answers(seed_index_dir)
    SQLITE_DAMAGE[damage](seed_index_copy / "qa.sqlite")

    # the damaged database's record of its model is gone: name the seed's (hashing) model, as
    # the user of another model would; the plain `qa index --rebuild` with the default model
    # is test_rebuild_replaces_an_index_of_a_newer_format
    result = invoke("index", str(DATA), "--rebuild", "--model", "hashing",
                    "--index-dir", str(seed_index_copy))
    assert result.exit_code == 0, result.stderr
    assert "moved it to" in result.stderr and "Traceback" not in result.output
    assert (seed_index_copy / "qa.sqlite.damaged").is_file()  # kept for inspection
    assert sources(seed_index_copy) == expected_sources
    assert answers(seed_index_copy) == expected


def test_rebuild_of_a_healthy_index_keeps_it_usable(seed_index_dir, seed_index_copy):
    """--rebuild reuses cached embeddings; it used to delete them and leave an empty index."""
    expected = answers(seed_index_dir)
    result = invoke("index", str(DATA), "--rebuild", "--index-dir", str(seed_index_copy))
    assert result.exit_code == 0, result.stderr
    passages = sum(a["passages"] for a in sources(seed_index_dir))
    assert f"0 passages embedded, {passages} reused" in result.stdout
    # same answers; passage ids are new (an id is never reused for other text)
    assert without_ids(answers(seed_index_copy)) == without_ids(expected)
    assert sources(seed_index_copy) == sources(seed_index_dir)


def manifest_matches_database(index_dir: Path) -> bool:
    from qa.index.layout import IndexLayout
    from qa.index.store import Store

    store = Store.open(index_dir)
    try:
        expected, generation_ = store.manifest(), store.generation
    finally:
        store.close()
    manifest = json.loads(IndexLayout(index_dir).manifest.read_text(encoding="utf-8"))
    database_facts = {key: manifest.get(key) for key in expected}
    return database_facts == expected and IndexLayout(index_dir).faiss(generation_).is_file()


def test_index_run_with_nothing_to_do_rewrites_lost_derived_files(seed_index_copy):
    """A run killed between its commit and the FAISS/manifest write is repaired by the next."""
    before = answers(seed_index_copy)
    manifest = json.loads((seed_index_copy / "manifest.json").read_text(encoding="utf-8"))
    (seed_index_copy / "manifest.json").write_text(
        json.dumps({**manifest, "generation": 0, "passages": 1}), encoding="utf-8")
    for faiss_file in seed_index_copy.glob("passages.*.faiss"):
        faiss_file.unlink()
    result = invoke("index", str(DATA), "--index-dir", str(seed_index_copy))
    assert result.exit_code == 0, result.stderr
    assert "5 unchanged" in result.stdout
    assert manifest_matches_database(seed_index_copy)
    again = invoke("ask", QUESTIONS[0], "--json", "--index-dir", str(seed_index_copy))
    assert again.stderr == "" and json.loads(again.stdout) == before[0]


# ---- wrong model, newer format ------------------------------------------------------------
def test_index_built_with_another_model_is_refused_naming_both(real_seed_index_copy, tmp_path):
    seed_index_copy = real_seed_index_copy  # built with the default model
    other = tmp_path / "other-model"
    other.mkdir()
    digest = file_digest(seed_index_copy / "qa.sqlite")
    ask = invoke("ask", QUESTIONS[0], "--model", str(other), "--index-dir", str(seed_index_copy))
    one_line_error(ask, "all-MiniLM-L6-v2", str(other), "--rebuild")
    index = invoke("index", str(DATA), "--model", str(other), "--index-dir", str(seed_index_copy))
    one_line_error(index, "all-MiniLM-L6-v2", str(other), "--rebuild --model")
    assert file_digest(seed_index_copy / "qa.sqlite") == digest


def test_newer_format_version_is_refused(seed_index_copy):
    set_meta(seed_index_copy, "format_version", "99")
    digest = file_digest(seed_index_copy / "qa.sqlite")
    for args in (["ask", QUESTIONS[0]], ["sources"], ["index", str(DATA)]):
        one_line_error(invoke(*args, "--index-dir", str(seed_index_copy)),
                       "format 99", "newer", "qa index --rebuild")
    assert file_digest(seed_index_copy / "qa.sqlite") == digest


def test_rebuild_replaces_an_index_of_a_newer_format(real_seed_index_dir, real_seed_index_copy):
    seed_index_dir, seed_index_copy = real_seed_index_dir, real_seed_index_copy  # default model
    set_meta(seed_index_copy, "format_version", "99")
    result = invoke("index", str(DATA), "--rebuild", "--index-dir", str(seed_index_copy))
    assert result.exit_code == 0, result.stderr
    assert "format 99" in result.stderr and "moved it to" in result.stderr
    assert answers(seed_index_copy) == answers(seed_index_dir)


# ---- concurrency (fast: the lock or a write transaction held by this process) -------------
def test_second_writer_fails_on_the_lock_and_changes_nothing(seed_index_copy, tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "new.txt").write_text("A new article about ferries.\n", encoding="utf-8")
    digest = file_digest(seed_index_copy / "qa.sqlite")
    with writer_lock(seed_index_copy):
        result = invoke("index", str(tmp_path / "news"), "--index-dir", str(seed_index_copy))
        one_line_error(result, "another `qa index`", str(seed_index_copy))
        assert answers(seed_index_copy)  # readers are not blocked by the writer lock
    assert file_digest(seed_index_copy / "qa.sqlite") == digest


def test_ask_during_an_open_write_transaction_sees_the_last_commit(seed_index_copy):
    before_answers, before_sources = answers(seed_index_copy), sources(seed_index_copy)
    writer = sqlite3.connect(seed_index_copy / "qa.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM passages_fts")
    writer.execute("DELETE FROM passages")
    writer.execute("DELETE FROM articles")
    writer.execute("DELETE FROM files")
    writer.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    try:
        assert answers(seed_index_copy) == before_answers
        assert sources(seed_index_copy) == before_sources
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# ---- slow: real `qa index` processes on a BBC subset --------------------------------------
BBC_PER_FOLDER = 40  # 200 articles, about 2,000 passages


def qa_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa", *args]


def run_qa(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(qa_cmd(*args), cwd=cwd, input=input, capture_output=True,
                          text=True, timeout=900)


def cli_state(index_dir: Path, cwd: Path) -> tuple[list[dict], list[dict]]:
    """(sources, answers) as seen through real `qa` processes."""
    src = run_qa("sources", "--json", "--index-dir", str(index_dir), cwd=cwd)
    assert src.returncode == 0 and "Traceback" not in src.stderr, src.stderr
    ask = run_qa("ask", "-", "--json", "--index-dir", str(index_dir), cwd=cwd,
                 input="\n".join(QUESTIONS) + "\n")
    assert ask.returncode == 0 and "Traceback" not in ask.stderr, ask.stderr
    return json.loads(src.stdout), [json.loads(line) for line in ask.stdout.splitlines()]


def same_answers(got: list[dict], expected: list[dict]) -> bool:
    """Equal answers, scores within float noise: separate runs batch passages differently."""
    def strip(objs: list[dict]) -> list[dict]:
        return [{**o, "results": [{**r, "score": None} for r in o["results"]]} for o in objs]

    scores = [(r["score"], e["score"]) for g, x in zip(got, expected)
              for r, e in zip(g["results"], x["results"])]
    return strip(got) == strip(expected) and all(abs(a - b) < 1e-3 for a, b in scores)


def embeddings_count(index_dir: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{index_dir / 'qa.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return -1


def generation(index_dir: Path) -> int:
    conn = sqlite3.connect(f"file:{index_dir / 'qa.sqlite'}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    finally:
        conn.close()


def wait_for(condition, proc: subprocess.Popen, timeout: float = 600, every: float = 0.05) -> bool:
    """Poll ``condition`` until true; False if the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(every)
    raise AssertionError("timed out waiting for the indexer")


@pytest.fixture(scope="module")
def bbc_subset(tmp_path_factory) -> Path:
    if not BBC.is_dir():
        pytest.skip(f"BBC corpus not found at {BBC}")
    target = tmp_path_factory.mktemp("bbc-subset")
    rng = random.Random(5)
    for folder in sorted(p for p in BBC.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.txt"))
        (target / folder.name).mkdir()
        for src in rng.sample(files, BBC_PER_FOLDER):
            shutil.copyfile(src, target / folder.name / src.name)
    return target


@pytest.fixture(scope="module")
def bbc_reference(real_seed_index_dir, bbc_subset, tmp_path_factory):
    """Seeds, then the BBC subset, indexed without interruption: (workdir, before, after).

    The real model: these tests need embedding to take long enough to be interrupted."""
    work = tmp_path_factory.mktemp("reference")
    index_dir = work / "index"
    shutil.copytree(real_seed_index_dir, index_dir)
    before = cli_state(index_dir, work)
    started = time.monotonic()
    done = run_qa("index", str(bbc_subset), "--index-dir", str(index_dir), cwd=work)
    assert done.returncode == 0, done.stderr
    print(f"\nreference index run: {time.monotonic() - started:.1f} s; {done.stdout.strip()}")
    return {"before": before, "after": cli_state(index_dir, work),
            "embeddings": embeddings_count(index_dir)}


def start_index(subset: Path, index_dir: Path, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(qa_cmd("index", str(subset), "--index-dir", str(index_dir)),
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_last_complete_state(
    real_seed_index_dir, bbc_subset, bbc_reference, tmp_path
):
    """Killed while loading, while embedding, as embedding ends, just after the commit."""
    index_dir = tmp_path / "index"
    shutil.copytree(real_seed_index_dir, index_dir)
    before, after = bbc_reference["before"], bbc_reference["after"]
    seed_embeddings, all_embeddings = embeddings_count(index_dir), bbc_reference["embeddings"]
    seed_generation = generation(index_dir)
    assert cli_state(index_dir, tmp_path) == before

    moments = {
        "after 1 s (imports, parsing)": lambda: time.sleep(1) or True,
        "mid-embedding (a batch committed)": lambda: embeddings_count(index_dir) > seed_embeddings,
        "all passages embedded (commit next)": lambda: embeddings_count(index_dir) >= all_embeddings,
        "just after the commit (writing FAISS)": lambda: generation(index_dir) > seed_generation,
    }
    log = []
    for name, condition in moments.items():
        proc = start_index(bbc_subset, index_dir, tmp_path)
        started = time.monotonic()
        reached = wait_for(condition, proc, every=0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        log.append(f"{name}: killed after {time.monotonic() - started:.1f} s "
                   f"(condition reached: {reached}, exit {proc.returncode})")
        committed = generation(index_dir) > seed_generation
        log[-1] += f", committed: {committed}"
        src, got = cli_state(index_dir, tmp_path)
        if committed:  # the kill came after the one visible transaction: new state, complete
            assert name.startswith("just after"), log
            assert src == after[0] and same_answers(got, after[1]), log
        else:
            assert (src, got) == before, log
        assert sqlite_is_sound(index_dir)
    print("\n" + "\n".join(log))

    final = run_qa("index", str(bbc_subset), "--index-dir", str(index_dir), cwd=tmp_path)
    assert final.returncode == 0, final.stderr
    assert "0 passages embedded" in final.stdout  # everything resumed from the cache
    src, got = cli_state(index_dir, tmp_path)
    assert src == after[0]
    assert same_answers(got, after[1])
    assert manifest_matches_database(index_dir)


def sqlite_is_sound(index_dir: Path) -> bool:
    conn = sqlite3.connect(index_dir / "qa.sqlite")
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_130(real_seed_index_dir, bbc_subset, bbc_reference, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(real_seed_index_dir, index_dir)
    seed_embeddings = embeddings_count(index_dir)
    proc = start_index(bbc_subset, index_dir, tmp_path)
    assert wait_for(lambda: embeddings_count(index_dir) > seed_embeddings, proc)
    proc.send_signal(signal.SIGINT)
    out, errors = proc.communicate(timeout=120)
    assert proc.returncode == 130, errors
    assert "Traceback" not in errors and "Interrupted" in errors
    assert errors.strip().splitlines()[-1].startswith("Interrupted")
    assert cli_state(index_dir, tmp_path) == bbc_reference["before"]
    assert sqlite_is_sound(index_dir)


@pytest.mark.slow
def test_two_writers_and_a_reader_on_one_index(real_seed_index_dir, bbc_subset, bbc_reference, tmp_path):
    """A second `qa index` fails on the lock; `qa ask` meanwhile sees the last commit."""
    index_dir = tmp_path / "index"
    shutil.copytree(real_seed_index_dir, index_dir)
    seed_embeddings = embeddings_count(index_dir)
    first = start_index(bbc_subset, index_dir, tmp_path)
    holds_lock = lambda: (index_dir / ".lock").read_text().strip() == str(first.pid)  # noqa: E731
    assert wait_for(holds_lock, first)

    second = run_qa("index", str(DATA), "--index-dir", str(index_dir), cwd=tmp_path)
    assert second.returncode == 1
    assert len(second.stderr.strip().splitlines()) == 1, second.stderr
    assert second.stderr.startswith("Error: another `qa index` is writing to")

    assert wait_for(lambda: embeddings_count(index_dir) > seed_embeddings, first)
    assert first.poll() is None, "the first indexer finished too soon for this test"
    assert cli_state(index_dir, tmp_path) == bbc_reference["before"]

    out, errors = first.communicate(timeout=900)
    assert first.returncode == 0, errors
    assert sqlite_is_sound(index_dir)
    src, got = cli_state(index_dir, tmp_path)
    assert src == bbc_reference["after"][0]
    assert same_answers(got, bbc_reference["after"][1])
