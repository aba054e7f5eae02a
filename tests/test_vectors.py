"""The FAISS side: index-type choice, mmap reopen, incremental update, filters, recall.

Synthetic clustered unit vectors, no model. A small SQLite stand-in for the store has the
columns vectors.py reads (passages.id/text_sha, embeddings.vector), so these tests do not
depend on the rest of the schema.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from qa.errors import BadInputError
from qa.index import index_types, vectors
from qa.index.index_types import IndexType, VectorPlan, choose, needs_rebuild, nlist_for
from qa.index.layout import IndexLayout

DIM = 64
TYPES = [IndexType.FLAT, IndexType.HNSW, IndexType.IVFPQ]


class FakeStore:
    """What vectors.py needs of a Store: ids, vectors, the layout and the generation."""

    def __init__(self, index_dir: Path, autoincrement: bool = True) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        self.index_dir = index_dir
        self.layout = IndexLayout(index_dir)
        self.conn = sqlite3.connect(index_dir / "t.sqlite", isolation_level=None)
        self.conn.execute("PRAGMA synchronous = OFF")
        key = "INTEGER PRIMARY KEY AUTOINCREMENT" if autoincrement else "INTEGER PRIMARY KEY"
        self.conn.executescript(
            f"CREATE TABLE passages (id {key}, text_sha BLOB NOT NULL);"
            "CREATE TABLE embeddings (text_sha BLOB PRIMARY KEY, vector BLOB NOT NULL);"
        )
        self.generation = 0
        self.vectors: dict[int, np.ndarray] = {}

    def add(self, matrix: np.ndarray) -> np.ndarray:
        ids = []
        self.conn.execute("BEGIN")
        for vector in matrix:
            sha = np.random.bytes(16)
            self.conn.execute("INSERT INTO embeddings VALUES (?, ?)", (sha, vector.astype(np.float32).tobytes()))
            pid = self.conn.execute("INSERT INTO passages (text_sha) VALUES (?)", (sha,)).lastrowid
            self.vectors[pid] = vector
            ids.append(pid)
        self.conn.execute("COMMIT")
        self.generation += 1
        return np.asarray(ids, dtype=np.int64)

    def delete(self, ids: np.ndarray) -> None:
        self.conn.execute("BEGIN")
        for pid in ids.tolist():
            self.conn.execute("DELETE FROM passages WHERE id = ?", (pid,))
            self.vectors.pop(pid)
        self.conn.execute("COMMIT")
        self.generation += 1

    def iter_vectors(self, batch: int = 4096):
        cursor = self.conn.execute(
            "SELECT p.id, e.vector FROM passages p JOIN embeddings e ON e.text_sha = p.text_sha ORDER BY p.id"
        )
        while rows := cursor.fetchmany(batch):
            yield [r[0] for r in rows], [r[1] for r in rows]

    def exact(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        ids = np.asarray(sorted(self.vectors if allowed is None else set(allowed.tolist()) & set(self.vectors)))
        matrix = np.vstack([self.vectors[i] for i in ids])
        scores = query @ matrix.T
        return ids[np.argsort(-scores, axis=1, kind="stable")[:, :k]]

    def vectors_for(self, ids: np.ndarray) -> np.ndarray:
        return vectors.stored_vectors(self, ids, DIM)


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors with topics and sub-topics, like sentence embeddings of news.

    The topics are the same for every seed (new passages are about the same news); ``seed``
    draws the points.
    """
    shape = np.random.default_rng(1234)
    topics = shape.standard_normal((40, DIM)).astype(np.float32)
    subtopics = topics[np.arange(400) % 40] + 0.6 * shape.standard_normal((400, DIM)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = subtopics[rng.integers(0, 400, n)] + 0.35 * rng.standard_normal((n, DIM)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found.tolist(), truth.tolist())]))


def open_index(store: FakeStore, info: dict) -> vectors.VectorIndex:
    n = len(store.vectors)
    return vectors.load_index(store, DIM, n, pytest.fail, info)


def built(tmp_path: Path, kind: IndexType, n: int = 3000, **store_args) -> tuple[FakeStore, dict]:
    store = FakeStore(tmp_path / "index", **store_args)
    store.add(clustered(n))
    info = vectors.refresh_index(store, DIM, kind, None, pytest.fail)
    return store, info


# ---- the choice ----------------------------------------------------------------------------
def test_auto_is_flat_below_the_crossover_and_ivfpq_above():
    below = choose("auto", index_types.FLAT_BELOW - 1, 384)
    above = choose("auto", index_types.FLAT_BELOW, 384)
    assert below.type is IndexType.FLAT and below.factory == "IDMap2,Flat"
    assert above.type is IndexType.IVFPQ and above.nprobe and above.rerank
    assert above.factory == f"IVF{nlist_for(index_types.FLAT_BELOW)},PQ48"
    assert "auto" in above.reason and f"{index_types.FLAT_BELOW:,}" in above.reason


def test_nlist_grows_with_the_square_root_of_n():
    assert nlist_for(1_000_000) == 4096
    assert nlist_for(100_000) == 1024
    assert nlist_for(10) == 16
    assert nlist_for(3000) == 64  # at least 39 vectors per list


def test_explicit_types_are_kept_and_tiny_ivfpq_falls_back_to_flat():
    assert choose(IndexType.HNSW, 10, 384).factory == "IDMap2,HNSW32,Flat"
    assert choose("FLAT", 10**7, 384).type is IndexType.FLAT
    tiny = choose("ivfpq", 100, 384)
    assert tiny.type is IndexType.FLAT and "too few" in tiny.reason and tiny.requested is IndexType.IVFPQ


@pytest.mark.parametrize("bad", ["", "ivf", "flat;rm", None, 3])
def test_unknown_index_type_is_a_one_line_error(bad):
    with pytest.raises(BadInputError) as err:
        choose(bad, 10, 384)
    assert "flat" in (err.value.hint or "")


def test_plan_round_trips_through_manifest_fields_and_rejects_garbage():
    plan = choose("auto", 200_000, 384)
    assert VectorPlan.from_info(plan.to_info()) == plan
    for bad in ({}, {"type": "auto", "factory": "x"}, {"type": "nope", "factory": "x"}, {"type": "flat", "factory": 3}):
        with pytest.raises((KeyError, ValueError, TypeError)):
            VectorPlan.from_info(bad)
    assert "nprobe 32" in plan.summary()


def test_rebuild_rules():
    ivf = choose("ivfpq", 10_000, 384)
    assert needs_rebuild(ivf, choose("ivfpq", 15_000, 384), 15_000, 15_000) is None
    assert "retrain" in needs_rebuild(ivf, choose("ivfpq", 20_000, 384), 20_000, 20_000)
    assert "retrain" in needs_rebuild(ivf, choose("ivfpq", 5_000, 384), 5_000, 5_000)
    assert "type" in needs_rebuild(ivf, choose("flat", 10_000, 384), 10_000, 10_000)
    hnsw = choose("hnsw", 1000, 384).with_(tombstones=200)
    assert "compact" in needs_rebuild(hnsw, choose("hnsw", 800, 384), 800, 1000)


# ---- write, mmap reopen ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", TYPES)
def test_mmap_reopen_gives_the_same_results_as_the_built_index(tmp_path, kind):
    store, info = built(tmp_path, kind)
    plan = VectorPlan.from_info(info)
    assert plan.type is kind and info["update"] == "rebuilt"
    in_memory = vectors.build_index(store, DIM, plan)
    mapped = open_index(store, info)
    queries = clustered(20, seed=5)
    a = vectors.search(in_memory, plan, queries, 10, vectors_for=store.vectors_for)
    b = mapped.search(queries, 10, vectors_for=store.vectors_for)
    if kind is IndexType.IVFPQ:  # k-means seeds differ between two trainings: same quality
        assert recall(b[1], store.exact(queries, 10)) >= 0.95
    else:
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_allclose(a[0], b[0], rtol=1e-5)


