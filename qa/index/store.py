"""The index folder's source of truth: one SQLite database (tables: schema.py).

:class:`Store` opens it (checking its format, moving a damaged one aside on --rebuild), reads
articles and passages as rows to show, and writes what an index run changes in one
transaction. Its methods over the embedding cache, the tables behind copies of a story and the
FTS5 index live in embedding_cache.py, copy_tables.py and fts.py. The FAISS file and
manifest.json are derived from it (see vectors.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import IndexError_, IndexMissingError
from qa.index.copy_tables import CopyTables
from qa.index.embedding_cache import EmbeddingCache
from qa.index.fts import FullText
from qa.index.layout import IndexLayout
from qa.index.schema import SCHEMA, add_functions, in_chunks
from qa.ingest.article import META_FIELDS, ArticleMeta

if TYPE_CHECKING:
    import numpy as np

FORMAT_VERSION = 3  # 3: float16/int8 vectors, external-content FTS5

# An embeddings row is ~2.4 KB (4 sentences): one fits a 4 KB page, leaving a third of the file
# empty; 16 KB pages hold six (1M passages: -0.6 GB), and reading 256 rows costs the same.
PAGE_SIZE = 16384

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


class Store(EmbeddingCache, CopyTables, FullText):
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
            aside = IndexLayout(index_dir).move_db_aside()
            on_damaged(f"{exc.message}; moved it to {aside} and starting a new index")
            store = cls(_connect(IndexLayout(index_dir).db), index_dir)
        with store.transaction():
            store.conn.executescript(SCHEMA)
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

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        """The passages with these ids (with their article), by id."""
        from qa.index.codecs import decode_sentence_rows  # numpy: not for `qa sources`

        found: dict[int, PassageRow] = {}
        for rows in in_chunks(
            self.conn.execute,
            "SELECT p.id, p.paragraph, p.paragraph_end, p.page, p.text, e.spans, "
            f"e.sentence_vectors, p.dup_of, {_ARTICLE_COLUMNS} "
            f"FROM {_PASSAGE_JOIN} "
            "JOIN embeddings e ON e.text_sha = p.text_sha "
            "WHERE p.id IN ({marks})",
            list(ids),
        ):
            decoded = decode_sentence_rows([(len(row[5]) // 8, row[6]) for row in rows])
            for row, vectors in zip(rows, decoded):
                found[row[0]] = PassageRow(
                    *row[:6], vectors, row[7], article=ArticleRow.from_row(row[8:])
                )
        return found

    def copies(self, groups: Sequence[int]) -> dict[int, list[tuple[int, int, ArticleRow]]]:
        """Every passage of these duplicate groups: group -> [(passage id, paragraph, article)]."""
        found: dict[int, list[tuple[int, int, ArticleRow]]] = {}
        for rows in in_chunks(
            self.conn.execute,
            f"SELECT coalesce(p.dup_of, p.id), p.id, p.paragraph, {_ARTICLE_COLUMNS} "
            f"FROM {_PASSAGE_JOIN} WHERE p.dup_of IN ({{marks}}) OR p.id IN ({{marks}}) "
            "ORDER BY p.id",
            groups, size=400,  # each bound twice
        ):
            for row in rows:
                found.setdefault(row[0], []).append((row[1], row[2], ArticleRow.from_row(row[3:])))
        return found

    def copy_links(self, ids: Sequence[int]) -> dict[int, list[tuple[int, int, ArticleRow]]]:
        """The passages recorded as copies of these: id -> [(copy id, paragraph, article)]."""
        found: dict[int, list[tuple[int, int, ArticleRow]]] = {}
        for rows in in_chunks(
            self.conn.execute,
            f"SELECT c.passage_id, p.id, p.paragraph, {_ARTICLE_COLUMNS} "
            f"FROM {_PASSAGE_JOIN} JOIN passage_copies c ON c.copy_id = p.id "
            "WHERE c.passage_id IN ({marks}) "
            "ORDER BY c.passage_id, c.overlap DESC, p.id",
            ids,
        ):
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

    # ---- writing -------------------------------------------------------------------------
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
        add_functions(conn)
    except sqlite3.DatabaseError as exc:
        raise damaged_database(path, exc) from None
    return conn


def damaged_database(path: Path, detail: object) -> IndexError_:
    """The one error for an index database that SQLite cannot read, with the way out."""
    return IndexError_(
        f"the index database {path} is damaged ({detail})",
        f"Rebuild it: `qa index --rebuild` (or delete {path.parent}/ and run `qa index`)",
    )


def dumps_manifest(manifest: dict[str, object]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"
