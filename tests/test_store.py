"""Store: writes, reads, search order and filters, model binding, migrations, read-only opens."""

import os
import sqlite3

import numpy as np
import pytest

from clapsearch.errors import EmptyIndexError, ModelMismatchError, StoreError
from clapsearch.store import Filters, Store, migrations
from tests.store_helpers import DIM, add_file, bind, fake_hash, record, unit


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / "lib" / "index.db")
    bind(opened)
    yield opened
    opened.close()


def brute_force(store, query, k):
    """Every segment scored exactly, straight from SQLite, best first (segment ids)."""
    db = sqlite3.connect(store.path)
    rows = db.execute("SELECT id, vector FROM segments").fetchall()
    ids = np.array([r[0] for r in rows])
    matrix = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows])
    scores = matrix @ (query / np.linalg.norm(query))
    return list(ids[np.argsort(-scores, kind="stable")][:k]), np.sort(scores)[::-1][:k]


def test_put_get_replace_delete_repath(store, rng, tmp_path):
    file_id, vectors = add_file(store, rng, "/music/a.wav", segments=3)
    row = store.get_file("/music/a.wav")
    assert row.id == file_id and row.status == "indexed" and row.duration == 3.0 and row.error is None
    starts, ends, stored = store.file_vectors(file_id)
    assert list(starts) == [0, 1, 2] and list(ends) == [1, 2, 3]
    np.testing.assert_allclose(stored, vectors, atol=1e-6)
    pooled = store.pooled_vector(file_id)
    np.testing.assert_allclose(np.linalg.norm(pooled), 1.0, atol=1e-6)

    # Replacing the same path keeps the row id but swaps every segment.
    same_id, new_vectors = add_file(store, rng, "/music/a.wav", segments=5)
    assert same_id == file_id
    assert len(store.file_vectors(file_id)[0]) == 5
    assert store.stats()["segments"] == 5

    store.repath(file_id, "/music/moved/a.wav", 100, 2.0)
    assert store.get_file("/music/a.wav") is None
    moved = store.get_file("/music/moved/a.wav")
    assert moved.id == file_id and moved.mtime == 2.0
    assert [r.id for r in store.find_by_hash(fake_hash("/music/a.wav"))] == [file_id]

    store.put_failure(record("/music/broken.mp3"), "The file is not audio.")
    failed = list(store.iter_files(status="failed"))
    assert [(r.path, r.error) for r in failed] == [("/music/broken.mp3", "The file is not audio.")]
    assert store.delete_files([file_id, failed[0].id]) == 2
    assert list(store.iter_files()) == [] and store.stats()["segments"] == 0


def test_repath_onto_existing_row_replaces_it(store, rng):
    first, _ = add_file(store, rng, "/x/one.wav")
    second, _ = add_file(store, rng, "/x/two.wav")
    store.repath(first, "/x/two.wav", 1, 1.0)
    assert [r.id for r in store.iter_files()] == [first]
    assert all(h.file_id == first for h in store.search(unit(rng, 1)[0], k=5, dedupe=False))


def test_search_order_matches_brute_force(store, rng):
    with store.batch():
        for i in range(30):
            add_file(store, rng, f"/lib/{i}.wav", segments=5)
    for query in unit(rng, 5):
        expected_ids, expected_scores = brute_force(store, query, 10)
        hits = store.search(query, k=10, dedupe=False)
        assert [h.segment_id for h in hits] == expected_ids
        np.testing.assert_allclose([h.score for h in hits], expected_scores, atol=1e-5)


def test_dedupe_returns_best_segment_of_distinct_files(store, rng):
    for i in range(8):
        add_file(store, rng, f"/lib/{i}.wav", segments=20)
    query = unit(rng, 1)[0]
    hits = store.search(query, k=8)
    assert len({h.file_id for h in hits}) == 8
    every = store.search(query, k=160, dedupe=False)
    best = {}
    for hit in every:
        best.setdefault(hit.file_id, hit)
    assert [h.segment_id for h in hits] == [h.segment_id for h in sorted(best.values(), key=lambda h: -h.score)]


