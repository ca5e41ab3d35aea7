"""The FAISS cache of segment vectors: a derived copy of what SQLite holds.

SQLite is the source of truth. This file keeps an `IndexIDMap2` keyed by segment id and
persists it as `<db>.faiss` plus a sidecar `<db>.faiss.json` that says what it covers
(store id, generation, kind, count). Both are written to a temporary name and renamed, the
index first, so after a crash the sidecar never claims more than the index holds. When the
sidecar's generation differs from the database's, `sync` reconciles by segment id: segment ids
are never reused, so an id present in both places always has the same vector; it adds what is
missing and drops what is stale (HNSW cannot delete, so its stale ids become "dead" ids that
searches exclude until the next rebuild).
"""

import json
import os

import numpy as np

FLAT, HNSW = "flat", "hnsw"
# Rebuild an HNSW graph once this share of its entries are deleted segments.
DEAD_FRACTION_REBUILD = 0.2


class IndexSettings:
    """How the FAISS index is chosen and tuned; `kind` is "auto", "flat" or "hnsw"."""

    def __init__(self, kind="auto", hnsw_threshold=200_000, hnsw_m=32,
                 ef_construction=80, ef_search=128, search_threads=1):
        if kind not in ("auto", FLAT, HNSW):
            raise ValueError(f"index_kind must be 'auto', 'flat' or 'hnsw', not {kind!r}")
        self.kind = kind
        self.hnsw_threshold = hnsw_threshold
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        # One query gains little from OpenMP, and on a busy machine its spinning threads cost
        # several times the search itself (measured: 10k exact, 70 ms with 2 threads, 6 ms with 1).
        self.search_threads = search_threads

    def desired_kind(self, count: int, current: str | None) -> str:
        if self.kind != "auto":
            return self.kind
        # Hysteresis: once HNSW, stay until the index shrinks well below the threshold.
        if current == HNSW:
            return HNSW if count >= self.hnsw_threshold // 2 else FLAT
        return HNSW if count >= self.hnsw_threshold else FLAT


