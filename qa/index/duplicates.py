"""Near-duplicate passages (wire copy republished with small edits), found at index time.

A passage is a copy of an earlier one when their vectors are close (cosine >= COSINE) and
their texts share most word 3-grams (Jaccard >= OVERLAP): the vector finds candidates fast,
the text check keeps two different stories on one topic apart. Each passage's ``dup_of`` names
its group (the first passage of the group); queries show a group once, with the other copies
as ``also_in``. Passages are checked once, in id order (ids only grow), and ``meta.dedup_upto``
records how far, so an interrupted run resumes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qa.index.store import Store
    from qa.index.vectors import VectorIndex

COSINE = 0.92
OVERLAP = 0.5
NEIGHBOURS = 8
BATCH = 1024
_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))}


def jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def mark_duplicates(
    store: Store, vectors: VectorIndex, dim: int, vectors_for: Callable[[np.ndarray], np.ndarray]
) -> int:
    """Give every passage not yet checked its duplicate group; returns how many are copies."""
    done = int(store.meta().get("dedup_upto", "0"))
    ids = np.asarray(store.passage_ids_after(done), dtype=np.int64)
    copies = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        scores, found = vectors.search(vectors_for(batch), NEIGHBOURS + 1, None, vectors_for)
        groups = _groups(store, batch, scores, found)
        with store.transaction():
            store.set_duplicate_groups(groups)
            store.set_meta({"dedup_upto": str(int(batch[-1]))})
        copies += len(groups)
    return copies


def _groups(
    store: Store, batch: np.ndarray, scores: np.ndarray, found: np.ndarray
) -> dict[int, int]:
    """passage id -> group id, for the passages of ``batch`` that copy an earlier passage."""
    wanted = {int(j) for row in found for j in row if j >= 0} | {int(i) for i in batch}
    texts = store.passage_texts(sorted(wanted))
    groups: dict[int, int] = {}
    for pid, row_scores, row_ids in zip(batch.tolist(), scores, found):
        mine = texts.get(pid)
        if mine is None:
            continue
        own = shingles(mine[1])
        for score, other in zip(row_scores.tolist(), row_ids.tolist()):
            if other < 0 or other >= pid or score < COSINE or other not in texts:
                continue  # only earlier passages: the first of a group stays its head
            if texts[other][0] == mine[0]:
                continue  # the same article repeating itself is not republication
            if jaccard(own, shingles(texts[other][1])) >= OVERLAP:
                groups[pid] = groups.get(other) or texts[other][2] or other
                break
    return groups
