"""The BM25 side of the index: queries over the FTS5 table ``passages_fts``.

It indexes each passage's text and its article's title, porter-stemmed (see schema.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection


class FullText:
    """:class:`qa.index.store.Store`'s FTS5 queries (a mixin)."""

    conn: sqlite3.Connection

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
