"""The index-time hook: attribute each new or changed article, and bring old indexes up to date.

`qa index` calls :func:`passage_quotes` for every article it (re)writes, so attribution is as
incremental as the rest of indexing. The ``attribution`` meta key records the rules' version:
an index built before attribution (or by older rules) is re-attributed from its stored
passages on the next `qa index`, without re-reading or re-embedding anything.
"""

from __future__ import annotations

from qa.index.store import QuoteRow, Store
from qa.quotes.attribute import ATTRIBUTION_VERSION, attribute

META_KEY = "attribution"


def passage_quotes(texts: list[str]) -> list[tuple[QuoteRow, ...]]:
    """The quote rows of each passage of one article (resolved at article level)."""
    return [
        tuple((q.start, q.end, q.speaker, q.kind) for q in quotes)
        for quotes in attribute(texts)
    ]


def attribution_current(store: Store) -> bool:
    """Whether every stored article was attributed by these rules (an empty index counts)."""
    if store.meta().get(META_KEY) == ATTRIBUTION_VERSION:
        return True
    return store.conn.execute("SELECT 1 FROM passages LIMIT 1").fetchone() is None


def mark_attributed(store: Store) -> None:
    """Record that the index is attributed by these rules; call inside a transaction."""
    store.set_meta({META_KEY: ATTRIBUTION_VERSION})


def refresh_quotes(store: Store) -> int:
    """Re-attribute every article when the index predates these rules; returns how many."""
    if store.meta().get(META_KEY) == ATTRIBUTION_VERSION:
        return 0
    articles = 0
    with store.transaction():
        store.conn.execute("DELETE FROM quotes")
        rows = store.conn.execute("SELECT article_id, id, text FROM passages ORDER BY article_id, id")
        current: int | None = None
        batch: list[tuple[int, str]] = []
        for article_id, pid, text in rows.fetchall():
            if article_id != current and batch:
                _store_article(store, batch)
                articles += 1
                batch = []
            current = article_id
            batch.append((pid, text))
        if batch:
            _store_article(store, batch)
            articles += 1
        mark_attributed(store)
    return articles


def _store_article(store: Store, passages: list[tuple[int, str]]) -> None:
    for (pid, _), quotes in zip(passages, passage_quotes([t for _, t in passages])):
        if quotes:
            store.put_quotes(pid, quotes)