def test_filters_still_return_k_hits(store, rng):
    # 200 files under /noise, 5 under /keep: the 5 must all come back even if others score higher.
    with store.batch():
        for i in range(200):
            add_file(store, rng, f"/noise/{i}.wav", segments=3)
        for i in range(5):
            add_file(store, rng, f"/keep/sub/{i}.flac", segments=3, duration=10.0 + i)
    query = unit(rng, 1)[0]
    hits = store.search(query, k=5, filters=Filters(under="/keep"))
    assert sorted(h.path for h in hits) == sorted(f"/keep/sub/{i}.flac" for i in range(5))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.path for h in store.search(query, k=50, filters=Filters(exts=(".FLAC",)))} == \
        {f"/keep/sub/{i}.flac" for i in range(5)}
    durations = store.search(query, k=10, filters=Filters(min_duration=11.0, max_duration=13.0))
    assert sorted(h.duration for h in durations) == [11.0, 12.0, 13.0]
    assert store.search(query, k=5, filters=Filters(under="/kee")) == []  # a prefix, not a folder
    file_hits = store.search(query, k=3, filters=Filters(exts=("flac",)), level="file")
    assert len(file_hits) == 3 and all(h.path.endswith(".flac") and h.start == 0.0 for h in file_hits)


def test_file_level_search_uses_pooled_vectors(store, rng):
    ids = [add_file(store, rng, f"/p/{i}.wav")[0] for i in range(10)]
    query = store.pooled_vector(ids[7])
    hits = store.search(query, k=3, level="file")
    assert hits[0].file_id == ids[7] and hits[0].end == hits[0].duration
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_non_utf8_and_spaced_paths_round_trip(store, rng, tmp_path):
    odd = os.fsdecode(b"/lib/caf\xe9 noise \xff.wav")
    add_file(store, rng, odd)
    assert store.get_file(odd).path == odd
    assert store.search(unit(rng, 1)[0], k=1, filters=Filters(under="/lib"))[0].path == odd


@pytest.mark.slow
def test_hnsw_recall_against_exact(tmp_path, rng):
    exact, approx = Store(tmp_path / "flat.db", index_kind="flat"), Store(tmp_path / "hnsw.db", index_kind="hnsw")
    vectors = unit(rng, 3000)
    for store in (exact, approx):
        bind(store)
        with store.writer(), store.batch():
            for i in range(300):
                part = vectors[i * 10:(i + 1) * 10]
                store.put_file(record(f"/h/{i}.wav"), np.arange(10.0), np.arange(1.0, 11.0), part, part.mean(0))
    assert approx.stats()["faiss_kind"] == "hnsw" and exact.stats()["faiss_kind"] == "flat"
    recalls = []
    for query in unit(rng, 20):
        truth = {h.segment_id for h in exact.search(query, k=10, dedupe=False)}
        found = {h.segment_id for h in approx.search(query, k=10, dedupe=False)}
        recalls.append(len(truth & found) / 10)
    assert np.mean(recalls) >= 0.9
    # Deleting from HNSW marks ids dead; they never come back in results.
    doomed = [r.id for r in approx.iter_files()][:150]
    approx.delete_files(doomed)
    hits = approx.search(vectors[0], k=50, dedupe=False)
    assert len(hits) == 50 and not {h.file_id for h in hits} & set(doomed)
    exact.close()
    approx.close()


def test_auto_switches_flat_to_hnsw_at_threshold(tmp_path, rng):
    store = Store(tmp_path / "auto.db", hnsw_threshold=100)
    bind(store)
    with store.writer():
        for i in range(9):
            add_file(store, rng, f"/a/{i}.wav", segments=10)
    assert store.stats()["faiss_kind"] == "flat"
    with store.writer():
        add_file(store, rng, "/a/9.wav", segments=10)
    assert store.stats()["faiss_kind"] == "hnsw"
    assert len(store.search(unit(rng, 1)[0], k=10, dedupe=False)) == 10
    store.close()
    reopened = Store(tmp_path / "auto.db", readonly=True)
    assert len(reopened.search(unit(rng, 1)[0], k=10)) == 10
    assert reopened._vindex.kind == "hnsw"


