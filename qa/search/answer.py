"""Pick the sentence inside a passage that best answers the question."""

from __future__ import annotations

import numpy as np

from qa.search.terms import stem, stems_of

OVERLAP_WEIGHT = 0.3


def pick_sentence(
    text: str,
    spans: np.ndarray,
    sentence_vectors: np.ndarray,
    query_vector: np.ndarray,
    query_terms: list[str],
    sentence_stems: list[set[str]] | None = None,
    only: np.ndarray | None = None,
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
        sentence_stems: the stemmed words of each sentence, when the caller has them.
        only: a boolean per sentence: choose among these (a "what did X say" question: X's
            quotes); None or all False: any sentence.
    """
    if len(spans) == 0:
        return 0, len(text), 0.0
    cosines = sentence_vectors.astype(np.float32) @ query_vector.astype(np.float32)
    scores = cosines.copy()
    wanted = {stem(t) for t in query_terms}
    if wanted:
        if sentence_stems is None:
            sentence_stems = [stems_of(text[start:end]) for start, end in spans]
        for i, found in enumerate(sentence_stems):
            scores[i] += OVERLAP_WEIGHT * len(found & wanted) / len(wanted)
    if only is not None and only.any():
        scores = np.where(only, scores, -np.inf)
    best = int(np.argmax(scores))
    return int(spans[best][0]), int(spans[best][1]), float(cosines.max())