_RSS_PROBE = """
import sys, numpy as np
from pathlib import Path
from qa.index import vectors
import faiss
def anon():
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('RssAnon'))
before = anon()
index = vectors.read_mapped(Path(sys.argv[1])) if sys.argv[2] == 'mapped' else faiss.read_index(sys.argv[1])
index.search(np.ones((1, index.d), np.float32), 5)
print(anon() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_reopen_is_memory_mapped_not_copied(tmp_path):
    """A mapped 40 MB flat file adds almost nothing to the process's own (anonymous) memory."""
    import subprocess
    import sys

    import faiss

    index = faiss.index_factory(DIM, "IDMap2,Flat", faiss.METRIC_INNER_PRODUCT)
    index.add_with_ids(clustered(160_000), np.arange(160_000))
    path = tmp_path / "flat.faiss"
    faiss.write_index(index, str(path))
    grown = {
        how: int(subprocess.run([sys.executable, "-c", _RSS_PROBE, str(path), how],
                                capture_output=True, text=True, check=True).stdout)
        for how in ("mapped", "copied")
    }
    assert grown["copied"] > 35_000  # kB: the whole vector array
    assert grown["mapped"] < 10_000  # the id map (1.3 MB) and bookkeeping only


def test_stale_or_damaged_file_is_rebuilt_with_a_notice(tmp_path):
    store, info = built(tmp_path, IndexType.FLAT, n=500)
    store.layout.faiss(store.generation).write_bytes(b"not faiss")
    notices: list[str] = []
    loaded = vectors.load_index(store, DIM, 500, notices.append, info)
    assert loaded.index.ntotal == 500 and "damaged" in notices[0]