def test_bind_model_mismatch(store):
    bind(store, fingerprint="fp-1")  # the same model again is fine
    with pytest.raises(ModelMismatchError, match="built with model test-model .*--model test-model"):
        bind(store, fingerprint="fp-2")
    assert store.model_meta() == {"name": "test-model", "fingerprint": "fp-1", "dim": DIM, "sample_rate": 16000,
                                  "window_seconds": 1.0, "hop_seconds": 1.0}


def test_missing_and_empty_index_errors(tmp_path, rng):
    missing = Store(tmp_path / "nowhere" / "index.db", readonly=True)
    with pytest.raises(EmptyIndexError, match="No index at .*clapsearch index FOLDER"):
        missing.search(unit(rng, 1)[0])
    assert not (tmp_path / "nowhere").exists()
    empty = Store(tmp_path / "empty.db")
    bind(empty)
    with pytest.raises(EmptyIndexError, match="holds no audio yet"):
        empty.search(unit(rng, 1)[0])


def test_readonly_open_creates_nothing_and_refuses_writes(tmp_path, rng):
    path = tmp_path / "ro" / "index.db"
    reader = Store(path, readonly=True)
    assert not reader.exists() and reader.get_file("/x") is None and list(reader.iter_files()) == []
    assert reader.stats()["files_indexed"] == 0 and reader.model_meta() is None
    reader.close()
    assert not path.parent.exists()
    writer = Store(path)
    bind(writer)
    add_file(writer, rng, "/x.wav")
    writer.close()
    before = sorted(os.listdir(path.parent))
    assert "index.db.faiss" in before  # close() flushed the cache even without writer()
    reader = Store(path, readonly=True)
    assert reader.search(unit(rng, 1)[0], k=1)[0].path == "/x.wav"
    with pytest.raises(StoreError, match="read-only"):
        add_file(reader, rng, "/y.wav")
    reader.close()
    # Only SQLite's own WAL side files may appear (a WAL reader needs them); nothing of ours.
    assert sorted(set(os.listdir(path.parent)) - {"index.db-wal", "index.db-shm"}) == before


def test_migrations_applied_once(tmp_path, rng):
    path = tmp_path / "m.db"
    for _ in range(3):
        store = Store(path)
        bind(store)
        add_file(store, rng, "/m.wav")
        store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM _migrations ORDER BY name").fetchall() == \
        [(m.__name__,) for m in migrations.MIGRATIONS]
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(len(migrations.MIGRATIONS)),)


def test_older_database_is_upgraded_on_open(tmp_path, rng):
    path = tmp_path / "old.db"
    db = Store(path)._connect()
    with db.atomic():
        db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        migrations.m001_initial(db)
        db.execute("INSERT INTO _migrations(name, applied_at) VALUES ('m001_initial', 'then')")
    db.close()
    store = Store(path)
    bind(store)
    add_file(store, rng, "/old.wav")
    assert store.stats()["schema_version"] == len(migrations.MIGRATIONS)
    store.close()
    names = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
    assert "files_filter" in names
    tables = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "file_words" in tables


def test_read_only_open_of_an_index_from_before_file_warnings(tmp_path, rng):
    path = tmp_path / "v2.db"
    store = Store(path)
    bind(store)
    add_file(store, rng, "/old.wav")
    store.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE files DROP COLUMN warnings")  # as schema version 2 left it
    db.execute("DELETE FROM _migrations WHERE name = 'm003_file_warnings'")
    db.commit()
    db.close()
    with Store(path, readonly=True) as old:
        assert [(r.path, r.warnings) for r in old.iter_files()] == [("/old.wav", ())]
        assert old.stats()["files_with_warnings"] == 0


