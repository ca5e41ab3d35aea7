"""The index: SQLite (the source of truth, vectors included) plus a FAISS cache for speed.

Crash safety: every change to files and segments commits in one SQLite transaction (WAL) that
also bumps `meta.generation`; the FAISS file is only a cache stamped with the generation it
covers (see vector_index.py), reconciled from SQLite on open, so a kill at any point leaves an
index that opens consistently and resumes.

Writers hold an exclusive lock (`<db>.lock`); readers never take it. A writable Store creates
its folder and database on the first write; a readonly one never creates anything.
"""

import datetime
import json
import os
import sqlite3
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from clapsearch.errors import EmptyIndexError, IndexLockedError, ModelMismatchError, StoreError

from . import migrations
from .codec import blob_to_vector, blobs_to_matrix, path_to_sql, text_from_sql, unit_rows, vector_to_blob
from .lock import WriterLock
from .rows import FileRow, Filters, Hit
from .search import allowed_segment_ids, match_words, search_files, search_segments
from .vector_index import IndexSettings, VectorIndex, remove_stale_temp_files

FILE_COLUMNS = ("id, path, size, mtime, content_hash, duration, sample_rate, channels, format, "
                "status, error, indexed_at, warnings")
PAGE_SIZE = 32768
MODEL_KEYS = {"model_name": str, "model_fingerprint": str, "dim": int, "sample_rate": int,
              "window_seconds": float, "hop_seconds": float}


def _chunks(values, size: int = 500):
    """(chunk, "?,?,...") pairs over `values`: SQLite caps the parameters of one statement."""
    values = list(values)
    for start in range(0, len(values), size):
        chunk = values[start:start + size]
        yield chunk, ",".join("?" * len(chunk))


def _file_row(row) -> FileRow:
    *columns, warnings = row
    return FileRow(*columns, warnings=tuple(json.loads(warnings)) if warnings else ())


class _Changes:
    """What one transaction did to segments, applied to the in-memory FAISS index after commit."""

    def __init__(self):
        self.changed = False
        self.add_ids, self.add_vectors, self.remove_ids = [], [], []


