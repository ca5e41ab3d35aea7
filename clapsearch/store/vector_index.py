"""The FAISS cache of segment vectors: a derived copy of what SQLite holds.

SQLite is the source of truth. This file keeps an `IndexIDMap2` keyed by segment id and
persists it as `<db>.faiss` plus a sidecar `<db>.faiss.json` that says what it covers
(store id, generation, kind, count). Both are written to a temporary name and renamed, the
index first, so after a crash the sidecar never claims more than the index holds. When the
sidecar's generation differs from the database's, `sync` reconciles by segment id: segment ids
are never reused, so an id present in both places always has the same vector; it adds what is
missing and drops what is stale (HNSW cannot delete, so its stale ids become "dead" ids that
searches exclude until the next rebuild).

Three kinds, chosen by size unless one is asked for: flat (exact) up to `hnsw_threshold`
vectors, HNSW (a graph over the full vectors: fast, about 2.3 KB a vector at dim 512) up to
`ivfpq_threshold`, then IVF-PQ (inverted lists of 64-byte product-quantised codes: about 130
bytes a vector in memory, so 10M passages fit in about 1.3 GB; see benchmarks/ann_recall.py and
docs/scale.md).
IVF-PQ's codes only pick candidates: they are re-scored with their exact vectors from SQLite, so
the scores a search returns are exact, and so are reconstructed vectors.
"""

import json
import os

import numpy as np

FLAT, HNSW, IVFPQ = "flat", "hnsw", "ivfpq"
KINDS = (FLAT, HNSW, IVFPQ)
# Rebuild an HNSW graph once this share of its entries are deleted segments.
DEAD_FRACTION_REBUILD = 0.2
# IVF-PQ: below this many vectors its lists and codebooks cannot be trained well: flat instead.
IVFPQ_MIN_VECTORS = 2_000
# ...and it is trained again once the index holds this many times what it was trained on.
IVFPQ_RETRAIN_GROWTH = 4
IVFPQ_TRAIN_PER_LIST = 40  # training vectors per inverted list (FAISS asks for at least 39)


# Loading a saved index also rebuilds IndexIDMap2's reverse map (id -> position), which the file
# does not hold: measured at 45-47 bytes a vector over the file's size (benchmarks/ann_recall.py).
ID_MAP_BYTES_PER_VECTOR = 46


def memory_bytes(file_bytes: int, count: int) -> int:
    """About how much memory the saved index takes once a search has loaded it."""
    return int(file_bytes) + ID_MAP_BYTES_PER_VECTOR * int(count) if file_bytes else 0


