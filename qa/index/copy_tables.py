"""What duplicates.py reads and writes to find copies of a story.

Passage texts by article and by id, the MinHash band keys of each article's body
(``article_bands``), the copy links between passages of different articles
(``passage_copies``) and each passage's duplicate group (``passages.dup_of``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from qa.index.schema import in_chunks


class CopyTables:
    """:class:`qa.index.store.Store`'s methods over the tables behind copies (a mixin)."""

    conn: sqlite3.Connection

    def passage_ids_after(self, last: int) -> list[int]:
        """Ids of passages newer than ``last`` (ids only grow), in order."""
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM passages WHERE id > ? ORDER BY id", (last,)
        )]

    def passage_texts(self, ids: Sequence[int]) -> dict[int, tuple[int, str, int | None]]:
        """(article id, text, duplicate group) of these passages, by id."""
        found: dict[int, tuple[int, str, int | None]] = {}
        for rows in in_chunks(
            self.conn.execute, "SELECT id, article_id, text, dup_of FROM passages "
            "WHERE id IN ({marks})", ids,
        ):
            found.update((r[0], (r[1], r[2], r[3])) for r in rows)
        return found

    def set_duplicate_groups(self, groups: dict[int, int]) -> None:
        """Record passage -> duplicate group; call inside a transaction."""
        self.conn.executemany(
            "UPDATE passages SET dup_of = ? WHERE id = ?", [(g, p) for p, g in groups.items()]
        )

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
        for rows in in_chunks(
            self.conn.execute, "SELECT article_id, id, text, dup_of FROM passages "
            "WHERE article_id IN ({marks}) ORDER BY id", article_ids,
        ):
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
