"""What `qa ask` needs from the quotes table: the speakers, and the quotes of some passages.

An index without the table (built before attribution) simply has no quotes here: `qa ask`
keeps working; `qa quotes` says to re-index (qa.quotes.query.check_attributed).
"""

from __future__ import annotations

import sqlite3

from qa.index.schema import in_chunks
from qa.index.store import QuoteRow, Store


class QuoteLookup:
    """Reads quotes for the Searcher; the speaker list is cached per index generation."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._speakers: tuple[int, list[str]] = (-1, [])

    def speakers(self) -> list[str]:
        """Every speaker in the index (most quoted first)."""
        generation = self.store.generation
        if self._speakers[0] != generation:
            rows = self._rows("SELECT speaker FROM quotes GROUP BY speaker ORDER BY COUNT(*) DESC")
            self._speakers = (generation, [r[0] for r in rows])
        return self._speakers[1]

    def passages_by(self, names: list[str]) -> list[int]:
        """Ids of the passages holding a quote by one of these speakers."""
        if not names:
            return []
        marks = ",".join("?" * len(names))
        rows = self._rows(
            f"SELECT DISTINCT passage_id FROM quotes WHERE speaker IN ({marks}) ORDER BY passage_id",
            names,
        )
        return [r[0] for r in rows]

    def of_passages(self, ids: list[int]) -> dict[int, list[QuoteRow]]:
        """passage id -> its quotes (start, end, speaker, kind)."""
        found: dict[int, list[QuoteRow]] = {}
        for rows in in_chunks(
            self._rows, "SELECT passage_id, start_char, end_char, speaker, kind FROM quotes "
            "WHERE passage_id IN ({marks}) ORDER BY passage_id, start_char", ids,
        ):
            for pid, s, e, speaker, kind in rows:
                found.setdefault(pid, []).append((s, e, speaker, kind))
        return found

    def _rows(self, sql: str, args: list | tuple = ()) -> list[tuple]:
        try:
            return self.store.conn.execute(sql, list(args)).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise


def speaker_of(quotes: list[QuoteRow], start: int, end: int) -> str | None:
    """The speaker of the quote that is exactly this sentence, or None."""
    for s, e, speaker, _ in quotes:
        if s == start and e == end:
            return speaker
    return None