class Store:
    def __init__(self, path, *, readonly: bool = False, index_kind: str | None = None,
                 hnsw_threshold: int = 200_000, ef_search: int = 128, ivfpq_threshold: int = 2_000_000):
        self.path = os.path.abspath(os.fspath(path))
        self.readonly = readonly
        # index_kind None means "whatever this index was last told, else auto"; an explicit
        # kind given to a writer is remembered in meta for later opens.
        self.settings = IndexSettings(index_kind or "auto", hnsw_threshold=hnsw_threshold, ef_search=ef_search,
                                      ivfpq_threshold=ivfpq_threshold)
        self._kind_given = index_kind is not None
        self._lock = WriterLock(self.path + ".lock")
        self._db = None
        self._tx: _Changes | None = None
        self._vindex: VectorIndex | None = None
        self._kept: dict = {}  # name -> (generation, value): see _kept_until_change
        self._has_schema = False
        self._columns = None  # the files columns this database has (see _file_columns)
        self._unflushed = False  # committed vector changes not yet in the FAISS file

    # ---- opening and closing ------------------------------------------------------------
    def exists(self) -> bool:
        return os.path.exists(self.path)

    def close(self) -> None:
        try:
            if self._db is not None and not self.readonly and (self._lock.held or self._unflushed):
                self.flush()
        except IndexLockedError:
            pass  # another writer owns the cache now; it or the next open reconciles it
        finally:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _connect(self):
        from .sqlite_utils_import import import_sqlite_utils

        sqlite_utils = import_sqlite_utils()

        if self.readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.text_factory = text_from_sql
        conn.execute("PRAGMA busy_timeout = 30000")
        db = sqlite_utils.Database(conn)
        if not self.readonly:
            # Big pages hold several 2-4 KB vector rows each; with 4 KB pages every 512-d row
            # would take a page of its own (twice the disk). Only effective on a new database.
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across process kills
        return db

    def _read_db(self):
        """The database for reading, or None when it does not exist yet."""
        if self._db is None:
            if not self.exists():
                return None
            self._db = self._connect()
        if not self._has_schema:
            # A writer may have created the file and not yet committed its first migration.
            self._has_schema = "meta" in self._db.table_names()
            if not self._has_schema:
                return None
        return self._db

    def _require_read_db(self):
        db = self._read_db()
        if db is None:
            raise EmptyIndexError(f"No index at {self.path}; run `clapsearch index FOLDER` first.")
        return db

    @contextmanager
    def _write_access(self, wait_seconds: float = 0.0):
        """Hold the writer lock (briefly, unless `writer()` holds it) and a migrated database."""
        if self.readonly:
            raise StoreError(f"The index at {self.path} was opened read-only; open it without "
                             "readonly to change it.")
        temporary = not self._lock.held
        if temporary:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self._lock.acquire(wait_seconds)
        try:
            if self._db is None:
                self._db = self._connect()
            if migrations.pending(self._db):
                migrations.apply(self._db)
                self._vindex = None
            yield self._db
        finally:
            if temporary:
                self._lock.release()

    @contextmanager
    def writer(self, wait_seconds: float = 0.0):
        """Exclusive write access for a whole run; flushes the FAISS cache on the way out."""
        if self._lock.held:
            yield self
            return
        with self._write_access(wait_seconds):
            remove_stale_temp_files(self.path)
            try:
                yield self
            finally:
                self.flush()

    @contextmanager
    def batch(self):
        """One SQLite transaction for many writes; the FAISS cache follows after the commit."""
        with self._transaction():
            yield self

    @contextmanager
    def _transaction(self):
        if self._tx is not None:
            yield self._db
            return
        with self._write_access() as db:
            changes = _Changes()
            self._tx = changes
            try:
                with db.atomic():
                    yield db
                    if changes.changed:
                        old = self._generation(db)
                        db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", [str(old + 1)])
            finally:
                self._tx = None
            if changes.changed:
                self._unflushed = True
                self._after_commit(old, old + 1, changes)

    def _after_commit(self, old: int, new: int, changes: _Changes) -> None:
        if self._vindex is None:
            return
        vectors = (np.concatenate(changes.add_vectors) if changes.add_vectors
                   else np.empty((0, self._vindex.dim), np.float32))
        ids = np.concatenate(changes.add_ids) if changes.add_ids else np.empty(0, np.int64)
        removed = np.concatenate(changes.remove_ids) if changes.remove_ids else np.empty(0, np.int64)
        self._vindex.apply(old, new, ids, vectors, removed)

    # ---- meta and model -----------------------------------------------------------------
    def _meta(self, db) -> dict:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())

    def _set_meta(self, db, values: dict) -> None:
        for key, value in values.items():
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", [key, str(value)])

    def _generation(self, db) -> int:
        return int(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def _model_bound(self) -> bool:
        return self.model_meta() is not None

    def model_meta(self) -> dict | None:
        """name, fingerprint, dim, sample_rate, window_seconds, hop_seconds; None before bind_model."""
        db = self._read_db()
        if db is None:
            return None
        meta = self._meta(db)
        if "model_fingerprint" not in meta:
            return None
        values = {key: cast(meta[key]) for key, cast in MODEL_KEYS.items() if key in meta}
        values["name"] = values.pop("model_name")
        values["fingerprint"] = values.pop("model_fingerprint")
        return values

    def bind_model(self, name, fingerprint, dim, sample_rate, window_seconds, hop_seconds) -> None:
        """Record the model on first use; afterwards refuse a different one."""
        known = self.model_meta()
        if known is not None:
            if known["fingerprint"] != fingerprint:
                raise ModelMismatchError(
                    f"This index was built with model {known['name']} (fingerprint "
                    f"{known['fingerprint'][:12]}); query it with --model {known['name']} or "
                    f"re-index into another --db.")
            return
        if self.readonly:
            return  # nothing recorded yet, and a reader may not record it
        with self._transaction() as db:
            self._set_meta(db, {"model_name": name, "model_fingerprint": fingerprint, "dim": int(dim),
                                "sample_rate": int(sample_rate), "window_seconds": float(window_seconds),
                                "hop_seconds": float(hop_seconds)})

    def indexed_roots(self) -> list[str]:
        """The folders `index` was run on (absolute, sorted); [] for an index made before they were kept."""
        db = self._read_db()
        if db is None:
            return []
        return json.loads(self._meta(db).get("indexed_roots", "[]"))

    def add_indexed_roots(self, roots) -> None:
        """Remember folders `index` ran on (a meta key: no migration), so tables can show paths inside them."""
        known = self.indexed_roots()
        merged = sorted(set(known) | {os.path.abspath(os.fspath(root)) for root in roots})
        if merged != known:
            with self._transaction() as db:
                self._set_meta(db, {"indexed_roots": json.dumps(merged)})

    def audio_runtimes(self) -> list[str]:
        """The runtimes (torch, onnx, onnx-int8) whose vectors this index holds; [] before they were kept."""
        db = self._read_db()
        if db is None:
            return []
        return json.loads(self._meta(db).get("audio_runtimes", "[]"))

    def add_audio_runtime(self, runtime: str) -> None:
        """Remember a runtime that embedded files here (a meta key: no migration), shown by `info`."""
        known = self.audio_runtimes()
        if runtime not in known:
            with self._transaction() as db:
                self._set_meta(db, {"audio_runtimes": json.dumps(known + [runtime])})

    def _dim(self) -> int:
        meta = self.model_meta()
        if meta is None:
            raise StoreError(f"The index at {self.path} has no model recorded; call bind_model first.")
        return meta["dim"]

    # ---- files --------------------------------------------------------------------------
    def get_file(self, path) -> FileRow | None:
        db = self._read_db()
        if db is None:
            return None
        row = db.execute(f"SELECT {self._file_columns(db)} FROM files WHERE path = CAST(? AS TEXT)",
                         [path_to_sql(path)]).fetchone()
        return _file_row(row) if row else None

    def get_file_by_id(self, file_id) -> FileRow | None:
        db = self._read_db()
        if db is None:
            return None
        row = db.execute(f"SELECT {self._file_columns(db)} FROM files WHERE id = ?", [int(file_id)]).fetchone()
        return _file_row(row) if row else None

    def iter_files(self, status=None) -> Iterator[FileRow]:
        """Every file row in id order, read in pages so writes may happen while iterating."""
        db = self._read_db()
        if db is None:
            return
        last = 0
        while True:
            where, params = "id > ?", [last]
            if status is not None:
                where, params = where + " AND status = ?", params + [status]
            rows = db.execute(f"SELECT {self._file_columns(db)} FROM files WHERE {where} ORDER BY id LIMIT 1000",
                              params).fetchall()
            if not rows:
                return
            for row in rows:
                yield _file_row(row)
            last = rows[-1][0]

    def find_by_hash(self, content_hash) -> list[FileRow]:
        db = self._read_db()
        if db is None or content_hash is None:
            return []
        rows = db.execute(f"SELECT {self._file_columns(db)} FROM files WHERE content_hash = ? ORDER BY id",
                          [content_hash]).fetchall()
        return [_file_row(row) for row in rows]

    def _file_columns(self, db) -> str:
        """FILE_COLUMNS, reading NULL for columns that a read-only open of an older index lacks."""
        if self._columns is None:
            have = {row[1] for row in db.execute("PRAGMA table_info(files)").fetchall()}
            self._columns = FILE_COLUMNS if "warnings" in have else FILE_COLUMNS.replace("warnings", "NULL")
        return self._columns

    def put_file(self, record: dict, starts, ends, vectors, pooled) -> int:
        """Store an indexed file and its segments, replacing any earlier row for its path."""
        dim = self._dim()
        vectors = unit_rows(vectors, dim)
        starts = np.asarray(starts, dtype=np.float64).reshape(-1)
        ends = np.asarray(ends, dtype=np.float64).reshape(-1)
        if not (len(starts) == len(ends) == len(vectors)):
            raise ValueError("starts, ends and vectors must have the same length")
        pooled_blob = vector_to_blob(unit_rows(pooled, dim)[0])
        with self._transaction() as db:
            file_id = self._upsert_file(db, record, "indexed", None, pooled_blob)
            first = self._next_segment_id(db)
            ids = np.arange(first, first + len(vectors), dtype=np.int64)
            db.conn.executemany(
                'INSERT INTO segments(id, file_id, start, "end", vector) VALUES (?, ?, ?, ?, ?)',
                [(int(i), file_id, float(s), float(e), vector_to_blob(v))
                 for i, s, e, v in zip(ids, starts, ends, vectors)])
            self._tx.add_ids.append(ids)
            self._tx.add_vectors.append(vectors)
            self._tx.changed = True
        return file_id

    def put_failure(self, record: dict, error: str) -> None:
        """Record a file that could not be indexed, with its one-line reason."""
        with self._transaction() as db:
            self._upsert_file(db, record, "failed", str(error), None)

    def _upsert_file(self, db, record, status, error, pooled_blob) -> int:
        path = path_to_sql(record["path"])
        warnings = json.dumps(list(record["warnings"])) if record.get("warnings") else None
        values = [record.get("size"), record.get("mtime"), record.get("content_hash"),
                  record.get("duration"), record.get("sample_rate"), record.get("channels"),
                  record.get("format"), status, error,
                  datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), pooled_blob, warnings]
        old = db.execute("SELECT id FROM files WHERE path = CAST(? AS TEXT)", [path]).fetchone()
        if old is None:
            cursor = db.execute(
                "INSERT INTO files(path, size, mtime, content_hash, duration, sample_rate, channels, "
                "format, status, error, indexed_at, vector, warnings) "
                "VALUES (CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [path] + values)
            return cursor.lastrowid
        file_id = old[0]
        self._drop_dependents(db, [file_id])
        db.execute("UPDATE files SET size = ?, mtime = ?, content_hash = ?, duration = ?, sample_rate = ?, "
                   "channels = ?, format = ?, status = ?, error = ?, indexed_at = ?, vector = ?, warnings = ? "
                   "WHERE id = ?", values + [file_id])
        return file_id

    def _drop_dependents(self, db, file_ids) -> None:
        """Delete the segments and labels of these files, noting the segment ids for FAISS."""
        for chunk, marks in _chunks([int(i) for i in file_ids]):
            seg_ids = [r[0] for r in db.execute(f"SELECT id FROM segments WHERE file_id IN ({marks})", chunk)]
            if seg_ids:
                self._tx.remove_ids.append(np.asarray(seg_ids, dtype=np.int64))
                self._tx.changed = True
                db.execute(f"DELETE FROM segments WHERE file_id IN ({marks})", chunk)
            db.execute(f"DELETE FROM labels WHERE file_id IN ({marks})", chunk)

    def _next_segment_id(self, db) -> int:
        # Explicit ids from sqlite_sequence (we hold the writer lock) let one executemany insert
        # a whole file; AUTOINCREMENT still guarantees no id is ever handed out twice.
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'segments'").fetchone()
        return (row[0] if row else 0) + 1

    def repath(self, file_id, new_path, size, mtime) -> None:
        """Point an existing row at a moved file (same content) without touching its vectors.

        Any other row already at new_path is deleted first: that path now holds this content.
        """
        with self._transaction() as db:
            other = db.execute("SELECT id FROM files WHERE path = CAST(? AS TEXT) AND id != ?",
                               [path_to_sql(new_path), int(file_id)]).fetchone()
            if other:
                self._delete(db, [other[0]])
            db.execute("UPDATE files SET path = CAST(? AS TEXT), size = ?, mtime = ? WHERE id = ?",
                       [path_to_sql(new_path), size, mtime, int(file_id)])
            if "file_words" in db.table_names():  # name words follow the name: the next index run refills them
                db.execute("UPDATE file_words SET names = '' WHERE rowid = ?", [int(file_id)])

    def delete_files(self, file_ids) -> int:
        file_ids = [int(i) for i in file_ids]
        if not file_ids:
            return 0
        with self._transaction() as db:
            return self._delete(db, file_ids)

    def _delete(self, db, file_ids) -> int:
        self._drop_dependents(db, file_ids)
        deleted = 0
        for chunk, marks in _chunks(file_ids):
            deleted += db.execute(f"DELETE FROM files WHERE id IN ({marks})", chunk).rowcount
            if "file_words" in db.table_names():
                db.execute(f"DELETE FROM file_words WHERE rowid IN ({marks})", chunk)
        self._tx.changed = True  # pooled vectors changed even when no segment did
        return deleted

    # ---- vectors ------------------------------------------------------------------------
    def file_vectors(self, file_id):
        """(starts, ends, vectors) of one file's segments, in time order."""
        db = self._require_read_db()
        rows = db.execute('SELECT start, "end", vector FROM segments WHERE file_id = ? ORDER BY start, id',
                          [int(file_id)]).fetchall()
        dim = self._dim()
        starts = np.array([r[0] for r in rows], dtype=np.float64)
        ends = np.array([r[1] for r in rows], dtype=np.float64)
        return starts, ends, blobs_to_matrix([r[2] for r in rows], dim)

    def pooled_vector(self, file_id):
        db = self._require_read_db()
        row = db.execute("SELECT vector FROM files WHERE id = ?", [int(file_id)]).fetchone()
        return None if row is None or row[0] is None else blob_to_vector(row[0]).copy()

    def cached_text_vectors(self, fingerprint, texts) -> dict:
        db = self._read_db()
        if db is None:
            return {}
        found = {}
        texts = list(dict.fromkeys(texts))
        for chunk, marks in _chunks(texts):
            for text, blob in db.execute(
                    f"SELECT text, vector FROM text_cache WHERE fingerprint = ? AND text IN ({marks})",
                    [fingerprint] + chunk):
                found[text] = blob_to_vector(blob).copy()
        return found

    def put_text_vectors(self, fingerprint, mapping) -> None:
        """Cache text embeddings; best effort, so a read-only store silently skips it."""
        if self.readonly or not mapping:
            return
        if self._read_db() is None:
            with self._write_access(wait_seconds=10.0):
                pass  # create and migrate the database under the lock
        db = self._read_db()
        # No writer lock: this table is never part of the FAISS cache, and SQLite serialises it.
        with db.atomic():
            db.conn.executemany("INSERT OR REPLACE INTO text_cache(fingerprint, text, vector) VALUES (?, ?, ?)",
                                [(fingerprint, text, vector_to_blob(v)) for text, v in mapping.items()])

    # ---- words (the lexical index) ----------------------------------------------------
    def put_words(self, file_id, names: str, tags: str) -> None:
        """Set a file's name and tag words (its label words are kept)."""
        with self._transaction() as db:
            old = db.execute("SELECT labels FROM file_words WHERE rowid = ?", [int(file_id)]).fetchone()
            db.execute("DELETE FROM file_words WHERE rowid = ?", [int(file_id)])
            db.execute("INSERT INTO file_words(rowid, names, tags, labels) VALUES (?, ?, ?, ?)",
                       [int(file_id), names, tags, old[0] if old else ""])

    def put_label_words(self, file_id, labels: str) -> None:
        """Set the words of a file's stored zero-shot labels."""
        with self._transaction() as db:
            if db.execute("UPDATE file_words SET labels = ? WHERE rowid = ?", [labels, int(file_id)]).rowcount == 0:
                db.execute("INSERT INTO file_words(rowid, names, tags, labels) VALUES (?, '', '', ?)",
                           [int(file_id), labels])

    def files_without_words(self) -> list[FileRow]:
        """Indexed files that have no words yet (e.g. indexed before the lexical index existed)."""
        db = self._read_db()
        if db is None or "file_words" not in db.table_names():
            return []
        rows = db.execute(f"SELECT {self._file_columns(db)} FROM files WHERE status = 'indexed' "
                          "AND id NOT IN (SELECT rowid FROM file_words WHERE names != '') ORDER BY id").fetchall()
        return [_file_row(row) for row in rows]

    def match_words(self, fts_query: str, filters: Filters | None = None, limit: int = 1000) -> list[tuple]:
        """(file_id, path, duration, bm25 rank, matched words) of files whose words match, best first."""
        db = self._require_read_db()
        if "file_words" not in db.table_names() or not fts_query:
            return []
        return match_words(db, fts_query, None if filters is None or filters.is_empty() else filters, limit)

    def try_put_text_vectors(self, fingerprint, mapping, busy_ms: int = 50) -> bool:
        """Cache text embeddings only if it can be done now: never waits on a writer, never raises.

        For read-only commands (`query`): a cache write must not slow or break the read.
        """
        if self.readonly or not mapping:
            return False
        try:
            db = self._read_db()
            if db is None or migrations.pending(db):
                return False  # creating or migrating an index is a writer's job
            db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            try:
                with db.atomic():
                    db.conn.executemany(
                        "INSERT OR REPLACE INTO text_cache(fingerprint, text, vector) VALUES (?, ?, ?)",
                        [(fingerprint, text, vector_to_blob(v)) for text, v in mapping.items()])
            finally:
                db.execute("PRAGMA busy_timeout = 30000")
            return True
        except (sqlite3.Error, OSError):
            return False

    # ---- labels -------------------------------------------------------------------------
    def put_labels(self, rows) -> None:
        """rows: dicts with file_id, label_set, label, score, model (replacing equal keys)."""
        rows = list(rows)
        with self._transaction() as db:
            db.conn.executemany(
                "INSERT OR REPLACE INTO labels(file_id, label_set, label, score, model) VALUES (?, ?, ?, ?, ?)",
                [(int(r["file_id"]), r["label_set"], r["label"], float(r["score"]), r["model"]) for r in rows])

    def iter_labels(self, label_set=None) -> Iterator[dict]:
        db = self._read_db()
        if db is None:
            return
        where, params = ("WHERE l.label_set = ?", [label_set]) if label_set is not None else ("", [])
        cursor = db.execute(
            "SELECT l.file_id, f.path, l.label_set, l.label, l.score, l.model FROM labels l "
            f"JOIN files f ON f.id = l.file_id {where} ORDER BY l.file_id, l.score DESC, l.label", params)
        keys = ("file_id", "path", "label_set", "label", "score", "model")
        for row in cursor.fetchall():
            yield dict(zip(keys, row))

    def labels_of(self, file_ids) -> dict[int, list[dict]]:
        """file id -> its stored labels ({"label", "score", "label_set"}), best first, for the given ids."""
        db = self._read_db()
        found: dict[int, list[dict]] = {}
        ids = [int(i) for i in file_ids]
        for chunk, marks in _chunks(ids if db is not None else []):
            for file_id, label, score, label_set in db.execute(
                    f"SELECT file_id, label, score, label_set FROM labels WHERE file_id IN ({marks}) "
                    "ORDER BY file_id, score DESC, label", chunk):
                found.setdefault(file_id, []).append({"label": label, "score": score, "label_set": label_set})
        return found

    # ---- the FAISS cache ----------------------------------------------------------------
    def _index_for_writing(self) -> VectorIndex:
        db = self._db
        if self._vindex is None:
            self._vindex = self._new_vindex(db)
        return self._vindex

    def _new_vindex(self, db) -> VectorIndex:
        meta = self._meta(db)
        if not self._kind_given and meta.get("index_kind"):
            self.settings.kind = meta["index_kind"]
        return VectorIndex(self.path, self._dim(), meta["store_id"], self.settings)

    @contextmanager
    def _snapshot(self, db):
        """A read transaction, so generation, ids and vectors come from one database state."""
        if db.conn.in_transaction:
            yield
            return
        db.conn.execute("BEGIN")
        try:
            yield
        finally:
            db.conn.execute("COMMIT")

    def _synced_index(self, db, allow_kind_change: bool) -> VectorIndex:
        if self._vindex is None:
            self._vindex = self._new_vindex(db)
        with self._snapshot(db):
            generation = self._generation(db)
            self._vindex.sync(generation, lambda: self._live_ids(db), lambda ids: self._vectors(db, ids),
                              allow_kind_change)
        return self._vindex

    def _live_ids(self, db) -> np.ndarray:
        # No ORDER BY: SQLite can then scan the small file_id index instead of every vector page.
        rows = db.execute("SELECT id FROM segments").fetchall()
        return np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))

    def _vectors(self, db, ids) -> np.ndarray:
        dim = self._vindex.dim
        ids = [int(i) for i in ids]
        blobs = {}
        for chunk, marks in _chunks(ids):
            blobs.update(db.execute(f"SELECT id, vector FROM segments WHERE id IN ({marks})", chunk).fetchall())
        return blobs_to_matrix([blobs[i] for i in ids], dim)

    def flush(self) -> None:
        """Bring the FAISS file up to date with SQLite (temp file + rename), if it is behind."""
        if self.readonly or not self.exists():
            return
        with self._write_access() as db:
            if not self._model_bound():
                return
            index = self._index_for_writing()
            if index.index is None and index.file_is_current(self._generation(db)):
                self._unflushed = False
                return  # nothing loaded, nothing changed: do not read a big file just to rewrite it
            self._synced_index(db, allow_kind_change=True)
            if index.dirty:
                index.save()
                with db.atomic():
                    self._set_meta(db, {"faiss_kind": index.kind, "faiss_generation": index.generation,
                                        "index_kind": self.settings.kind})
            self._unflushed = False

    # ---- search -------------------------------------------------------------------------
    def search(self, vector, k=10, filters: Filters | None = None, level="segment",
               dedupe: bool = True) -> list[Hit]:
        """Nearest segments (or files, level="file") to a unit vector, best first.

        dedupe=True (the default) keeps only the best segment of each file, so k hits are k
        different files; dedupe=False returns every matching segment.
        """
        db = self._require_read_db()
        if self.model_meta() is None or not self._has_indexed_files(db):
            raise EmptyIndexError(f"The index at {self.path} holds no audio yet; run "
                                  "`clapsearch index FOLDER` to add some.")
        query = unit_rows(vector, self._dim())[0]
        filters = None if filters is None or filters.is_empty() else filters
        if level == "file":
            ids, matrix = self._pooled(db)
            return search_files(db, ids, matrix, query, k, filters)
        if level != "segment":
            raise ValueError(f"level must be 'segment' or 'file', not {level!r}")
        with self._snapshot(db):
            index = self._synced_index(db, allow_kind_change=False)
            allowed = None if filters is None else allowed_segment_ids(db, filters)
            return search_segments(db, index, query, k, allowed, dedupe)

    def segment_counts(self, file_ids) -> dict[int, int]:
        """file id -> how many windows it has (for length-fair ranking)."""
        db = self._require_read_db()
        ids, counts = [int(i) for i in file_ids], {}
        for chunk, marks in _chunks(ids):
            counts.update(db.execute(f"SELECT file_id, count(*) FROM segments WHERE file_id IN ({marks}) "
                                     "GROUP BY file_id", chunk).fetchall())
        return counts

    def sample_segment_vectors(self, limit: int = 4096) -> np.ndarray:
        """Up to `limit` window vectors spread evenly over the index (the same ones every time).

        Kept until the index changes, like the pooled sample: picking it costs a pass over every id."""
        db = self._require_read_db()
        return self._kept_until_change(db, ("segment sample", int(limit)),
                                       lambda: self._read_segment_sample(db, limit))

    def _read_segment_sample(self, db, limit: int) -> np.ndarray:
        with self._snapshot(db):
            index = self._synced_index(db, allow_kind_change=False)
            ids = np.setdiff1d(index.ids(), index.dead)  # HNSW keeps deleted ids until a rebuild
            if len(ids) > limit:
                ids = ids[np.linspace(0, len(ids) - 1, limit).astype(np.int64)]
            return index.reconstruct(ids) if len(ids) else np.empty((0, self._dim()), np.float32)

    def pooled_vectors(self, file_ids) -> dict[int, np.ndarray]:
        """file id -> its pooled (whole-file) vector, for the files that have one."""
        db = self._require_read_db()
        found, dim = {}, self._dim()
        for chunk, marks in _chunks([int(i) for i in file_ids]):
            rows = db.execute(f"SELECT id, vector FROM files WHERE id IN ({marks}) AND vector IS NOT NULL",
                              chunk).fetchall()
            found.update(zip((r[0] for r in rows), blobs_to_matrix([r[1] for r in rows], dim)))
        return found

    def sample_pooled_vectors(self, limit: int = 4096) -> np.ndarray:
        """Up to `limit` pooled file vectors spread evenly over the index (the same ones every time).

        Kept until the index changes: every ranked query needs it, and reading it costs more than
        the search itself on a large index."""
        db = self._require_read_db()
        return self._kept_until_change(db, ("pooled sample", int(limit)),
                                       lambda: self._read_pooled_sample(db, limit))

    def _read_pooled_sample(self, db, limit: int) -> np.ndarray:
        ids = [r[0] for r in db.execute("SELECT id FROM files WHERE status = 'indexed' AND vector IS NOT NULL "
                                        "ORDER BY id").fetchall()]
        if len(ids) > limit:
            ids = [ids[i] for i in np.linspace(0, len(ids) - 1, limit).astype(np.int64)]
        vectors = self.pooled_vectors(ids)
        rows = [vectors[i] for i in ids if i in vectors]  # a file removed meanwhile by a writer is skipped
        return np.stack(rows) if rows else np.empty((0, self._dim()), np.float32)

    def segment_vectors(self, segment_ids) -> np.ndarray:
        """The stored vectors of these segments, in the given order."""
        db = self._require_read_db()
        with self._snapshot(db):
            return self._synced_index(db, allow_kind_change=False).reconstruct(
                np.asarray(list(segment_ids), dtype=np.int64))

    def allowed_count(self, filters: Filters | None = None) -> int:
        """How many windows a search with these filters may return."""
        db = self._require_read_db()
        if filters is None or filters.is_empty():
            return self._count(db, "segments")
        return len(allowed_segment_ids(db, filters))

    def _pooled(self, db):
        """(ids, matrix) of every indexed file's pooled vector, kept until the index changes."""
        return self._kept_until_change(db, "pooled", lambda: self._read_pooled(db))

    def _read_pooled(self, db):
        rows = db.execute("SELECT id, vector FROM files WHERE status = 'indexed' AND vector IS NOT NULL "
                          "ORDER BY id").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), blobs_to_matrix([r[1] for r in rows], self._dim())

    def _kept_until_change(self, db, name, read):
        """`read()`'s value, read again only when the index's generation has moved since it was kept."""
        generation = self._generation(db)
        kept = self._kept.get(name)
        if kept is None or kept[0] != generation:
            kept = self._kept[name] = (generation, read())
        return kept[1]

    # ---- summary ------------------------------------------------------------------------
    def _has_indexed_files(self, db) -> bool:
        return db.execute("SELECT 1 FROM files WHERE status = 'indexed' LIMIT 1").fetchone() is not None

    def _count(self, db, table_and_where: str) -> int:
        return db.execute(f"SELECT count(*) FROM {table_and_where}").fetchone()[0]

    def stats(self) -> dict:
        db = self._read_db()
        sizes = [os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p)]
        faiss_file = self.path + ".faiss"
        result = {"path": self.path, "exists": self.exists(), "files_indexed": 0, "files_failed": 0,
                  "files_with_warnings": 0,
                  "segments": 0, "audio_hours": 0.0, "model": None, "fingerprint": None,
                  "faiss_kind": None, "db_bytes": sum(sizes),
                  "faiss_bytes": os.path.getsize(faiss_file) if os.path.exists(faiss_file) else 0}
        if db is None:
            return result
        meta, model = self._meta(db), self.model_meta()
        seconds = db.execute("SELECT total(duration) FROM files WHERE status = 'indexed'").fetchone()[0]
        result.update(files_indexed=self._count(db, "files WHERE status = 'indexed'"),
                      files_failed=self._count(db, "files WHERE status = 'failed'"),
                      files_with_warnings=(self._count(db, "files WHERE warnings IS NOT NULL")
                                           if "warnings" in self._file_columns(db) else 0),
                      segments=self._count(db, "segments"), audio_hours=seconds / 3600.0,
                      model=model and model["name"], fingerprint=model and model["fingerprint"],
                      faiss_kind=meta.get("faiss_kind"), schema_version=int(meta.get("schema_version", 0)))
        return result