class VectorIndex:
    def __init__(self, db_path: str, dim: int, store_id: str, settings: IndexSettings):
        self.index_path = db_path + ".faiss"
        self.sidecar_path = db_path + ".faiss.json"
        self.dim = dim
        self.store_id = store_id
        self.settings = settings
        self.index = None
        self.kind: str | None = None
        self.generation: int | None = None  # the database generation the in-memory index matches
        self.saved_generation: int | None = None  # ... and the one the file on disk matches
        self.dead = np.empty(0, dtype=np.int64)
        self.dirty = False  # the in-memory index differs from the file on disk

    # ---- persistence -------------------------------------------------------------------
    def read_sidecar(self) -> dict | None:
        try:
            with open(self.sidecar_path, encoding="utf-8") as handle:
                stamp = json.load(handle)
        except (OSError, ValueError):
            return None
        if stamp.get("store_id") != self.store_id or stamp.get("dim") != self.dim:
            return None
        return stamp

    def file_is_current(self, generation: int) -> bool:
        stamp = self.read_sidecar()
        return bool(stamp) and stamp.get("generation") == generation and not stamp.get("dead")

    def load(self) -> bool:
        """Read the cached index; False (and nothing loaded) when it is missing, foreign or damaged."""
        for _ in range(3):
            stamp, index = self.read_sidecar(), self._read_index_file()
            # A writer may replace both files between our two reads; only a stamp that did
            # not change around the read of the index describes that index.
            if stamp == self.read_sidecar():
                break
        else:
            return False
        if stamp is None or index is None or index.d != self.dim:
            return False
        self.index, self.kind = index, stamp["kind"]
        self.saved_generation = stamp["generation"]
        # The stamp's generation is trusted only when its count matches the file; dead ids
        # are not stored, so an index with any forces one reconciliation to find them.
        trusted = stamp.get("count") == index.ntotal and not stamp.get("dead")
        self.generation = stamp["generation"] if trusted else None
        self.dirty = False
        return True

    def _read_index_file(self):
        import faiss

        try:
            index = faiss.read_index(self.index_path)
        except RuntimeError:
            return None  # missing or torn: the caller rebuilds from SQLite
        return index if isinstance(index, faiss.IndexIDMap2) else None

    def save(self) -> None:
        import faiss

        temp = f"{self.index_path}.tmp.{os.getpid()}"
        faiss.write_index(self.index, temp)
        _fsync_path(temp)
        os.replace(temp, self.index_path)
        stamp = {"store_id": self.store_id, "generation": self.generation, "kind": self.kind,
                 "count": int(self.index.ntotal), "dead": int(len(self.dead)), "dim": self.dim}
        _write_atomically(self.sidecar_path, json.dumps(stamp).encode())
        _fsync_dir(os.path.dirname(os.path.abspath(self.index_path)))
        self.saved_generation = self.generation
        self.dirty = False

    # ---- keeping in step with SQLite ---------------------------------------------------
    def sync(self, generation: int, live_ids, vectors_for, allow_kind_change: bool) -> None:
        """Make the index hold exactly the live segment ids of `generation`.

        live_ids(): sorted int64 ids in SQLite; vectors_for(ids): their vectors. Both must read
        the same snapshot as `generation`.
        """
        if self.index is None and not self.load():
            self._reset(FLAT)
        if self.generation == generation and self.kind is not None:
            if not allow_kind_change:
                return
            if self._kind_is_right(int(self.index.ntotal) - len(self.dead)):
                return
        live = live_ids()
        if allow_kind_change and not self._kind_is_right(len(live), stale=self._stale(live)):
            self.rebuild(live, vectors_for)
        else:
            self._reconcile(live, vectors_for)
        if generation != self.saved_generation:
            self.dirty = True
        self.generation = generation

    def apply(self, from_generation, to_generation, add_ids, add_vectors, remove_ids) -> None:
        """Apply one committed transaction's changes if the index is exactly one step behind."""
        if self.index is None or self.generation != from_generation:
            return
        self._remove(np.asarray(remove_ids, dtype=np.int64))
        if len(add_ids):
            self.index.add_with_ids(add_vectors, np.asarray(add_ids, dtype=np.int64))
        self.generation = to_generation
        self.dirty = True

    def rebuild(self, live, vectors_for) -> None:
        kind = self.settings.desired_kind(len(live), self.kind)
        self._reset(kind)
        for start in range(0, len(live), 50_000):
            chunk = live[start:start + 50_000]
            self.index.add_with_ids(vectors_for(chunk), chunk)

    def _kind_is_right(self, live_count: int, stale=None) -> bool:
        if self.settings.desired_kind(live_count, self.kind) != self.kind:
            return False
        dead = len(self.dead) if stale is None else len(stale)
        return not (self.kind == HNSW and dead > DEAD_FRACTION_REBUILD * max(1, self.index.ntotal))

    def _stale(self, live):
        return np.setdiff1d(self.ids(), live, assume_unique=True)

    def _reconcile(self, live, vectors_for) -> None:
        have = self.ids()
        stale = np.setdiff1d(have, live, assume_unique=True)
        missing = np.setdiff1d(live, have, assume_unique=True)
        self.dead = np.empty(0, dtype=np.int64)
        self._remove(stale)
        for start in range(0, len(missing), 50_000):
            chunk = missing[start:start + 50_000]
            self.index.add_with_ids(vectors_for(chunk), chunk)

    def _remove(self, ids: np.ndarray) -> None:
        if not len(ids):
            return
        if self.kind == HNSW:
            self.dead = np.union1d(self.dead, ids)
        else:
            self.index.remove_ids(ids)

    def _reset(self, kind: str) -> None:
        import faiss

        if kind == HNSW:
            inner = faiss.IndexHNSWFlat(self.dim, self.settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = self.settings.ef_construction
            inner.hnsw.efSearch = self.settings.ef_search
        else:
            inner = faiss.IndexFlatIP(self.dim)
        self.index = faiss.IndexIDMap2(inner)
        self.kind = kind
        self.dead = np.empty(0, dtype=np.int64)
        self.generation = None
        self.dirty = True

    # ---- reading -----------------------------------------------------------------------
    def ids(self) -> np.ndarray:
        import faiss

        return np.sort(faiss.vector_to_array(self.index.id_map).astype(np.int64))

    @property
    def live_count(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal) - len(self.dead)

    def reconstruct(self, ids) -> np.ndarray:
        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, allowed=None):
        """Top-k (scores, ids) for one query; `allowed` (int64 ids) restricts the candidates."""
        import faiss

        selector = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        elif len(self.dead):
            excluded = faiss.IDSelectorBatch(self.dead)
            selector = faiss.IDSelectorNot(excluded)
        if self.kind == HNSW:
            params = faiss.SearchParametersHNSW(efSearch=max(self.settings.ef_search, k))
        else:
            params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        k = max(1, min(k, int(self.index.ntotal)))
        threads = faiss.omp_get_max_threads()
        if self.settings.search_threads:
            faiss.omp_set_num_threads(self.settings.search_threads)
        try:
            scores, ids = self.index.search(query.reshape(1, -1), k, params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        return scores[0], ids[0]


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: str) -> None:
    try:
        _fsync_path(folder)
    except OSError:
        pass  # some file systems refuse to fsync a directory; the rename is still atomic


def _write_atomically(path: str, data: bytes) -> None:
    temp = f"{path}.tmp.{os.getpid()}"
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def remove_stale_temp_files(db_path: str) -> None:
    """Delete temporaries a killed writer left behind (call only while holding the writer lock)."""
    folder, base = os.path.split(os.path.abspath(db_path))
    prefixes = (base + ".faiss.tmp.", base + ".faiss.json.tmp.")
    for name in os.listdir(folder):
        if name.startswith(prefixes):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass
