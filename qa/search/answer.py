"""Pick the sentence inside a passage that best answers the question."""

from __future__ import annotations

import numpy as np

from qa.search.terms import stem, words

OVERLAP_WEIGHT = 0.3


def pick_sentence(
    text: str,
    spans: np.ndarray,
    sentence_vectors: np.ndarray,
    query_vector: np.ndarray,
    query_terms: list[str],
) -> tuple[int, int, float]:
    """The (start, end) span of the best answer sentence in ``text``, and its cosine.

    Score = cosine(question, sentence) + OVERLAP_WEIGHT * share of the question's content
    terms found in the sentence. Sentence vectors come from the indexing pass (mean of the
    sentence's contextual token embeddings), so no model runs here.

    Args:
        text: the passage.
        spans: (n, 2) int array of sentence character spans.
        sentence_vectors: (n, dim) normalised sentence vectors, same order as ``spans``.
        query_vector: (dim,) normalised question vector.
        query_terms: the question's content terms.
    """
    if len(spans) == 0:
        return 0, len(text), 0.0
    cosines = sentence_vectors.astype(np.float32) @ query_vector.astype(np.float32)
    scores = cosines.copy()
    wanted = {stem(t) for t in query_terms}
    if wanted:
        for i, (start, end) in enumerate(spans):
            found = {stem(w) for w in words(text[start:end])} & wanted
            scores[i] += OVERLAP_WEIGHT * len(found) / len(wanted)
    best = int(np.argmax(scores))
    return int(spans[best][0]), int(spans[best][1]), float(cosines.max())
