"""Copies of a story (wire copy republished with small edits), found at index time.

Two steps, both on word 4-gram shingles (qa/index/shingles.py), neither on a vector threshold:

1. **Articles.** Each article's whole body gets 20 MinHash band keys (``article_bands``); an
   article sharing a band with an earlier one is a candidate, and a copy when the two bodies
   share at least :data:`ARTICLE_OVERLAP` of the shorter one's shingles. A dateline, a cut last
   paragraph, a few changed words or paragraphs split and merged differently barely move that.
2. **Passages.** The passages of two copies are aligned many-to-many, whatever the packing: a
   passage whose text lies mostly (:data:`LINK`) inside the other body is linked
   (``passage_copies``, both ways, with the overlap) to the other article's passage that holds
   most of it, and to any other it shares :data:`LINK` of the smaller one's shingles with. A
   link of :data:`NEAR_IDENTICAL` overlap also puts the later passage in the earlier one's
   group (``dup_of``), which a query collapses to one hit.

Then the check per passage (vector neighbours, then text) catches a passage copied into an
otherwise different article. Articles are checked once, in the order of their passages (ids
only grow), and ``meta.dedup_upto`` records how far, so an interrupted run resumes.

Scale: one indexed band lookup per article and exact overlaps only for its few candidates, so
the cost grows with the number of articles, not with pairs of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from qa.index.shingles import NEAR_IDENTICAL, band_keys, shared, shingle_hashes

if TYPE_CHECKING:
    from qa.index.store import Store
    from qa.index.vectors import VectorIndex

ARTICLE_OVERLAP = 0.5  # shared shingles / the shorter body's: the same story
LINK = 0.5  # a passage this much inside the other copy is "also in" it
COSINE = 0.92  # the per-passage check: vector neighbours this close ...
JACCARD = 0.5  # ... whose 4-gram shingles overlap this much (intersection over union)
NEIGHBOURS = 8
CANDIDATES = 32  # earlier articles compared with one (a story with more copies: the closest)
BATCH = 256  # articles per transaction

Passages = list[tuple[int, str, int | None]]  # (passage id, text, dup_of) of one article


def mark_duplicates(
    store: Store, vectors: VectorIndex, dim: int, vectors_for: Callable[[np.ndarray], np.ndarray]
) -> int:
    """Find the copies of every article not yet checked; returns how many passages got a group."""
    done = int(store.meta().get("dedup_upto", "0"))
    articles = store.articles_after(done)
    grouped = 0
    for start in range(0, len(articles), BATCH):
        batch = articles[start : start + BATCH]
        texts = store.article_texts(batch)
        hashes = {pid: shingle_hashes(text) for rows in texts.values() for pid, text, _ in rows}
        with store.transaction():
            groups: dict[int, int] = {}
            for article in batch:
                groups.update(_article_copies(store, article, texts[article], hashes, groups))
            groups.update(_passage_copies(store, texts, hashes, groups, vectors, vectors_for))
            store.set_duplicate_groups(groups)
            last = max((p[0] for a in batch for p in texts[a]), default=done)
            store.set_meta({"dedup_upto": str(max(last, done))})
        grouped += len(groups)
    return grouped


def align(
    mine: list[np.ndarray], theirs: list[np.ndarray]
) -> list[tuple[int, int, float]]:
    """Links (i, j, overlap) between passages ``mine[i]`` and ``theirs[j]`` of two copies.

    ``overlap`` is the shared shingles over the smaller passage's. Each side's passage mostly
    inside the other body links to the passage there holding most of it (a passage cut across
    two of the other side's links to the larger share), and any pair sharing :data:`LINK` of
    the smaller passage links too (one passage spanning two of the other's).
    """
    counts = np.array([[shared(a, b) for b in theirs] for a in mine], dtype=np.int64)
    sizes_mine = np.array([max(len(a), 1) for a in mine])
    sizes_theirs = np.array([max(len(b), 1) for b in theirs])
    smaller = np.minimum(sizes_mine[:, None], sizes_theirs[None, :])
    ratio = counts / smaller
    linked = ratio >= LINK
    body_theirs = np.unique(np.concatenate(theirs)) if theirs else np.zeros(0, np.uint64)
    body_mine = np.unique(np.concatenate(mine)) if mine else np.zeros(0, np.uint64)
    for i, a in enumerate(mine):
        if counts[i].max(initial=0) and shared(a, body_theirs) >= LINK * sizes_mine[i]:
            linked[i, int(counts[i].argmax())] = True
    for j, b in enumerate(theirs):
        if counts[:, j].max(initial=0) and shared(b, body_mine) >= LINK * sizes_theirs[j]:
            linked[int(counts[:, j].argmax()), j] = True
    return [(int(i), int(j), float(ratio[i, j])) for i, j in zip(*np.nonzero(linked))]


def _article_copies(
    store: Store, article: int, passages: Passages, hashes: dict[int, np.ndarray],
    groups: dict[int, int],
) -> dict[int, int]:
    """Link this article's passages to those of the earlier articles it copies (or that copy
    it); returns the groups its passages join. ``hashes``: shingles by passage id, a cache."""
    mine = [hashes[pid] for pid, _, _ in passages]
    body = np.unique(np.concatenate(mine)) if mine else np.zeros(0, np.uint64)
    keys = band_keys(body)
    candidates = [a for a in store.band_articles(keys, CANDIDATES) if a != article]
    store.add_bands(article, keys)
    if not candidates:
        return {}
    found: dict[int, tuple[int, float]] = {}  # my passage -> (group, overlap)
    for other, theirs_rows in store.article_texts(candidates).items():
        theirs = [_hashes(hashes, pid, text) for pid, text, _ in theirs_rows]
        other_body = np.unique(np.concatenate(theirs)) if theirs else np.zeros(0, np.uint64)
        if shared(body, other_body) < ARTICLE_OVERLAP * max(min(len(body), len(other_body)), 1):
            continue  # one topic, two stories
        links = align(mine, theirs)
        store.add_copy_links(
            (passages[i][0], theirs_rows[j][0], round(o, 4)) for i, j, o in links
        )
        for i, j, o in links:
            pid, (theirs_id, _, theirs_dup) = passages[i][0], theirs_rows[j]
            group = groups.get(theirs_id) or theirs_dup or theirs_id
            if o >= NEAR_IDENTICAL and group < pid and o > found.get(pid, (0, 0.0))[1]:
                found[pid] = (group, o)
    return {pid: group for pid, (group, _) in found.items()}


def _passage_copies(
    store: Store, texts: dict[int, Passages], hashes: dict[int, np.ndarray],
    groups: dict[int, int], vectors: VectorIndex,
    vectors_for: Callable[[np.ndarray], np.ndarray],
) -> dict[int, int]:
    """Groups for passages copied into otherwise different articles: a close vector
    neighbour in another article whose shingles mostly agree (Jaccard >= :data:`JACCARD`)."""
    owner = {pid: article for article, rows in texts.items() for pid, _, _ in rows}
    ids = np.asarray([pid for pid in owner if pid not in groups], dtype=np.int64)
    if not len(ids) or vectors.index.ntotal == 0:
        return {}
    scores, found = vectors.search(vectors_for(ids), NEIGHBOURS + 1, None, vectors_for)
    near = {int(j) for row, srow in zip(found, scores) for j, s in zip(row, srow) if s >= COSINE}
    others = store.passage_texts(sorted(near))
    new: dict[int, int] = {}
    links: list[tuple[int, int, float]] = []
    for pid, row_scores, row_ids in zip(ids.tolist(), scores, found):
        own = hashes[pid]
        for score, other in zip(row_scores.tolist(), row_ids.tolist()):
            if other < 0 or other >= pid or score < COSINE or other not in others:
                continue  # only earlier passages: the first of a group stays its head
            article, text, dup_of = others[other]
            if article == owner[pid]:
                continue  # the same article repeating itself is not republication
            theirs = _hashes(hashes, other, text)
            common = shared(own, theirs)
            if common >= JACCARD * (len(own) + len(theirs) - common):
                links.append((pid, other, round(common / max(min(len(own), len(theirs)), 1), 4)))
                new.setdefault(pid, groups.get(other) or new.get(other) or dup_of or other)
    store.add_copy_links(links)
    return new


def _hashes(cache: dict[int, np.ndarray], pid: int, text: str) -> np.ndarray:
    found = cache.get(pid)
    if found is None:
        found = cache[pid] = shingle_hashes(text)
    return found