def test_file_warnings_are_stored_and_kept_by_a_repath(store, rng):
    rec = dict(record("/w.wav"), warnings=["the file is cut short"])
    store.put_file(rec, [0.0], [1.0], unit(rng, 1), unit(rng, 1)[0])
    row = store.get_file("/w.wav")
    assert row.warnings == ("the file is cut short",)
    store.repath(row.id, "/moved.wav", row.size, row.mtime)
    assert store.get_file("/moved.wav").warnings == ("the file is cut short",)
    assert store.stats()["files_with_warnings"] == 1
    add_file(store, rng, "/moved.wav")  # re-indexed cleanly: the warning goes
    assert store.get_file("/moved.wav").warnings == ()


def test_text_cache_and_labels(store, rng):
    vectors = {"dog": unit(rng, 1)[0], "cat": unit(rng, 1)[0]}
    store.put_text_vectors("fp-text", vectors)
    cached = store.cached_text_vectors("fp-text", ["dog", "bird", "cat"])
    assert set(cached) == {"dog", "cat"}
    np.testing.assert_array_equal(cached["dog"], vectors["dog"])
    assert store.cached_text_vectors("other", ["dog"]) == {}
    file_id, _ = add_file(store, rng, "/l.wav")
    store.put_labels([{"file_id": file_id, "label_set": "s", "label": "dog", "score": 0.9, "model": "m"},
                      {"file_id": file_id, "label_set": "s", "label": "cat", "score": 0.1, "model": "m"}])
    assert [(r["path"], r["label"]) for r in store.iter_labels("s")] == [("/l.wav", "dog"), ("/l.wav", "cat")]
    add_file(store, rng, "/l.wav")  # re-indexing a file drops its stale labels
    assert list(store.iter_labels()) == []


def test_explicit_index_kind_is_remembered(tmp_path, rng):
    store = Store(tmp_path / "k.db", index_kind="hnsw")
    bind(store)
    add_file(store, rng, "/k.wav")
    store.close()
    again = Store(tmp_path / "k.db")  # no kind given: keeps HNSW although the index is tiny
    add_file(again, rng, "/k2.wav")
    again.close()
    assert again.stats()["faiss_kind"] == "hnsw"
    flat = Store(tmp_path / "k.db", index_kind="flat")
    add_file(flat, rng, "/k3.wav")
    flat.close()
    assert flat.stats()["faiss_kind"] == "flat"
    assert len(Store(tmp_path / "k.db", readonly=True).search(unit(rng, 1)[0], k=3)) == 3


@pytest.mark.parametrize("subset_limit", [50_000, 10])
def test_hnsw_filtered_search_is_exact_over_the_allowed_files(tmp_path, rng, monkeypatch, subset_limit):
    # subset_limit 10 forces the IDSelector path through the HNSW graph (and its exact fallback).
    from clapsearch.store import search

    monkeypatch.setattr(search, "EXACT_SUBSET_LIMIT", subset_limit)
    store = Store(tmp_path / "hf.db", index_kind="hnsw")
    bind(store)
    with store.batch():
        for i in range(60):
            add_file(store, rng, f"/{'wanted' if i % 20 == 0 else 'other'}/{i}.wav", segments=5)
    query = unit(rng, 1)[0]
    hits = store.search(query, k=15, filters=Filters(under="/wanted"), dedupe=False)
    wanted = [r.id for r in store.iter_files() if r.path.startswith("/wanted/")]
    scored = []
    for file_id in wanted:
        starts, _, vectors = store.file_vectors(file_id)
        scored += [(float(v @ query), file_id, s) for v, s in zip(vectors, starts)]
    scored.sort(reverse=True)
    assert [(h.file_id, h.start) for h in hits] == [(f, s) for _, f, s in scored]
    store.close()


def test_flush_rewrites_the_faiss_file_only_when_behind(store, rng):
    add_file(store, rng, "/f.wav")
    store.flush()
    faiss_file = store.path + ".faiss"
    first = os.stat(faiss_file).st_mtime_ns
    store.flush()
    store.search(unit(rng, 1)[0])
    store.flush()
    assert os.stat(faiss_file).st_mtime_ns == first
    add_file(store, rng, "/g.wav")
    store.flush()
    assert os.stat(faiss_file).st_mtime_ns != first


