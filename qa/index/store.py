"""The index folder's source of truth: one SQLite database.

Tables: ``meta`` (format version, model, dimension, generation), ``articles`` (one per file,
with its content hash), ``passages``, ``quotes`` (speech-reporting sentences of a passage with
their speaker, see qa/quotes/), ``article_bands`` and ``passage_copies`` (copies of a
story, see duplicates.py), ``embeddings`` (vectors keyed by the passage text's hash, so
identical text is embedded once and an interrupted run resumes; stored compactly, see
codecs.py), and the FTS5 table ``passages_fts``, an external-content index over the view
``passages_fts_source`` (the text is stored once, in ``passages``). The FAISS file and
manifest.json are derived from it (see vectors.py).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import IndexError_, IndexMissingError
from qa.index.layout import IndexLayout
from qa.ingest.article import META_FIELDS, ArticleMeta
from qa.ingest.files import display_path

if TYPE_CHECKING:
    import numpy as np

FORMAT_VERSION = 3  # 3: float16/int8 vectors, external-content FTS5

# An embeddings row is ~2.4 KB (4 sentences): one fits a 4 KB page, leaving a third of the file
# empty; 16 KB pages hold six (1M passages: -0.6 GB), and reading 256 rows costs the same.
PAGE_SIZE = 16384

_META_COLUMNS = ", ".join(f"{name} TEXT" for name in META_FIELDS)  # one per ArticleMeta field

_SCHEMA = f"""
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

_ARTICLE_COLUMNS = "a.id, f.path, a.record, " + ", ".join(f"a.{name}" for name in META_FIELDS)
_ARTICLE_JOIN = "articles a JOIN files f ON f.id = a.file_id"
_PASSAGE_JOIN = "passages p JOIN articles a ON a.id = p.article_id JOIN files f ON f.id = a.file_id"


@dataclass(frozen=True)
class ArticleRow:
    """An indexed article as stored."""

    id: int
    path: str
    record: int | None
    meta: ArticleMeta
    passages: int = 0

    @classmethod
    def from_row(cls, row: Sequence[Any], passages: int = 0) -> ArticleRow:
        """From the columns of :data:`_ARTICLE_COLUMNS`, in order."""
        return cls(row[0], row[1], row[2], ArticleMeta(*row[3 : 3 + len(META_FIELDS)]), passages)


@dataclass(frozen=True, eq=False)
class PassageRow:
    """A passage with what is needed to show it and pick its answer sentence.

    ``spans``: int32 (start, end) pairs of its sentences, as bytes; ``sentence_vectors``: their
    vectors, decoded to a float32 (sentences, dim) array whatever the stored form.
    """

    id: int
    paragraph: int
    paragraph_end: int | None
    page: int | None
    text: str
    spans: bytes
    sentence_vectors: np.ndarray
    dup_of: int | None
    article: ArticleRow

    @property
    def group(self) -> int:
        """Its duplicate group: the first passage of the text it copies, or itself."""
        return self.dup_of if self.dup_of is not None else self.id


QuoteRow = tuple[int, int, str, str]  # sentence start, end (in the passage text), speaker, kind


@dataclass(frozen=True)
class NewPassage:
    """A passage to insert, with its speech-reporting sentences."""

    paragraph: int
    paragraph_end: int | None
    page: int | None
    text: str
    text_sha: bytes
    quotes: tuple[QuoteRow, ...] = ()


@dataclass(frozen=True)
class NewArticle:
    """An article to insert, with its passages."""

    record: int | None
    meta: ArticleMeta
    passages: list[NewPassage]


