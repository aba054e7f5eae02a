"""The stored forms of vectors (qa/index/codecs.py): compact, and close enough to rank with."""

from __future__ import annotations

import numpy as np
import pytest

from qa.index import codecs

DIM = 384


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def hard_vectors(n: int = 2000, seed: int = 0) -> np.ndarray:
    """Gaussian, heavy-tailed and one-outlier-component unit vectors (the last are the worst
    case for a scale set by the largest component)."""
    rng = np.random.default_rng(seed)
    gaussian = rng.standard_normal((n, DIM))
    heavy = rng.standard_t(5, (n, DIM))
    outlier = rng.standard_normal((n, DIM))
    outlier[:, 7] += 12 * np.sign(rng.standard_normal(n))  # one component ~0.5 of the norm
    return unit(np.concatenate([gaussian, heavy, outlier]))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_sentence_vectors_keep_their_direction_in_a_quarter_of_the_bytes():
    vectors = hard_vectors()
    blob = codecs.encode_sentences(vectors, DIM)
    assert len(blob) == len(vectors) * (DIM + 4)  # int8 codes + one float32 scale each
    assert codecs.sentence_count(blob, DIM) == len(vectors)
    decoded = codecs.decode_sentences(blob, DIM)
    assert decoded.dtype == np.float32 and decoded.shape == vectors.shape
    assert cosines(decoded, vectors).min() >= 0.999
    # the int8 form is what an fp16 copy was for: ranking sentences of a passage
    queries = hard_vectors(50, seed=1)
    assert np.abs(decoded @ queries.T - vectors @ queries.T).max() < 0.01


def test_passage_vectors_are_float16_and_read_back_as_float32():
    vectors = hard_vectors(500)
    blobs = [codecs.encode_vector(v) for v in vectors]
    assert {len(b) for b in blobs} == {2 * DIM}
    assert codecs.stored_dimension(len(blobs[0])) == DIM
    decoded = codecs.decode_vectors(blobs, DIM)
    assert decoded.dtype == np.float32
    assert cosines(decoded, vectors).min() >= 0.99999
    # float32 blobs (written by older callers) still read, alone or mixed with float16 ones
    legacy = [v.tobytes() for v in vectors[:3]]
    np.testing.assert_array_equal(codecs.decode_vectors(legacy, DIM), vectors[:3])
    mixed = codecs.decode_vectors([legacy[0], blobs[1]], DIM)
    np.testing.assert_array_equal(mixed[0], vectors[0])
    np.testing.assert_allclose(mixed[1], vectors[1], atol=1e-3)


@pytest.mark.parametrize("given", ["array", "float16 bytes"])
def test_sentence_input_may_be_an_array_or_float16_bytes(given):
    vectors = hard_vectors(10)
    source = vectors if given == "array" else vectors.astype(np.float16).tobytes()
    decoded = codecs.decode_sentences(codecs.encode_sentences(source, DIM), DIM)
    assert cosines(decoded, vectors).min() >= 0.999


def test_empty_and_zero_vectors_survive():
    assert codecs.encode_sentences(np.zeros((0, DIM), np.float32), DIM) == b""
    assert codecs.decode_sentences(b"", DIM).shape == (0, DIM)
    zero = codecs.decode_sentences(codecs.encode_sentences(np.zeros((2, DIM)), DIM), DIM)
    np.testing.assert_array_equal(zero, np.zeros((2, DIM), np.float32))
    assert codecs.decode_vectors([], DIM).shape == (0, DIM)


def test_rows_of_several_passages_decode_in_one_go():
    vectors = hard_vectors(2)  # six: two of each kind
    rows = [(2, codecs.encode_sentences(vectors[:2], DIM)), (0, b""), (4, codecs.encode_sentences(vectors[2:], DIM))]
    first, none, last = codecs.decode_sentence_rows(rows)
    assert (first.shape, none.shape[0], last.shape) == ((2, DIM), 0, (4, DIM))
    assert cosines(np.concatenate([first, last]), vectors).min() >= 0.999


@pytest.mark.slow
def test_real_model_vectors_read_back_close_to_a_fresh_encoding(real_seed_index_dir):
    """The accuracy guard with the packaged model: what the index gives the searcher (decoded
    int8 sentence vectors, float16 passage vectors) against the float32 vectors the encoder
    makes for the same passages."""
    from qa.embed.model import resolve_model
    from qa.embed.passage_encoder import PassageEncoder
    from qa.index.store import Store
    from qa.index.vectors import stored_vectors

    store = Store.open(real_seed_index_dir)
    try:
        ids = store.passage_ids("1", ())
        rows = store.passages(ids)
        texts = [rows[i].text for i in ids]
        spans = [np.frombuffer(rows[i].spans, dtype=np.int32).reshape(-1, 2).tolist() for i in ids]
        fresh = PassageEncoder(resolve_model(None)).encode(texts, spans)
        sentences = store.sentence_vectors(ids)
        passages = stored_vectors(store, np.asarray(ids), DIM)
    finally:
        store.close()
    assert len(ids) >= 10 and all(rows[i].sentence_vectors.shape == (len(s), DIM) for i, s in zip(ids, spans))
    original = np.concatenate(fresh.sentence_vectors)
    stored = np.concatenate([sentences[i] for i in ids])
    np.testing.assert_array_equal(stored, np.concatenate([rows[i].sentence_vectors for i in ids]))
    assert len(stored) == sum(len(s) for s in spans) and cosines(stored, original).min() >= 0.999
    assert cosines(passages, fresh.vectors).min() >= 0.9999


def test_a_batch_of_rows_encodes_like_one_row_at_a_time():
    vectors = hard_vectors(4)
    rows = [
        (b"a", vectors[0], b"s1", vectors[1:3]),
        (b"b", vectors[3].tobytes(), b"", np.zeros((0, DIM), np.float32)),
        (b"c", vectors[4], b"s3", vectors[5:6].astype(np.float16).tobytes()),
    ]
    encoded = codecs.encode_rows(rows)
    assert [(key, spans) for key, _, spans, _ in encoded] == [(b"a", b"s1"), (b"b", b""), (b"c", b"s3")]
    for (_, vector, _, sentences), (_, want_vector, _, want_sentences) in zip(encoded, rows):
        assert vector == codecs.encode_vector(want_vector)
        assert sentences == codecs.encode_sentences(want_sentences, DIM)
    assert codecs.encode_rows([]) == []
    with pytest.raises(ValueError):
        codecs.encode_rows([(b"a", vectors[0], b"", b""), (b"b", vectors[0][:10], b"", b"")])


def test_many_sentences_encode_in_chunks_like_few():
    vectors = hard_vectors(1000)  # 3,000: more than one chunk
    whole = codecs.encode_sentences(vectors, DIM)
    assert whole == b"".join(codecs.encode_sentences(vectors[i : i + 7], DIM) for i in range(0, len(vectors), 7))