def _twin_stores(tmp_path, vectors, kinds=("flat", "ivfpq"), files_under=lambda i: "/o"):
    stores = [Store(tmp_path / f"{kind}.db", index_kind=kind) for kind in kinds]
    for store in stores:
        bind(store)
        with store.writer(), store.batch():
            for i in range(len(vectors) // 10):
                part = vectors[i * 10:(i + 1) * 10]
                store.put_file(record(f"{files_under(i)}/{i}.wav"), np.arange(10.0), np.arange(1.0, 11.0), part,
                               part.mean(0))
    return stores


@pytest.mark.slow
def test_ivfpq_recall_and_exact_scores_against_flat(tmp_path, rng):
    exact, approx = _twin_stores(tmp_path, unit(rng, 6000))
    assert approx.stats()["faiss_kind"] == "ivfpq"
    recalls = []
    for query in unit(rng, 20):
        truth = {h.segment_id: h.score for h in exact.search(query, k=10, dedupe=False)}
        found = approx.search(query, k=10, dedupe=False)
        recalls.append(len(set(truth) & {h.segment_id for h in found}) / 10)
        for hit in found:  # codes only pick candidates: every score returned is the exact one
            if hit.segment_id in truth:
                assert hit.score == pytest.approx(truth[hit.segment_id], abs=1e-6)
    assert np.mean(recalls) >= 0.9
    ids = [r.id for r in approx.iter_files()]
    np.testing.assert_allclose(approx.segment_vectors(exact_ids := list(range(1, 6))),
                               exact.segment_vectors(exact_ids), atol=1e-7)
    approx.delete_files(ids[:150])  # IVF lists delete for real: no dead ids left behind
    hits = approx.search(unit(rng, 1)[0], k=50, dedupe=False)
    assert len(hits) == 50 and not {h.file_id for h in hits} & set(ids[:150]) and not len(approx._vindex.dead)
    approx.close()
    reopened = Store(tmp_path / "ivfpq.db", readonly=True)
    assert len(reopened.search(unit(rng, 1)[0], k=10)) == 10 and reopened._vindex.kind == "ivfpq"
    exact.close()


@pytest.mark.parametrize("subset_limit", [50_000, 10])
def test_ivfpq_filtered_search_matches_flat(tmp_path, rng, monkeypatch, subset_limit):
    # subset_limit 10 sends the filter into FAISS as an ID selector over the IVF lists.
    from clapsearch.store import search

    monkeypatch.setattr(search, "EXACT_SUBSET_LIMIT", subset_limit)
    exact, approx = _twin_stores(tmp_path, unit(rng, 3000), files_under=lambda i: "/wanted" if i % 3 == 0 else "/other")
    for query in unit(rng, 5):
        want = [(h.segment_id, round(h.score, 5)) for h in exact.search(query, k=5, filters=Filters(under="/wanted"))]
        got = [(h.segment_id, round(h.score, 5)) for h in approx.search(query, k=5, filters=Filters(under="/wanted"))]
        assert {h.path.split("/")[1] for h in approx.search(query, k=5, filters=Filters(under="/wanted"))} == {"wanted"}
        assert len(set(want) & set(got)) >= 4
    exact.close()
    approx.close()


def test_auto_switches_to_ivfpq_past_its_threshold_and_an_old_flat_index_still_opens(tmp_path, rng):
    path = tmp_path / "grow.db"
    store = Store(path, hnsw_threshold=10**9)
    bind(store)
    with store.writer(), store.batch():
        for i in range(250):
            add_file(store, rng, f"/g/{i}.wav", segments=10)
    store.close()
    assert Store(path, readonly=True).stats()["faiss_kind"] == "flat"  # an index made before IVF-PQ existed
    grown = Store(path, hnsw_threshold=10**9, ivfpq_threshold=2_000)
    with grown.writer():
        add_file(grown, rng, "/g/last.wav", segments=10)
    assert grown.stats()["faiss_kind"] == "ivfpq"
    assert len(grown.search(unit(rng, 1)[0], k=10)) == 10
    grown.close()