class Store:
    """An open index database. Use :meth:`open` (read) or :meth:`create` (write)."""

    def __init__(self, conn: sqlite3.Connection, index_dir: Path) -> None:
        self.conn = conn
        self.index_dir = index_dir
        self.layout = IndexLayout(index_dir)

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path) -> Store:
        """Open an existing index for reading and writing; check it is one we can use."""
        path = IndexLayout(index_dir).db
        if not path.is_file():
            raise IndexMissingError(
                f"no index in {index_dir}/", "Run `qa index [PATH ...]` first (default: data/)"
            )
        store = cls(_connect(path), index_dir)
        store._check_format()
        return store

    @classmethod
    def create(
        cls, index_dir: Path, on_damaged: Callable[[str], None] | None = None
    ) -> Store:
        """Open the index in ``index_dir``, creating the folder and schema if needed.

        With ``on_damaged`` (``qa index --rebuild``), a database that cannot be used (damaged,
        newer format) is moved aside with its derived files and a new one started; the callback
        is told where the old file went. Without it, such a database raises IndexError_.
        """
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexError_(f"cannot create index folder {index_dir}: {exc.strerror}") from None
        existed = IndexLayout(index_dir).db.is_file()
        try:
            store = cls._open_checked(index_dir, existed, thorough=on_damaged is not None)
        except IndexError_ as exc:
            if on_damaged is None or not existed:
                raise
            aside = _move_aside(index_dir)
            on_damaged(f"{exc.message}; moved it to {aside} and starting a new index")
            store = cls(_connect(IndexLayout(index_dir).db), index_dir)
        with store.transaction():
            store.conn.executescript(_SCHEMA)
            store.conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('format_version', ?)", (str(FORMAT_VERSION),)
            )
        return store

    @classmethod
    def _open_checked(cls, index_dir: Path, existed: bool, thorough: bool) -> Store:
        store = cls(_connect(IndexLayout(index_dir).db), index_dir)
        try:
            if existed:
                store._check_format()
            if existed and thorough:
                store._check_integrity()
        except BaseException:
            store.close()
            raise
        return store

    def _check_integrity(self) -> None:
        try:
            problems = [row[0] for row in self.conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            raise damaged_database(self.layout.db, problems[0])

    def close(self) -> None:
        self.conn.close()

    def _check_format(self) -> None:
        try:
            version = int(self.meta().get("format_version", "0"))
        except sqlite3.DatabaseError as exc:
            raise damaged_database(self.layout.db, exc) from None
        if 0 < version < FORMAT_VERSION:
            raise IndexError_(
                f"the index in {self.index_dir}/ was built by an older qa (format {version})",
                "Rebuild it: `qa index --rebuild PATH ...` (the embeddings are recomputed)",
            )
        if version > FORMAT_VERSION:
            raise IndexError_(
                f"the index in {self.index_dir}/ has format {version}, newer than this qa "
                f"understands ({FORMAT_VERSION})",
                "Upgrade qa, or rebuild the index with `qa index --rebuild`",
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    # ---- meta ----------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        try:
            return dict(self.conn.execute("SELECT key, value FROM meta"))
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return {}
            raise

    def set_meta(self, values: dict[str, str]) -> None:
        """Write meta keys; call inside a transaction."""
        self.conn.executemany(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    @property
    def generation(self) -> int:
        """Bumped by every index run that changed something; names the matching FAISS file."""
        return int(self.meta().get("generation", "0"))

    # ---- reading -------------------------------------------------------------------------
    def file_hashes(self) -> dict[str, tuple[str, str]]:
        """path -> (root, sha256) of every indexed file."""
        rows = self.conn.execute("SELECT path, root, sha256 FROM files")
        return {path: (root, sha) for path, root, sha in rows}

    def articles(self, where: str = "1", args: Sequence[Any] = ()) -> list[ArticleRow]:
        """Indexed articles (those matching an SQL condition over ``a``), oldest first."""
        rows = self.conn.execute(
            f"SELECT {_ARTICLE_COLUMNS}, "
            "(SELECT COUNT(*) FROM passages p WHERE p.article_id = a.id) "
            f"FROM {_ARTICLE_JOIN} WHERE {where} "
            "ORDER BY a.date IS NULL, a.date, f.path, a.record",
            list(args),
        )
        return [ArticleRow.from_row(row, row[-1]) for row in rows]

    def article(self, path: str, record: int | None) -> ArticleRow | None:
        """The article stored for a file path (and record), or None."""
        rows = self.articles("f.path = ? AND a.record IS ?", (path, record))
        return rows[0] if rows else None

    def article_passages(self, article_id: int) -> list[PassageRow]:
        """An article's passages in order."""
        ids = [r[0] for r in self.conn.execute(
            "SELECT id FROM passages WHERE article_id = ? ORDER BY id", (article_id,)
        )]
        rows = self.passages(ids)
        return [rows[i] for i in ids]

    def counts(self) -> tuple[int, int]:
        """(articles, passages)."""
        articles = self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        passages = self.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        return articles, passages

    def vector_dimension(self) -> int | None:
        """Dimension of the stored passage vectors (None when there are none)."""
        row = self.conn.execute(
            "SELECT length(e.vector) FROM passages p "
            "JOIN embeddings e ON e.text_sha = p.text_sha LIMIT 1"
        ).fetchone()
        return int(row[0]) // 2 if row else None  # float16 (codecs.py)

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        """The passages with these ids (with their article), by id."""
        from qa.index.codecs import decode_sentence_rows  # numpy: not for `qa sources`

        ids = list(ids)
        found: dict[int, PassageRow] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.conn.execute(
                "SELECT p.id, p.paragraph, p.paragraph_end, p.page, p.text, e.spans, "
                f"e.sentence_vectors, p.dup_of, {_ARTICLE_COLUMNS} "
                f"FROM {_PASSAGE_JOIN} "
                "JOIN embeddings e ON e.text_sha = p.text_sha "
                f"WHERE p.id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            decoded = decode_sentence_rows([(len(row[5]) // 8, row[6]) for row in rows])
            for row, vectors in zip(rows, decoded):
                found[row[0]] = PassageRow(
                    *row[:6], vectors, row[7], article=ArticleRow.from_row(row[8:])
                )
        return found

    def sentence_vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The sentence vectors of these passages, by id: float32 (sentences, dim) arrays.

        Passages without sentences (and ids not stored) are left out.
        """
        from qa.index.codecs import decode_sentence_rows

        found: dict[int, np.ndarray] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.conn.execute(
                "SELECT p.id, length(e.spans) / 8, e.sentence_vectors FROM passages p "
                "JOIN embeddings e ON e.text_sha = p.text_sha "
                f"WHERE p.id IN ({','.join('?' * len(chunk))}) AND length(e.spans) > 0",
                chunk,
            ).fetchall()
            found.update(zip((r[0] for r in rows), decode_sentence_rows([r[1:] for r in rows])))
        return found

    def passage_ids_after(self, last: int) -> list[int]:
        """Ids of passages newer than ``last`` (ids only grow), in order."""
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM passages WHERE id > ? ORDER BY id", (last,)
        )]

    def passage_texts(self, ids: Sequence[int]) -> dict[int, tuple[int, str, int | None]]:
        """(article id, text, duplicate group) of these passages, by id."""
        found: dict[int, tuple[int, str, int | None]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.conn.execute(
                "SELECT id, article_id, text, dup_of FROM passages "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((r[0], (r[1], r[2], r[3])) for r in rows)
        return found

    def set_duplicate_groups(self, groups: dict[int, int]) -> None:
        """Record passage -> duplicate group; call inside a transaction."""
        self.conn.executemany(
            "UPDATE passages SET dup_of = ? WHERE id = ?", [(g, p) for p, g in groups.items()]
        )

    def copies(self, groups: Sequence[int]) -> dict[int, list[tuple[int, int, ArticleRow]]]:
        """Every passage of these duplicate groups: group -> [(passage id, paragraph, article)]."""
        found: dict[int, list[tuple[int, int, ArticleRow]]] = {}
        for start in range(0, len(groups), 400):
            chunk = list(groups[start : start + 400])
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT coalesce(p.dup_of, p.id), p.id, p.paragraph, {_ARTICLE_COLUMNS} "
                f"FROM {_PASSAGE_JOIN} WHERE p.dup_of IN ({marks}) OR p.id IN ({marks}) "
                "ORDER BY p.id",
                chunk + chunk,
            )
            for row in rows:
                found.setdefault(row[0], []).append((row[1], row[2], ArticleRow.from_row(row[3:])))
        return found

    def articles_after(self, last: int) -> list[int]:
        """Ids of the articles whose passages are newer than passage ``last``, oldest first."""
        return [r[0] for r in self.conn.execute(
            "SELECT article_id FROM passages WHERE id > ? GROUP BY article_id ORDER BY min(id)",
            (last,),
        )]

    def article_texts(
        self, article_ids: Sequence[int]
    ) -> dict[int, list[tuple[int, str, int | None]]]:
        """(passage id, text, duplicate group) of each passage of these articles, in order."""
        found: dict[int, list[tuple[int, str, int | None]]] = {a: [] for a in article_ids}
        for start in range(0, len(article_ids), 500):
            chunk = list(article_ids[start : start + 500])
            rows = self.conn.execute(
                "SELECT article_id, id, text, dup_of FROM passages "
                f"WHERE article_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
                chunk,
            )
            for article, pid, text, dup_of in rows:
                found[article].append((pid, text, dup_of))
        return found

    def band_articles(self, keys: Sequence[int], limit: int) -> list[int]:
        """Up to ``limit`` articles sharing MinHash band keys with these, most shared first."""
        if not keys:
            return []
        return [r[0] for r in self.conn.execute(
            "SELECT article_id FROM article_bands "
            f"WHERE key IN ({','.join('?' * len(keys))}) "
            "GROUP BY article_id ORDER BY count(*) DESC, article_id LIMIT ?",
            [*keys, limit],
        )]

    def add_bands(self, article_id: int, keys: Iterable[int]) -> None:
        """Record an article's band keys; call inside a transaction."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO article_bands (key, article_id) VALUES (?, ?)",
            [(key, article_id) for key in keys],
        )

    def add_copy_links(self, links: Iterable[tuple[int, int, float]]) -> None:
        """Record (passage, copy, overlap) both ways; call inside a transaction."""
        pairs = list(links)
        rows = pairs + [(q, p, o) for p, q, o in pairs]
        self.conn.executemany(
            "INSERT INTO passage_copies (passage_id, copy_id, overlap) VALUES (?, ?, ?) "
            "ON CONFLICT DO UPDATE SET overlap = max(overlap, excluded.overlap)",
            rows,
        )

    def copy_links(self, ids: Sequence[int]) -> dict[int, list[tuple[int, int, ArticleRow]]]:
        """The passages recorded as copies of these: id -> [(copy id, paragraph, article)]."""
        found: dict[int, list[tuple[int, int, ArticleRow]]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = self.conn.execute(
                f"SELECT c.passage_id, p.id, p.paragraph, {_ARTICLE_COLUMNS} "
                f"FROM {_PASSAGE_JOIN} JOIN passage_copies c ON c.copy_id = p.id "
                f"WHERE c.passage_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY c.passage_id, c.overlap DESC, p.id",
                chunk,
            )
            for row in rows:
                found.setdefault(row[0], []).append((row[1], row[2], ArticleRow.from_row(row[3:])))
        return found

    def passage_ids(self, where: str, args: Sequence[Any]) -> list[int]:
        """Ids of the passages whose article matches an SQL condition over ``a`` and ``f``."""
        rows = self.conn.execute(
            f"SELECT p.id FROM {_PASSAGE_JOIN} "
            f"WHERE {where} ORDER BY p.id",
            list(args),
        )
        return [r[0] for r in rows]

    def lexical(
        self, match: str, limit: int, scope: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """FTS5 BM25 search: (passage id, bm25 score, higher is better), best first.

        ``scope``: only these passage ids compete; the best ``limit`` of the scope come back
        however small it is. (FTS5 ranks every match to sort them anyway, so the scope is
        applied while reading the ranked rows: cheaper than a rowid constraint, which makes
        FTS5 look every scoped row up on its own.)
        """
        sql = "SELECT rowid, -bm25(passages_fts) AS score FROM passages_fts WHERE passages_fts MATCH ? ORDER BY score DESC"
        if scope is None:
            rows = self.conn.execute(sql + " LIMIT ?", (match, limit))
            return [(int(rowid), float(score)) for rowid, score in rows]
        wanted = scope if isinstance(scope, (set, frozenset)) else set(scope)
        found: list[tuple[int, float]] = []
        for rowid, score in self.conn.execute(sql, (match,)):
            if rowid in wanted:
                found.append((int(rowid), float(score)))
                if len(found) == limit:
                    break
        return found

    def document_frequency(self, word: str) -> int:
        """How many passages contain this word, as the BM25 index tokenises it."""
        row = self.conn.execute(
            "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?",
            ('"' + word.replace('"', '""') + '"',),
        ).fetchone()
        return int(row[0])

    def mentions(self, word: str) -> bool:
        """Whether any passage (or title) contains this word, as the BM25 index tokenises it."""
        row = self.conn.execute(
            "SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? LIMIT 1",
            ('"' + word.replace('"', '""') + '"',),
        ).fetchone()
        return row is not None

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[list[int], list[bytes]]]:
        """(passage ids, float32 vector blobs) in batches, for building the FAISS index."""
        cursor = self.conn.execute(
            "SELECT p.id, e.vector FROM passages p JOIN embeddings e ON e.text_sha = p.text_sha "
            "ORDER BY p.id"
        )
        while rows := cursor.fetchmany(batch):
            yield [r[0] for r in rows], [r[1] for r in rows]

    def known_embeddings(self, shas: Iterable[bytes]) -> set[bytes]:
        """Which of these text hashes already have an embedding."""
        found: set[bytes] = set()
        shas = list(shas)
        for start in range(0, len(shas), 500):
            chunk = shas[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT text_sha FROM embeddings WHERE text_sha IN ({marks})", chunk
            )
            found.update(r[0] for r in rows)
        return found

    # ---- writing -------------------------------------------------------------------------
    def put_embeddings(self, rows: Sequence[tuple[bytes, Any, bytes, Any]]) -> None:
        """Store (text_sha, vector, spans, sentence_vectors) rows in their own transaction.

        ``vector``: float32 array (or its bytes); ``spans``: int32 (start, end) pairs as bytes;
        ``sentence_vectors``: a float (sentences, dim) array (or float16 bytes). They are stored
        compactly (codecs.py). Embeddings are a cache keyed by content: writing them never
        changes what a search sees, so they are committed as they come and survive an
        interrupted run.
        """
        from qa.index.codecs import encode_rows

        encoded = encode_rows(rows)
        with self.transaction():
            self.conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", encoded)

    def delete_files(self, paths: Iterable[str]) -> None:
        """Remove these files with their articles, passages and FTS rows; call in a transaction."""
        for path in paths:
            row = self.conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
            if row is None:
                continue
            self.conn.execute(  # external content: FTS5 is told the text it indexed
                "INSERT INTO passages_fts (passages_fts, rowid, text, title) "
                "SELECT 'delete', s.id, s.text, s.title FROM passages_fts_source s "
                "WHERE s.id IN (SELECT p.id FROM passages p "
                "JOIN articles a ON a.id = p.article_id WHERE a.file_id = ?)",
                (row[0],),
            )
            for column in ("passage_id", "copy_id"):
                self.conn.execute(
                    f"DELETE FROM passage_copies WHERE {column} IN (SELECT p.id FROM passages p "
                    "JOIN articles a ON a.id = p.article_id WHERE a.file_id = ?)",
                    (row[0],),
                )
            self.conn.execute(
                "DELETE FROM passages WHERE article_id IN "
                "(SELECT id FROM articles WHERE file_id = ?)",
                (row[0],),
            )
            self.conn.execute("DELETE FROM articles WHERE file_id = ?", (row[0],))
            self.conn.execute("DELETE FROM files WHERE id = ?", (row[0],))

    def insert_file(self, path: str, root: str, sha256: str) -> int:
        """Record a file; its articles follow with :meth:`insert_article`. In a transaction."""
        cursor = self.conn.execute(
            "INSERT INTO files (path, root, sha256) VALUES (?, ?, ?)", (path, root, sha256)
        )
        return int(cursor.lastrowid or 0)

    def insert_article(self, file_id: int, article: NewArticle) -> None:
        """Insert one article with its passages and FTS rows; call inside a transaction."""
        m = article.meta
        article_id = self.conn.execute(
            f"INSERT INTO articles (file_id, record, {', '.join(META_FIELDS)}) "
            f"VALUES (?, ?, {', '.join('?' * len(META_FIELDS))})",
            (file_id, article.record, *m.to_dict().values()),
        ).lastrowid
        for passage in article.passages:
            pid = self.conn.execute(
                "INSERT INTO passages (article_id, paragraph, paragraph_end, page, text, text_sha) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (article_id, passage.paragraph, passage.paragraph_end, passage.page,
                 passage.text, passage.text_sha),
            ).lastrowid
            self.conn.execute(
                "INSERT INTO passages_fts (rowid, text, title) VALUES (?, ?, ?)",
                (pid, passage.text, m.title or ""),
            )
            if passage.quotes:
                self.put_quotes(pid, passage.quotes)

    def put_quotes(self, passage_id: int | None, quotes: Iterable[QuoteRow]) -> None:
        """Store a passage's speech-reporting sentences; call inside a transaction."""
        self.conn.executemany(
            "INSERT INTO quotes (passage_id, start_char, end_char, speaker, kind) "
            "VALUES (?, ?, ?, ?, ?)",
            [(passage_id, *quote) for quote in quotes],
        )

    def prune_embeddings(self) -> None:
        """Drop cached embeddings no passage uses any more; call inside a transaction."""
        self.conn.execute(
            "DELETE FROM embeddings WHERE text_sha NOT IN (SELECT text_sha FROM passages)"
        )

    def clear(self) -> None:
        """Empty the visible tables (for --rebuild); call inside a transaction.

        Embeddings stay: they are keyed by model and text, this run has just filled in the ones
        it needs, and :meth:`prune_embeddings` drops the rest.
        """
        self.conn.execute("INSERT INTO passages_fts (passages_fts) VALUES ('delete-all')")
        for table in ("passage_copies", "article_bands", "quotes", "passages", "articles", "files"):
            self.conn.execute(f"DELETE FROM {table}")
        self.conn.execute("DELETE FROM meta WHERE key NOT IN ('format_version', 'generation')")

    def manifest(self) -> dict[str, object]:
        """The facts manifest.json mirrors: format, model, dimension, counts, generation."""
        meta = self.meta()
        articles, passages = self.counts()
        return {
            "format_version": int(meta.get("format_version", FORMAT_VERSION)),
            "model": meta.get("model"),
            "dimension": int(meta["dimension"]) if "dimension" in meta else None,
            "articles": articles,
            "passages": passages,
            "generation": int(meta.get("generation", "0")),
        }


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a new database only; else ignored
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.create_function("qa_path_matches", 2, _path_matches, deterministic=True)
    except sqlite3.DatabaseError as exc:
        raise damaged_database(path, exc) from None
    return conn


def _path_matches(path: str, pattern: str) -> bool:
    """SQL ``qa_path_matches(path, regex)``: the regex against the path as qa prints it, or as stored."""
    regex = _compiled(pattern)
    return bool(regex.match(display_path(path)) or regex.match(path))


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def damaged_database(path: Path, detail: object) -> IndexError_:
    """The one error for an index database that SQLite cannot read, with the way out."""
    return IndexError_(
        f"the index database {path} is damaged ({detail})",
        f"Rebuild it: `qa index --rebuild` (or delete {path.parent}/ and run `qa index`)",
    )


def _move_aside(index_dir: Path) -> Path:
    """Rename an unusable database (and its WAL) out of the way; drop its derived files."""
    layout = IndexLayout(index_dir)
    aside = layout.damaged_db()
    os.replace(layout.db, aside)
    for suffix in ("-wal", "-shm"):
        side = layout.db_side_file(suffix)
        if side.exists():
            os.replace(side, layout.damaged_db(suffix))
    for derived in [*layout.faiss_files().values(), layout.manifest]:
        derived.unlink(missing_ok=True)
    return aside


def dumps_manifest(manifest: dict[str, object]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"
