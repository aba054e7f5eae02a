"""The index database's tables, the SQL function its scope queries call, and ``in_chunks``.

Tables: ``meta`` (format version, model, dimension, generation), ``files`` (path, content
hash), ``articles`` (record and metadata), ``passages``, ``quotes`` (speech-reporting
sentences of a passage with their speaker, see qa/quotes/), ``article_bands`` and
``passage_copies`` (copies of a story, see duplicates.py), ``embeddings`` (vectors keyed by the
passage text's hash, see embedding_cache.py), and the FTS5 table ``passages_fts``, an
external-content index over the view ``passages_fts_source`` (the text is stored once, in
``passages``). :class:`qa.index.store.Store` creates them; its ``FORMAT_VERSION`` numbers
this layout.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from qa.ingest.article import META_FIELDS
from qa.ingest.files import display_path

_META_COLUMNS = ", ".join(f"{name} TEXT" for name in META_FIELDS)  # one per ArticleMeta field

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    root TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    record INTEGER,
    {_META_COLUMNS}
);
CREATE INDEX IF NOT EXISTS articles_file ON articles(file_id, record);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    paragraph INTEGER NOT NULL,
    paragraph_end INTEGER,
    page INTEGER,
    text TEXT NOT NULL,
    text_sha BLOB NOT NULL,
    dup_of INTEGER
);
CREATE INDEX IF NOT EXISTS passages_article ON passages(article_id);
CREATE INDEX IF NOT EXISTS passages_sha ON passages(text_sha);
CREATE INDEX IF NOT EXISTS passages_dup ON passages(dup_of) WHERE dup_of IS NOT NULL;
CREATE TABLE IF NOT EXISTS article_bands (
    key INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    PRIMARY KEY (key, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS article_bands_article ON article_bands(article_id);
CREATE TABLE IF NOT EXISTS passage_copies (
    passage_id INTEGER NOT NULL,
    copy_id INTEGER NOT NULL,
    overlap REAL NOT NULL,
    PRIMARY KEY (passage_id, copy_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS passage_copies_copy ON passage_copies(copy_id);
CREATE TABLE IF NOT EXISTS embeddings (
    text_sha BLOB PRIMARY KEY,
    vector BLOB NOT NULL,
    spans BLOB NOT NULL,
    sentence_vectors BLOB NOT NULL
);
CREATE VIEW IF NOT EXISTS passages_fts_source AS
    SELECT p.id AS id, p.text AS text, coalesce(a.title, '') AS title
    FROM passages p JOIN articles a ON a.id = p.article_id;
CREATE TABLE IF NOT EXISTS quotes (
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    kind TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quotes_passage ON quotes(passage_id);
CREATE INDEX IF NOT EXISTS quotes_speaker ON quotes(speaker COLLATE NOCASE);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    text, title, content = 'passages_fts_source', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
"""


def add_functions(conn: sqlite3.Connection) -> None:
    """Register the SQL functions the scope filters use on a new connection."""
    conn.create_function("qa_path_matches", 2, _path_matches, deterministic=True)


def _path_matches(path: str, pattern: str) -> bool:
    """SQL ``qa_path_matches(path, regex)``: the regex against the path as qa prints it, or as stored."""
    regex = _compiled(pattern)
    return bool(regex.match(display_path(path)) or regex.match(path))


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


IN_CHUNK = 500  # ids bound per statement (SQLite allows 999 parameters in older builds)


def in_chunks(
    execute: Callable[[str, list[Any]], Iterable[tuple]], sql: str, ids: Sequence[Any],
    size: int = IN_CHUNK,
) -> Iterator[list[tuple]]:
    """The rows of ``sql`` for these ids, a list per chunk of ``size`` ids: each ``{marks}`` in
    ``sql`` becomes the chunk's placeholders (bound once per ``{marks}``)."""
    times = sql.count("{marks}")
    for start in range(0, len(ids), size):
        chunk = list(ids[start : start + size])
        marks = ",".join("?" * len(chunk))
        yield list(execute(sql.replace("{marks}", marks), chunk * times))
