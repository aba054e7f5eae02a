"""Index format 3 on disk: compact vectors, 16 KB pages, FTS5 over the passages' own text.

The FTS5 table keeps no copy of the text (external content), so every write path must tell it
what it indexed: these tests check the full-text index against the passages after adds,
changes, deletions and --rebuild with FTS5's own integrity check.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from qa.index.indexer import run_index
from qa.index.store import FORMAT_VERSION, PAGE_SIZE, Store
from tests.conftest import DATA, RecordingProgress


def fts_consistent(index_dir: Path) -> tuple[int, int]:
    """(passages, FTS5 documents); raises if the full-text index disagrees with the text."""
    conn = sqlite3.connect(index_dir / "qa.sqlite")
    try:
        conn.execute("INSERT INTO passages_fts (passages_fts) VALUES ('integrity-check')")
        passages = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        documents = conn.execute("SELECT count(*) FROM passages_fts_docsize").fetchone()[0]
        return passages, documents
    finally:
        conn.close()


def lexical_paths(index_dir: Path, word: str) -> set[str]:
    store = Store.open(index_dir)
    try:
        ids = [pid for pid, _ in store.lexical(f'"{word}"', 100)]
        return {row.article.path.rsplit("/", 1)[-1] for row in store.passages(ids).values()}
    finally:
        store.close()


def test_a_new_index_is_format_3_with_compact_rows(seed_index_dir):
    conn = sqlite3.connect(seed_index_dir / "qa.sqlite")
    try:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        version = conn.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()[0]
        assert int(version) == FORMAT_VERSION == 3
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "passages_fts_content" not in tables  # the text is stored once
        dim = int(conn.execute("SELECT value FROM meta WHERE key = 'dimension'").fetchone()[0])
        rows = conn.execute("SELECT length(vector), length(spans) / 8, length(sentence_vectors) FROM embeddings").fetchall()
    finally:
        conn.close()
    assert rows and all(vector == 2 * dim for vector, _, _ in rows)  # float16
    assert all(blob == n * (dim + 4) for _, n, blob in rows)  # int8 + a float32 scale each
    passages, documents = fts_consistent(seed_index_dir)
    assert passages == documents > 0


def test_changed_removed_and_rebuilt_files_keep_the_full_text_index_true(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA, corpus)
    index_dir = tmp_path / "index"
    run_index(index_dir, [corpus], "hashing", RecordingProgress())
    first = sorted(corpus.glob("*.txt"))
    first[0].write_text("Ferry strike\n\nThe ferry operators walked out over pay.\n", encoding="utf-8")
    removed = first[1].name
    first[1].unlink()
    run_index(index_dir, [corpus], "hashing", RecordingProgress())
    passages, documents = fts_consistent(index_dir)
    assert passages == documents > 0
    assert lexical_paths(index_dir, "ferry") == {first[0].name}
    assert removed not in lexical_paths(index_dir, "the"), (removed, lexical_paths(index_dir, "the"))
    run_index(index_dir, [corpus], "hashing", RecordingProgress(), rebuild=True)
    assert fts_consistent(index_dir)[0] == fts_consistent(index_dir)[1] == passages
    assert lexical_paths(index_dir, "ferry") == {first[0].name}
