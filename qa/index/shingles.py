"""Word 4-gram shingles, their overlap, and MinHash band keys for finding copies of a text.

Pure numpy and stdlib. A text is reduced to the sorted, unique 64-bit hashes of its word
4-grams (lowercased ``\\w+`` words), so two texts' overlap is one ``np.intersect1d``. Hashes are
deterministic (CRC32 of each word, mixed in uint64), never Python's salted ``hash``: band keys
are stored in the index and must match across runs.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

N = 4  # words per shingle
NEAR_IDENTICAL = 0.7  # shared / the smaller text's shingles: the same passage, one hit at query time
SIGNATURE = 90  # MinHash values per text
BANDS = 30  # LSH bands of SIGNATURE // BANDS rows: texts sharing one band are candidates
_ROWS = SIGNATURE // BANDS
_PRIME = np.uint64((1 << 31) - 1)
_WORD = re.compile(r"\w+")
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
                dtype=np.uint64)
_RANDOM = np.random.default_rng(20261204)
_A = _RANDOM.integers(1, (1 << 31) - 1, SIGNATURE, dtype=np.uint64)
_B = _RANDOM.integers(0, (1 << 31) - 1, SIGNATURE, dtype=np.uint64)
_EMPTY = np.zeros(0, dtype=np.uint64)
_CODES: dict[str, int] = {}  # word -> CRC32: a news vocabulary repeats; emptied when full
_VOCABULARY = 200_000


def shingle_hashes(text: str) -> np.ndarray:
    """Sorted unique uint64 hashes of the word 4-grams of ``text`` (fewer words: one shingle)."""
    words = _WORD.findall(text.lower())
    if not words:
        return _EMPTY
    if len(_CODES) > _VOCABULARY:
        _CODES.clear()
    codes = np.array([_CODES.get(w) or _code(w) for w in words], dtype=np.uint64)
    if len(codes) < N:
        codes = np.concatenate([codes, np.zeros(N - len(codes), dtype=np.uint64)])
    count = len(codes) - N + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for i in range(N):  # uint64 arithmetic wraps: a cheap, well-spread position-aware mix
        mixed = (mixed ^ codes[i : i + count]) * _MIX[i]
    return np.unique(mixed ^ (mixed >> np.uint64(29)))


def _code(word: str) -> int:
    code = _CODES[word] = zlib.crc32(word.encode("utf-8"))
    return code


def shared(a: np.ndarray, b: np.ndarray) -> int:
    """How many shingles two sorted unique hash arrays have in common."""
    return len(np.intersect1d(a, b, assume_unique=True))


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Shared shingles over the smaller text's: 1.0 when one text lies inside the other."""
    smaller = min(len(a), len(b))
    return shared(a, b) / smaller if smaller else 0.0


def band_keys(hashes: np.ndarray) -> list[int]:
    """The :data:`BANDS` LSH keys of a text's shingles (signed 64-bit, for SQLite).

    MinHash: for each of :data:`SIGNATURE` affine hashes the smallest value over the
    shingles; two texts agree on one such value with probability their Jaccard similarity,
    on a whole band of three with its cube. Texts of Jaccard 0.4 share a band 86 % of the
    time, 0.5: 98 %, 0.6: 99.9 %; unrelated articles (4-gram Jaccard ~0.003) almost never.
    """
    if not len(hashes):
        return []
    low = (hashes % _PRIME)[None, :]
    values = ((_A[:, None] * low + _B[:, None]) % _PRIME).min(axis=1)  # < 2**62: no wrap
    rows = values.reshape(BANDS, _ROWS)
    keys = np.full(BANDS, 0xCBF29CE484222325, dtype=np.uint64) ^ np.arange(BANDS, dtype=np.uint64)
    for i in range(_ROWS):
        keys = (keys ^ rows[:, i]) * _MIX[i]
    return keys.view(np.int64).tolist()