# ---- incremental ---------------------------------------------------------------------------
def _change(store: FakeStore, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = np.asarray(sorted(store.vectors))
    store.delete(rng.choice(ids, 150, replace=False))
    store.add(clustered(400, seed=seed))


def test_flat_add_and_delete_in_place_equals_a_rebuild(tmp_path):
    store, info = built(tmp_path, IndexType.FLAT)
    _change(store, 1)
    info = vectors.refresh_index(store, DIM, "flat", info, pytest.fail)
    assert (info["update"], info["added"], info["removed"]) == ("updated", 400, 150)
    assert sorted(store.layout.faiss_files()) == [store.generation]  # older file deleted
    queries = clustered(30, seed=9)
    updated = open_index(store, info).search(queries, 10)
    rebuilt = vectors.build_index(store, DIM, VectorPlan.from_info(info))
    np.testing.assert_array_equal(updated[1], vectors.search(rebuilt, VectorPlan.from_info(info), queries, 10)[1])
    np.testing.assert_array_equal(updated[1], store.exact(queries, 10))


@pytest.mark.parametrize("kind", [IndexType.HNSW, IndexType.IVFPQ])
def test_approximate_add_and_delete_keep_recall_and_never_return_deleted(tmp_path, kind):
    store, info = built(tmp_path, kind)
    before = store.vectors.copy()
    _change(store, 2)
    info = vectors.refresh_index(store, DIM, kind, info, pytest.fail)
    assert info["update"] == "updated" and info["type"] == kind
    if kind is IndexType.HNSW:
        assert info["tombstones"] == 150
    deleted = set(before) - set(store.vectors)
    queries = clustered(50, seed=11)
    scores, ids = open_index(store, info).search(queries, 10, vectors_for=store.vectors_for)
    assert not deleted & set(ids.ravel().tolist())
    assert recall(ids, store.exact(queries, 10)) >= 0.95


def test_reused_ids_force_a_rebuild(tmp_path):
    """Without AUTOINCREMENT a deleted id may come back with other text: rebuild, stay right."""
    store, info = built(tmp_path, IndexType.FLAT, n=300, autoincrement=False)
    top = np.asarray([max(store.vectors)])
    store.delete(top)
    store.add(clustered(1, seed=77))  # SQLite hands out the deleted id again
    assert max(store.vectors) == top[0]
    notices: list[str] = []
    info = vectors.refresh_index(store, DIM, "flat", info, notices.append)
    assert info["update"] == "rebuilt" and "reused" in notices[0]
    query = clustered(1, seed=77)
    assert open_index(store, info).search(query, 1)[1][0, 0] == top[0]


def test_ivfpq_retrains_when_the_collection_doubled(tmp_path):
    store, info = built(tmp_path, IndexType.IVFPQ, n=2500)
    store.add(clustered(2600, seed=3))
    notices: list[str] = []
    info = vectors.refresh_index(store, DIM, "ivfpq", info, notices.append)
    assert info["update"] == "rebuilt" and info["trained_at_n"] == 5100 and "retrain" in notices[0]


def test_unchanged_store_keeps_the_file(tmp_path):
    store, info = built(tmp_path, IndexType.FLAT, n=200)
    again = vectors.refresh_index(store, DIM, "flat", info, pytest.fail)
    assert again["update"] == "unchanged" and (again["added"], again["removed"]) == (0, 0)


def test_switching_type_rebuilds(tmp_path):
    store, info = built(tmp_path, IndexType.FLAT, n=2500)
    notices: list[str] = []
    info = vectors.refresh_index(store, DIM, "hnsw", info, notices.append)
    assert info["type"] == "hnsw" and "flat to hnsw" in notices[0]


# ---- filters -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    """``built_once(kind)``: ``built(..., kind)``, made once per type for the tests that only
    search it (the same 3000 vectors each time)."""
    made: dict[IndexType, tuple[FakeStore, dict]] = {}

    def get(kind: IndexType) -> tuple[FakeStore, dict]:
        if kind not in made:
            made[kind] = built(tmp_path_factory.mktemp(f"built-{kind.value}"), kind)
        return made[kind]

    yield get
    for store, _ in made.values():
        store.conn.close()


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("scope", [0, 1, 7, 60, 2500])
def test_filtered_search_returns_min_k_scope_hits_all_in_scope(built_once, kind, scope, monkeypatch):
    monkeypatch.setattr(vectors, "EXACT_SCOPE", 50)  # so 60 and 2500 go through the selector
    store, info = built_once(kind)
    rng = np.random.default_rng(scope)
    allowed = rng.choice(np.asarray(sorted(store.vectors)), scope, replace=False)
    queries = clustered(8, seed=21)
    k = 10
    for source in (store.vectors_for, None):
        scores, ids = open_index(store, info).search(queries, k, allowed, vectors_for=source)
        for row in ids:
            got = row[row >= 0]
            assert len(got) == min(k, scope)
            assert set(got.tolist()) <= set(allowed.tolist())
    if scope:
        _, ids = open_index(store, info).search(queries, k, allowed, vectors_for=store.vectors_for)
        assert recall(ids[:, : min(k, scope)], store.exact(queries, min(k, scope), allowed)) >= 0.95


def test_filter_skips_hnsw_tombstones(tmp_path):
    store, info = built(tmp_path, IndexType.HNSW, n=500)
    gone = np.asarray(sorted(store.vectors)[:100])
    store.delete(gone)
    info = vectors.refresh_index(store, DIM, "hnsw", info, pytest.fail)
    allowed = np.concatenate([gone, np.asarray(sorted(store.vectors)[:3])])
    _, ids = open_index(store, info).search(clustered(2, seed=4), 10, allowed)
    assert all(set(r[r >= 0].tolist()) == set(allowed[-3:].tolist()) for r in ids)


# ---- recall with the chosen parameters --------------------------------------------------------
@pytest.mark.parametrize("kind", TYPES)
def test_recall_at_10_against_exact_is_at_least_095(tmp_path, kind):
    store, info = built(tmp_path, kind, n=6000)
    queries = clustered(100, seed=42)
    _, ids = open_index(store, info).search(queries, 10, vectors_for=store.vectors_for)
    assert recall(ids, store.exact(queries, 10)) >= 0.95