class IndexSettings:
    """How the FAISS index is chosen and tuned; `kind` is "auto", "flat", "hnsw" or "ivfpq"."""

    def __init__(self, kind="auto", hnsw_threshold=200_000, hnsw_m=32,
                 ef_construction=80, ef_search=128, search_threads=1, ivfpq_threshold=2_000_000,
                 pq_bytes=64, nprobe=None, rerank=1000):
        if kind not in ("auto",) + KINDS:
            raise ValueError(f"index_kind must be 'auto', 'flat', 'hnsw' or 'ivfpq', not {kind!r}")
        self.kind = kind
        self.hnsw_threshold = hnsw_threshold
        self.ivfpq_threshold = ivfpq_threshold
        self.pq_bytes = pq_bytes  # bytes per code: dim / pq_bytes dimensions per sub-quantiser
        self.nprobe = nprobe  # inverted lists visited per query; None: see probes_for
        # Candidates re-scored exactly per query (at least 10 per result asked). Measured at 1M: 200
        # gave text-like queries recall@10 0.889, 1000 gave 0.996 (benchmarks/ann_recall.py).
        self.rerank = rerank
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        # One query gains little from OpenMP, and on a busy machine its spinning threads cost
        # several times the search itself (measured: 10k exact, 70 ms with 2 threads, 6 ms with 1).
        self.search_threads = search_threads

    def desired_kind(self, count: int, current: str | None) -> str:
        if self.kind != "auto":
            return FLAT if self.kind == IVFPQ and count < IVFPQ_MIN_VECTORS else self.kind
        # Hysteresis: once HNSW (or IVF-PQ), stay until the index shrinks well below its threshold.
        if count >= (self.ivfpq_threshold // 2 if current == IVFPQ else self.ivfpq_threshold):
            return IVFPQ
        if current in (HNSW, IVFPQ):
            return HNSW if count >= self.hnsw_threshold // 2 else FLAT
        return HNSW if count >= self.hnsw_threshold else FLAT

    def probes_for(self, lists: int) -> int:
        """Lists visited per query: 1/64 of them, at least 32 (measured at 1M passages: 32 of 2048
        gave recall@10 0.998 for audio-like and 0.889 for text-like queries). A fixed share keeps
        recall as the index grows; the work per query grows with it (N/64 codes)."""
        return self.nprobe or max(32, lists // 64)

    def lists_for(self, count: int) -> int:
        """Inverted lists for `count` vectors: a power of two near 2 sqrt(count), trainable from it."""
        target = max(1, min(2 * count ** 0.5, count / IVFPQ_TRAIN_PER_LIST))
        return int(2 ** round(np.log2(target)))


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
        self.trained = 0  # IVF-PQ: how many vectors it was trained for (0 for the other kinds)
        self.exact_vectors = None  # ids -> their exact vectors (from SQLite), set by each sync

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
        self.trained = int(stamp.get("trained", 0))
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
                 "count": int(self.index.ntotal), "dead": int(len(self.dead)), "dim": self.dim,
                 "trained": self.trained}
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
        self.exact_vectors = vectors_for
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
        if kind == IVFPQ:
            self._train(live, vectors_for)
        for start in range(0, len(live), 50_000):
            chunk = live[start:start + 50_000]
            self.index.add_with_ids(vectors_for(chunk), chunk)

    def _kind_is_right(self, live_count: int, stale=None) -> bool:
        if self.settings.desired_kind(live_count, self.kind) != self.kind:
            return False
        if self.kind == IVFPQ and live_count > IVFPQ_RETRAIN_GROWTH * self.trained:
            return False  # lists trained for a much smaller index: train them again
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
        elif kind == IVFPQ:
            inner = None  # made by _train, which knows how many vectors it is for
        else:
            inner = faiss.IndexFlatIP(self.dim)
        self.index = faiss.IndexIDMap2(inner) if inner is not None else None
        self.kind = kind
        self.trained = 0
        self.dead = np.empty(0, dtype=np.int64)
        self.generation = None
        self.dirty = True

    def _train(self, live, vectors_for) -> None:
        """A new IVF-PQ index with lists and codebooks trained on an even sample of `live`."""
        import faiss

        lists = self.settings.lists_for(len(live))
        sample = live[np.linspace(0, len(live) - 1, min(len(live), lists * IVFPQ_TRAIN_PER_LIST)).astype(np.int64)]
        quantizer = faiss.IndexFlatIP(self.dim)
        codes = max(m for m in range(1, min(self.dim, self.settings.pq_bytes) + 1) if self.dim % m == 0)
        inner = faiss.IndexIVFPQ(quantizer, self.dim, lists, codes, 8, faiss.METRIC_INNER_PRODUCT)
        inner.cp.seed = 1234  # the same sample trains the same lists on every run
        inner.train(np.ascontiguousarray(vectors_for(sample), dtype=np.float32))
        inner.nprobe = self.settings.probes_for(lists)
        self.index = faiss.IndexIDMap2(inner)  # FAISS's Python wrappers keep inner and quantizer alive
        self.trained = len(live)

    # ---- reading -----------------------------------------------------------------------
    def ids(self) -> np.ndarray:
        import faiss

        return np.sort(faiss.vector_to_array(self.index.id_map).astype(np.int64))

    @property
    def live_count(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal) - len(self.dead)

    def reconstruct(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if self.kind == IVFPQ:  # the codes are approximations: read the stored vectors
            return self.exact_vectors(ids) if len(ids) else np.empty((0, self.dim), np.float32)
        return self.index.reconstruct_batch(ids)

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
        elif self.kind == IVFPQ:
            params = faiss.SearchParametersIVF(nprobe=self.settings.probes_for(faiss.extract_index_ivf(self.index).nlist))
        else:
            params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        k = max(1, min(k, int(self.index.ntotal)))
        fetch = min(int(self.index.ntotal), max(self.settings.rerank, 10 * k)) if self.kind == IVFPQ else k
        threads = faiss.omp_get_max_threads()
        if self.settings.search_threads:
            faiss.omp_set_num_threads(self.settings.search_threads)
        try:
            scores, ids = self.index.search(query.reshape(1, -1), fetch, params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        if self.kind == IVFPQ:
            return self._rescore(query, ids[0], k)
        return scores[0], ids[0]

    def _rescore(self, query: np.ndarray, ids: np.ndarray, k: int):
        """The best `k` of IVF-PQ's candidates by their exact scores (-1: fewer candidates than asked)."""
        ids = ids[ids >= 0]
        scores = self.reconstruct(ids) @ query.reshape(-1) if len(ids) else np.empty(0, np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order].astype(np.float32), ids[order]


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
