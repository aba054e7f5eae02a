"""Hostile input (issue 5, item 4): each file or question is indexed, skipped with a warning or
refused with one line; never a traceback, and the articles already indexed are untouched.

Files are indexed into a private copy of the seed index, in process (the model is loaded only
when a file has new passage text to embed).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SEED_ARTICLE = DATA / "anadolu-kremlin-no-prospects-for-peace-talks.txt"
QUESTION = "what did Peskov say about tanks"
runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def seed_rows(index_dir: Path) -> dict[str, list]:
    """Everything stored for the seed articles: article rows, passages, their embeddings."""
    conn = sqlite3.connect(index_dir / "qa.sqlite")
    try:
        seeds = f"a.file_id IN (SELECT id FROM files WHERE path LIKE '{DATA}%')"
        return {
            "articles": conn.execute(
                f"SELECT a.id, fl.path, fl.sha256, a.title, a.outlet, a.date, a.author, a.url "
                f"FROM articles a JOIN files fl ON fl.id = a.file_id WHERE {seeds} ORDER BY a.id"
            ).fetchall(),
            "passages": conn.execute(
                f"SELECT p.id, p.article_id, p.paragraph, p.text, p.text_sha FROM passages p "
                f"JOIN articles a ON a.id = p.article_id WHERE {seeds} ORDER BY p.id").fetchall(),
            "fts": conn.execute(
                f"SELECT f.rowid, f.text, f.title FROM passages_fts f JOIN passages p ON p.id = f.rowid "
                f"JOIN articles a ON a.id = p.article_id WHERE {seeds} ORDER BY f.rowid").fetchall(),
            "embeddings": conn.execute(
                f"SELECT e.text_sha, e.vector, e.spans, e.sentence_vectors FROM embeddings e "
                f"WHERE e.text_sha IN (SELECT p.text_sha FROM passages p JOIN articles a "
                f"ON a.id = p.article_id WHERE {seeds}) ORDER BY e.text_sha").fetchall(),
        }
    finally:
        conn.close()


def top_answer(index_dir: Path, question: str = QUESTION, mode: str = "hybrid") -> dict:
    result = invoke("ask", question, "--json", "-k", "1", "--mode", mode, "--index-dir", str(index_dir))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["results"][0]


def index_folder(index_dir: Path, folder: Path):
    """`qa index FOLDER` on the seed copy; asserts no traceback and seeds untouched."""
    before = seed_rows(index_dir)
    seed_answer = top_answer(index_dir)
    result = invoke("index", str(folder), "--index-dir", str(index_dir))
    assert "Traceback" not in result.output
    assert seed_rows(index_dir) == before
    after = top_answer(index_dir)  # new passages may shift fused scores, not the answer
    assert (after["text"], after["answer"]) == (seed_answer["text"], seed_answer["answer"])
    return result


def paths_in_index(index_dir: Path) -> dict[str, int]:
    conn = sqlite3.connect(index_dir / "qa.sqlite")
    try:
        return dict(conn.execute(
            "SELECT f.path, COUNT(p.id) FROM files f JOIN articles a ON a.file_id = f.id "
            "LEFT JOIN passages p ON p.article_id = a.id GROUP BY a.id"))
    finally:
        conn.close()


@pytest.fixture()
def news(tmp_path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    return folder


# ---- files --------------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"   \n\t\n\r\n  \n\x0c\n"], ids=["empty", "whitespace"])
def test_empty_or_blank_file_warns_and_adds_no_passages(seed_index_copy, news, content):
    (news / "blank.txt").write_bytes(content)
    result = index_folder(seed_index_copy, news)
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "blank.txt" in result.stderr
    assert paths_in_index(seed_index_copy).get(str(news / "blank.txt"), 0) == 0


def test_binary_file_named_txt_is_skipped_with_warning(seed_index_copy, news):
    rng = random.Random(0)
    (news / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(20000)))
    (news / "zip.txt").write_bytes(b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(5000)))
    result = index_folder(seed_index_copy, news)
    assert result.exit_code == 0, result.stderr
    for name in ("photo.txt", "zip.txt"):
        assert f"skipped" in result.stderr and name in result.stderr and "binary" in result.stderr
        assert str(news / name) not in paths_in_index(seed_index_copy)
    assert "2 skipped" in result.stdout


def test_latin1_file_is_indexed_with_its_accents(seed_index_copy, news):
    text = (
        "Title: Café owners in Zürich protest\n\n"
        "Owners of cafés in Zürich protested on Tuesday against the new rent rules, "
        "saying the façade renovations would cost them dearly.\n\n"
        "The city's mayor, René Müller, promised a reply « within a week ».\n"
    )
    data = text.encode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    (news / "latin1.txt").write_bytes(data)
    (news / "mixed.txt").write_bytes(
        "Title: Storm in Bergen\n\nA storm hit Bergen on Friday, the fjord ferries stopped.\n".encode()
        + b"\xff\xfe broken bytes \xc3\x28 in the middle of a sentence about ferries.\n"
    )
    result = index_folder(seed_index_copy, news)
    assert result.exit_code == 0, result.stderr
    assert "2 added" in result.stdout
    hit = top_answer(seed_index_copy, "Why did café owners in Zürich protest?")
    assert hit["source"]["path"].endswith("latin1.txt")
    assert "cafés in Zürich" in hit["text"] and "façade" in hit["text"]
    assert top_answer(seed_index_copy, "Bergen storm ferries")["source"]["path"].endswith("mixed.txt")


def test_one_line_of_200000_characters_is_split_and_searchable(seed_index_copy, news):
    # no sentence end, no newline; periodic, so its window-sized pieces embed mostly once
    line = ("harbour council " * 12_500)[:199_950] + " the zeppelin landed near the lighthouse"
    assert "\n" not in line and len(line) >= 200_000 - 100
    (news / "oneline.txt").write_text(line, encoding="utf-8")
    result = index_folder(seed_index_copy, news)
    assert result.exit_code == 0, result.stderr
    assert paths_in_index(seed_index_copy)[str(news / "oneline.txt")] > 50  # split to fit the window
    hit = top_answer(seed_index_copy, "zeppelin lighthouse", mode="lexical")
    assert hit["source"]["path"].endswith("oneline.txt") and "zeppelin" in hit["text"]


def test_symlink_loop_in_a_folder_is_walked_once(seed_index_copy, news):
    (news / "story.txt").write_bytes(SEED_ARTICLE.read_bytes())  # cached text: no model load
    (news / "sub").mkdir()
    (news / "sub" / "back").symlink_to(news, target_is_directory=True)
    (news / "self").symlink_to(news / "self")  # a link to itself
    (news / "loop.txt").symlink_to(news / "loop.txt")
    result = index_folder(seed_index_copy, news)
    assert result.exit_code == 0, result.stderr
    assert "1 added" in result.stdout and "0 passages embedded" in result.stdout
    assert [p for p in paths_in_index(seed_index_copy) if p.startswith(str(news))] == [str(news / "story.txt")]


def test_unreadable_file_is_skipped_with_warning(seed_index_copy, news, monkeypatch):
    (news / "good.txt").write_bytes(SEED_ARTICLE.read_bytes())
    secret = news / "secret.txt"
    secret.write_text("Title: Secret\n\nNobody may read this file.\n", encoding="utf-8")
    secret.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        real = Path.read_bytes

        def read_bytes(self: Path) -> bytes:
            if self.name == "secret.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    try:
        result = index_folder(seed_index_copy, news)
    finally:
        secret.chmod(0o644)
    assert result.exit_code == 0, result.stderr
    assert "skipped" in result.stderr and "secret.txt" in result.stderr and "Permission denied" in result.stderr
    assert set(p for p in paths_in_index(seed_index_copy) if p.startswith(str(news))) == {str(news / "good.txt")}


def test_unreadable_file_given_directly_keeps_its_old_passages(seed_index_copy, news, monkeypatch):
    """A file indexed earlier that becomes unreadable is skipped, not removed."""
    story = news / "story.txt"
    story.write_bytes(SEED_ARTICLE.read_bytes())
    assert invoke("index", str(news), "--index-dir", str(seed_index_copy)).exit_code == 0
    kept = paths_in_index(seed_index_copy)[str(story)]
    import qa.index.indexer as indexer

    real = indexer.file_sha256
    monkeypatch.setattr(indexer, "file_sha256", lambda path: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", path)) if path == str(story) else real(path))
    result = index_folder(seed_index_copy, news)
    assert result.exit_code == 0 and "Permission denied" in result.stderr
    assert paths_in_index(seed_index_copy)[str(story)] == kept


BIG_MB = 50


@pytest.mark.slow
def test_50_mb_file_is_indexed_in_bounded_memory_with_progress(seed_index_copy, news, tmp_path):
    rng = random.Random(2)
    words = "minister council harbour league striker budget tariff storm vaccine festival".split()
    paragraphs = [
        f"Paragraph {i}: " + " ".join(rng.choice(words) for _ in range(60)) + "."
        for i in range(300)
    ]
    block = ("\n\n".join(paragraphs) + "\n\n").encode()
    big = news / "big.txt"
    with big.open("wb") as handle:
        handle.write(b"Title: A very long file\n\n")
        for _ in range(BIG_MB * 1024 * 1024 // len(block) + 1):
            handle.write(block)
    assert big.stat().st_size >= BIG_MB * 1024 * 1024
    rss_file = tmp_path / "maxrss"
    # VmHWM (this process's own peak, in kB), not ru_maxrss: Linux carries the forking
    # parent's peak into ru_maxrss across exec, so a big pytest process would be counted too.
    code = (
        "import re\n"
        "from qa.cli.app import main\n"
        "try:\n    main()\nfinally:\n"
        "    status = open('/proc/self/status').read()\n"
        "    peak = re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)\n"
        f"    open({str(rss_file)!r}, 'w').write(peak)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "index", str(news), "--index-dir", str(seed_index_copy)],
        cwd=tmp_path, capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "Embedding passages" in proc.stderr  # the progress bar was drawn
    peak_mb = int(rss_file.read_text()) / 1024
    print(f"\n50 MB file: peak RSS {peak_mb:.0f} MB; {proc.stdout.strip()}")
    assert peak_mb < 2000, f"peak RSS {peak_mb:.0f} MB"  # seeds alone: ~850 MB (torch + model)
    assert "1 added" in proc.stdout
    hit = top_answer(seed_index_copy, "Paragraph 123 minister council harbour", mode="lexical")
    assert hit["source"]["path"].endswith("big.txt")
    assert top_answer(seed_index_copy)["source"]["path"].startswith(str(DATA.relative_to(ROOT)))


# ---- questions ----------------------------------------------------------------------------
def test_question_of_10000_characters_is_answered(seed_index_dir):
    question = ("What did Peskov say about the Abrams tanks delivered to Ukraine? " * 200)[:10_000]
    for mode in ("hybrid", "dense", "lexical"):
        result = invoke("ask", question, "--json", "-k", "3", "--mode", mode, "--index-dir", str(seed_index_dir))
        assert result.exit_code == 0, result.stderr
        obj = json.loads(result.stdout)
        assert obj["question"] == question
        assert any("Abrams" in r["text"] for r in obj["results"])


@pytest.mark.parametrize("question", ['"AND OR NOT * ( ) NEAR:', '"*():^-+{}', "NEAR(\"a\" \"b\", 2) OR"])
@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_question_of_only_fts5_operators_is_safe(seed_index_dir, question, mode):
    result = invoke("ask", question, "--json", "--mode", mode, "--index-dir", str(seed_index_dir))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    obj = json.loads(result.stdout)
    assert obj["question"] == question and isinstance(obj["results"], list)
    if mode != "lexical":
        assert len(obj["results"]) == 5  # dense search always has neighbours


@pytest.mark.parametrize("question", ["", "   ", "\t\n"])
def test_empty_question_is_refused_with_one_line(seed_index_dir, question):
    result = invoke("ask", question, "--index-dir", str(seed_index_dir))
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and message.startswith("Error: ") and "empty" in message
    assert result.stdout == ""


def test_only_blank_questions_on_stdin_print_nothing(seed_index_dir):
    result = invoke("ask", "-", "--json", "--index-dir", str(seed_index_dir), input="\n   \n\t\n")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
