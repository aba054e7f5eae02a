"""Incremental indexing with the real model: added, updated, removed, unchanged."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, RecordingProgress
from qa.index.indexer import run_index

ANADOLU = "anadolu-kremlin-no-prospects-for-peace-talks.txt"
RT = "kremlin-comments-on-prospect-of-peace-talks.txt"
OPTIMISM = "little-ground-for-optimism.txt"


@pytest.fixture(scope="module")
def corpus_and_index(tmp_path_factory):
    """data/ copied to a folder we may change, indexed once."""
    base = tmp_path_factory.mktemp("incremental")
    corpus = base / "news"
    shutil.copytree(DATA, corpus)
    index_dir = base / "index"
    first = run_index(index_dir, [corpus], None, RecordingProgress())
    return corpus, index_dir, first


def expected_passages(folder: Path) -> int:
    """Passages the seed articles make: parse each, cut it as the indexer does."""
    from qa.embed.model import resolve_model
    from qa.ingest.passages import make_passages, token_counter
    from qa.ingest.text import decode_text, parse_article

    ref = resolve_model(None)
    count = token_counter(ref.tokenizer_file)
    return sum(
        len(make_passages(parse_article(decode_text(f.read_bytes())).paragraphs, count, ref.max_seq_length - 2))
        for f in sorted(folder.glob("*.txt"))
    )


def test_first_run_adds_everything(corpus_and_index):
    _, index_dir, first = corpus_and_index
    assert len(first.added) == 5 and not first.updated and not first.removed
    assert first.embedded == first.passages == expected_passages(DATA)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["articles"] == 5 and manifest["passages"] == first.passages
    assert list(index_dir.glob("passages.*.faiss"))
    assert (index_dir / "encoder" / "encoder.json").is_file()


def test_changes_are_applied_incrementally(corpus_and_index):
    corpus, index_dir, first = corpus_and_index
    anadolu = corpus / ANADOLU
    original = anadolu.read_text(encoding="utf-8")
    anadolu.write_text(
        original.replace("right and secure computer", "right and very secure computer"),
        encoding="utf-8",
    )
    (corpus / RT).unlink()
    shutil.copy(DATA / OPTIMISM, corpus / "sub-folder-copy.txt")
    report = run_index(index_dir, [corpus], None, RecordingProgress())
    assert [Path(p).name for p in report.added] == ["sub-folder-copy.txt"]
    assert [Path(p).name for p in report.updated] == [ANADOLU]
    assert [Path(p).name for p in report.removed] == [RT]
    assert report.unchanged == 3
    # only the edited paragraph is new text: everything else comes from the embedding cache
    assert report.embedded == 1
    conn = sqlite3.connect(index_dir / "qa.sqlite")
    texts = [t for (t,) in conn.execute("SELECT text FROM passages")]
    assert any("right and very secure computer" in t for t in texts)
    assert not any("right and secure computer" in t for t in texts)
    paths = [p for (p,) in conn.execute("SELECT path FROM files")]
    assert not any(p.endswith(RT) for p in paths)
    orphans = conn.execute(
        "SELECT COUNT(*) FROM embeddings WHERE text_sha NOT IN (SELECT text_sha FROM passages)"
    ).fetchone()[0]
    assert orphans == 0


def test_unchanged_run_does_not_load_the_model(corpus_and_index):
    corpus, index_dir, _ = corpus_and_index
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, 'tests')\n"
        "from conftest import RecordingProgress\n"
        "from qa.index.indexer import run_index\n"
        f"r = run_index(Path({str(index_dir)!r}), [Path({str(corpus)!r})], None, RecordingProgress())\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "print(json.dumps({'heavy': heavy, 'unchanged': r.unchanged, 'embedded': r.embedded,\n"
        "                  'changed': len(r.added) + len(r.updated) + len(r.removed)}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result == {"heavy": [], "unchanged": 5, "embedded": 0, "changed": 0}
