"""The Python API the CLI is built on.

    from clapsearch import Library, tag
    lib = Library()                       # db: CLAPSEARCH_DB or the user data folder
    lib.index(["~/sounds"])               # incremental
    lib.search("dog barking", k=10)       # text -> passages
    lib.similar("kick.wav@0.5-1.5")       # audio -> passages
    lib.label(["dog", "rain"])            # zero-shot labels for every file, stored in the index
    tag(["x.wav"], ["dog", "cat"])        # zero-shot labels for any files, no index needed

Which model: the one given to Library / tag, else CLAPSEARCH_MODEL, else the model the index was
built with, else "default". An index remembers its model's fingerprint and refuses another one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

import numpy as np

from . import zeroshot
from .errors import ClapsearchError, EmptyIndexError, ModelMismatchError
from .sync import BatchWriter, IndexSummary, make_plan
from .zeroshot import DEFAULT_TEMPLATE

__all__ = ["Library", "tag", "IndexSummary", "default_db_path", "make_filters", "check_label_out", "write_label_rows",
           "waveform_peaks", "write_wav"]

_RANGE = re.compile(r"^(.*)@(\d+(?:\.\d*)?)-(\d+(?:\.\d*)?)$")


def default_db_path() -> str:
    """CLAPSEARCH_DB, else index.db in the user data folder (e.g. ~/.local/share/clapsearch)."""
    if os.environ.get("CLAPSEARCH_DB"):
        return os.environ["CLAPSEARCH_DB"]
    from platformdirs import user_data_dir

    return os.path.join(user_data_dir("clapsearch", appauthor=False), "index.db")


def make_filters(under=None, min_duration=None, max_duration=None, ext=None, format=None, sample_rate=None,
                 channels=None):
    """Search filters: folder, file duration bounds (seconds), extensions ("wav" or ".wav"), container
    formats ("wav", "flac", "ogg"...), sample rates (Hz) and channel counts (each a list: any of them)."""
    from .store import Filters

    exts = tuple("." + e.lower().lstrip(".") for e in (ext or ()))
    return Filters(under=os.path.abspath(os.path.expanduser(under)) if under else None,
                   min_duration=min_duration, max_duration=max_duration, exts=exts,
                   formats=tuple(str(f) for f in (format or ())), sample_rates=tuple(int(r) for r in (sample_rate or ())),
                   channels=tuple(int(c) for c in (channels or ())))


class Library:
    """An audio library's index (one SQLite database plus its FAISS file) and the model behind it."""

    def __init__(self, db=None, model=None, device: str | None = None, runtime: str | None = None):
        self.db = os.fspath(db) if db else default_db_path()
        self._model_arg = model  # None, a name, or an AudioTextModel
        self._model = None if isinstance(model, (str, type(None))) else model
        self.device = device
        self.runtime = runtime  # the audio tower's engine (torch, onnx, onnx-int8); None: CLAPSEARCH_RUNTIME or the model's
        self._reader = None  # an index held open between calls (keep_open), e.g. by the web app
        self._vocabulary = None  # (labels, text vectors) of the built-in vocabulary, for file_tags

    # ---- model ------------------------------------------------------------------------------------

    def model_for(self, recorded_name: str | None = None):
        """The model to use: given, else CLAPSEARCH_MODEL, else the index's, else "default"."""
        if self._model is None:
            from .models.registry import load_model

            name = self._model_arg or os.environ.get("CLAPSEARCH_MODEL") or recorded_name or "default"
            self._model = load_model(name, device=self.device, runtime=self.runtime)
        return self._model

    def _load_model_with_status(self, recorded_name: str | None, progress: bool):
        from .progress import Status

        name = self._model_arg if isinstance(self._model_arg, str) else None
        with Status(f"loading model {name or recorded_name or 'default'}", enabled=progress and self._model is None):
            return self.model_for(recorded_name)

    def _asks_for_another_model(self, meta: dict) -> bool:
        """Whether the caller named (or gave) a model other than the one the index records."""
        if self._model is not None:
            return True
        asked = self._model_arg or os.environ.get("CLAPSEARCH_MODEL")
        return bool(asked) and asked != meta["name"]

    def _query_store(self):
        """The index opened for reading, with the model that built it; EmptyIndexError if nothing is indexed."""
        store = _HeldStore(self._reader) if self._reader is not None else _open_existing(self.db, readonly=True)
        try:
            meta = store.model_meta()
            if meta is None or not store.stats()["files_indexed"]:
                raise EmptyIndexError(f"The index {self.db} holds no audio yet; run `clapsearch index FOLDER` first.")
            model = self.model_for(meta["name"])
            _check_same_model(model, meta, self.db)
        except BaseException:
            store.close()
            raise
        return store, model

    # ---- index ------------------------------------------------------------------------------------

    def index(self, paths, *, hop_seconds: float | None = None, batch_size: int = 32, workers: int | None = None,
              wait_seconds: float = 0.0, progress: bool = False, engine="local",
              address: str | None = None) -> IndexSummary:
        """Add new and changed files under `paths`, re-path moved ones, drop deleted ones.

        engine: "local" (`workers` decode and hash threads here; None picks them from the free cores,
        clapsearch/threads.py), "ray" (a Ray cluster at `address`, else a private local instance;
        `workers` model actors, default one per GPU or per CPU left beside the decoders), or an
        engine object (see clapsearch.engines)."""
        from .progress import Counter
        from .scan import scan
        from .store import Store
        from .threads import decode_workers

        workers = decode_workers() if workers is None else workers

        started = time.monotonic()
        roots = [os.path.expanduser(os.fspath(p)) for p in paths]
        with Counter(f"scanning {', '.join(roots)}", "files", enabled=progress) as counter:
            found = scan(roots, counter.add)
        with Store(self.db, readonly=True) as existing:
            recorded = existing.model_meta()
        if recorded is None:  # a new index: load the model before creating anything
            self._load_model_with_status(None, progress)
        with Store(self.db) as store, store.writer(wait_seconds):
            meta = store.model_meta()
            summary = IndexSummary(failed=list(found.broken) + list(found.unlisted))
            plan = make_plan(store, found, workers or 2)
            # Nothing to embed and no other model asked for: no model is loaded at all.
            model = self._load_model_with_status(meta["name"] if meta else None, progress) if (
                meta is None or plan.embed or self._asks_for_another_model(meta)) else None
            hop = _hop(meta, hop_seconds, model, self.db)
            if model is not None:
                store.bind_model(model.name, model.fingerprint, model.dim, model.sample_rate,
                                 model.window_seconds, hop)
            _apply_plan_without_model(store, plan, found.broken, summary)
            _embed_planned(store, model, plan, summary, hop, batch_size, workers, progress,
                           self._engine(engine, address, model))
            if model is not None and plan.embed:
                # Runtimes share the fingerprint (they hold the quality bar); the index says which wrote it.
                store.add_audio_runtime(getattr(model, "runtime", "torch"))
            _backfill_words(store)
            store.add_indexed_roots(root for root in roots if os.path.isdir(root))
        summary.wall_seconds = time.monotonic() - started
        return summary

    def _engine(self, engine, address, model):
        """An engine object; Ray workers load a model given by name themselves (with the runtime asked
        here, so --runtime reaches them), else get this one's copy."""
        if not isinstance(engine, str):
            return engine
        from .engines import make_engine
        from .engines.ray_stages import ModelByName, ShippedModel

        given = self._model if not isinstance(self._model_arg, (str, type(None))) else None
        if given is not None:
            return make_engine(engine, address, ShippedModel(given))
        return make_engine(engine, address, ModelByName(model.name, self.runtime) if model is not None else None)

    def prune(self, wait_seconds: float = 0.0, dry_run: bool = False) -> list[str]:
        """Remove the entries of files that no longer exist (anywhere in the index); returns their paths.

        With `dry_run`, only says which entries would go."""
        with _open_existing(self.db, readonly=dry_run) as store:
            if dry_run:
                return [r.path for r in store.iter_files() if not os.path.lexists(r.path)]
            with store.writer(wait_seconds):
                gone = [record for record in store.iter_files() if not os.path.lexists(record.path)]
                store.delete_files([record.id for record in gone])
        return [record.path for record in gone]

    # ---- search -----------------------------------------------------------------------------------

    def search(self, text: str, k: int = 10, filters=None, *, per_file: int = 1, mode: str = "hybrid",
               ensemble: bool = True, not_=(), like=()) -> list:
        """The `k` best passages for `text`, best first (Result records; see clapsearch.search).

        per_file: passages per file (0 = every window). mode: "hybrid" fuses the audio and word
        rankings, "audio" and "text" use one. ensemble: average the text over several prompt
        templates. not_: descriptions whose close passages are pushed down. like: example sounds
        (FILE or FILE@S-E) averaged into the query."""
        from . import search as searching

        if not text.strip() and not like:
            raise ClapsearchError("The query is empty; describe the sound, e.g. clapsearch query \"dog barking\".")
        query = searching.parse_query(text)
        store, model = self._query_store()
        with store:
            def embed(description):
                texts = searching.ensemble_texts(description) if ensemble else [description]
                return searching.mean_unit(self._query_vectors(store, model, texts))

            vector = searching.combine(
                [embed(query.text)] if query.text else [],
                [_excerpt_vector(store, model, *parse_excerpt(os.fspath(t))) for t in like])
            negatives = [embed(n) for n in not_]
            return searching.search(store, vector, query, k=k, per_file=per_file, filters=filters, mode=mode,
                                    negatives=negatives)

    def _query_vectors(self, store, model, texts: list[str]) -> np.ndarray:
        """Embeddings of query texts, from the index's text cache when asked before. New ones are
        cached best effort: a read-only command never waits on a writer nor fails for the cache."""
        from .store import Store

        cached = store.cached_text_vectors(model.fingerprint, texts)
        missing = [t for t in dict.fromkeys(texts) if t not in cached]
        if missing:
            fresh = np.asarray(model.embed_text(missing), dtype=np.float32)
            cached.update(zip(missing, fresh))
            with Store(self.db) as writable:
                writable.try_put_text_vectors(model.fingerprint, dict(zip(missing, fresh)))
        return np.stack([np.asarray(cached[t], np.float32) for t in texts])

    def similar(self, target, k: int = 10, filters=None, exclude_self: bool = True, *, per_file: int = 1) -> list:
        """Passages that sound like a file ("kick.wav"), an excerpt ("take.wav@12.5-15.0") or several of them."""
        from . import search as searching

        targets = [target] if isinstance(target, (str, os.PathLike)) else list(target)
        excerpts = [parse_excerpt(os.fspath(t)) for t in targets]
        store, model = self._query_store()
        with store:
            vector = searching.combine([], [_excerpt_vector(store, model, *e) for e in excerpts])
            own = {e[0] for e in excerpts} if exclude_self else set()
            hits = searching.search(store, vector, searching.parse_query(""), k=k + len(own) * (per_file or 10**9),
                                    per_file=per_file, filters=filters, mode="audio")
        return [h for h in hits if h.path not in own][:k]

    # ---- labels -----------------------------------------------------------------------------------

    def label(self, labels: list[str], *, template: str = DEFAULT_TEMPLATE, multi_label: bool = False, top: int = 1,
              label_set: str | None = None, wait_seconds: float = 0.0, progress: bool = False) -> list[dict]:
        """Zero-shot labels for every indexed file (pooled vectors); stored in the index under `label_set`."""
        from .progress import FileProgress

        labels = list(labels)
        label_set = label_set or _label_set_name(labels, template, multi_label)
        store, model = self._query_store()
        store.close()
        rows = []
        with _open_existing(self.db) as store, store.writer(wait_seconds):
            text = text_vectors(store, model, zeroshot.prompts(labels, template))
            records = list(store.iter_files(status="indexed"))
            with FileProgress(len(records), "labelling", enabled=progress) as bar, store.batch():
                for record in records:
                    row = zeroshot.scores(store.pooled_vector(record.id)[None, :], text, model.logit_scale,
                                          multi_label)[0]
                    best = zeroshot.top_labels(row, labels, top)
                    store.put_labels({"file_id": record.id, "label_set": label_set, "label": b["label"],
                                      "score": b["score"], "model": model.fingerprint} for b in best)
                    store.put_label_words(record.id, _label_words(store, record.id))
                    rows.append({"path": record.path, "labels": best})
                    bar.file_done()
        return rows

    # ---- info -------------------------------------------------------------------------------------

    def indexed_roots(self) -> list[str]:
        """The folders this index was built from (absolute); tables show hit paths relative to them."""
        with _open_existing(self.db, readonly=True) as store:
            return store.indexed_roots()

    def info(self) -> dict:
        from .store.vector_index import memory_bytes

        with _open_existing(self.db, readonly=True) as store:
            meta = store.model_meta() or {}
            runtimes = store.audio_runtimes()
            stats = store.stats()
            failures = [{"path": r.path, "error": r.error} for r in store.iter_files(status="failed")]
            warnings = [{"path": r.path, "warning": w} for r in store.iter_files(status="indexed") for w in r.warnings]
        return {"db": self.db, "model": meta.get("name"), "fingerprint": meta.get("fingerprint"),
                "audio_runtimes": runtimes, "window_seconds": meta.get("window_seconds"), "hop_seconds": meta.get("hop_seconds"),
                "files_indexed": stats["files_indexed"], "files_failed": stats["files_failed"],
                "files_with_warnings": stats["files_with_warnings"],
                "segments": stats["segments"], "audio_hours": round(stats["audio_hours"], 4),
                "index_kind": stats["faiss_kind"],
                "index_memory_bytes": memory_bytes(stats["faiss_bytes"], stats["segments"]), "db_bytes": stats["db_bytes"],
                "faiss_bytes": stats["faiss_bytes"], "failures": failures, "warnings": warnings}

    # ---- for a long-running reader (clapsearch serve) --------------------------------------------

    def keep_open(self) -> None:
        """Hold the index open for reading until close(): the vector index then loads once, not per call.

        Later searches still see what another process indexes meanwhile (the store re-syncs by generation).
        """
        if self._reader is None:
            self._reader = _open_existing(self.db, readonly=True)
        store, _ = self._query_store()  # fail now, with the usual sentence, if there is nothing to search
        store.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def file(self, file_id: int):
        """The indexed file with this id (a FileRow), or None: ids come from search hits."""
        store, _ = self._query_store()
        with store:
            record = store.get_file_by_id(int(file_id))
        return record if record is not None and record.status == "indexed" else None

    def file_tags(self, file_ids, top: int = 3) -> dict[int, list[dict]]:
        """Labels to show beside each file: its stored labels (from `label`) if any, else its `top`
        zero-shot labels against the built-in vocabulary. {file_id: [{"label", "score"}]}."""
        from .vocab import builtin_labels

        store, model = self._query_store()
        with store:
            stored = store.labels_of(file_ids)
            missing = [i for i in file_ids if not stored.get(i)]
            if missing and self._vocabulary is None:
                labels = builtin_labels()
                self._vocabulary = labels, text_vectors(None, model, zeroshot.prompts(labels))
            tags = {i: [{"label": r["label"], "score": round(r["score"], 6)} for r in stored[i][:top]]
                    for i in file_ids if stored.get(i)}
            if missing:
                labels, text = self._vocabulary
                rows = zeroshot.scores(np.stack([store.pooled_vector(i) for i in missing]), text, model.logit_scale)
                tags.update((i, zeroshot.top_labels(row, labels, top)) for i, row in zip(missing, rows))
        return tags

    def facets(self) -> dict:
        """What the search filters can choose from: {"folders": [...], "extensions": [...]}, sorted."""
        store, _ = self._query_store()
        with store:
            paths = [record.path for record in store.iter_files(status="indexed")]
        return {"folders": sorted({os.path.dirname(p) for p in paths}),
                "extensions": sorted({os.path.splitext(p)[1].lower().lstrip(".") for p in paths} - {""})}


def waveform_peaks(path, bins: int = 200) -> list[float]:
    """A waveform thumbnail of a file: `bins` peak levels in [0, 1] (see audio/peaks.py)."""
    from .audio.peaks import waveform_peaks as peaks

    return peaks(path, bins)


def write_wav(path, out_path) -> None:
    """Decode any readable audio file into a mono 16-bit WAV file (for players that lack its codec)."""
    from .audio.wav import write_wav as write

    write(path, out_path)


# ---- tag: zero-shot labels for any files ------------------------------------------------------------


def tag(paths, labels: list[str] | None = None, model=None, top: int = 5, multi_label: bool = False,
        template: str = DEFAULT_TEMPLATE, db=None, device: str | None = None,
        runtime: str | None = None) -> list[dict]:
    """Score each file against `labels` (None: the 527 AudioSet classes); best `top` per file (0 = all).

    Returns [{"path", "labels": [{"label", "score"}]}]; a file that cannot be decoded gets no labels
    and an "error". No index is needed. When the index (db) exists and was built with the same model,
    its cached label embeddings are used and extended, and an unchanged indexed file's stored vector
    is reused instead of decoding it again. runtime: the audio tower's engine, as for Library.
    """
    from .vocab import builtin_labels

    labels = list(labels) if labels else builtin_labels()
    store = _store_if_exists(db)
    try:
        meta = store.model_meta() if store else None
        model = Library(db=db, model=model, device=device, runtime=runtime).model_for(meta["name"] if meta else None)
        if meta and meta["fingerprint"] != model.fingerprint:
            store.close()
            store = None  # an index of another model: neither its vectors nor its cache apply
        text = text_vectors(store, model, zeroshot.prompts(labels, template))
        rows = []
        for path, vector, error in _file_vectors(store, model, [os.fspath(p) for p in paths]):
            if error:
                rows.append({"path": path, "labels": [], "error": error})
                continue
            row = zeroshot.scores(vector[None, :], text, model.logit_scale, multi_label)[0]
            rows.append({"path": path, "labels": zeroshot.top_labels(row, labels, top)})
        return rows
    finally:
        if store is not None:
            store.close()


def text_vectors(store, model, texts: list[str]) -> np.ndarray:
    """(len(texts), dim) text embeddings, from the index's cache where present (per model fingerprint)."""
    cached = store.cached_text_vectors(model.fingerprint, texts) if store is not None else {}
    missing = [t for t in dict.fromkeys(texts) if t not in cached]
    if missing:
        fresh = np.asarray(model.embed_text(missing), dtype=np.float32)
        cached.update(zip(missing, fresh))
        if store is not None:
            store.put_text_vectors(model.fingerprint, dict(zip(missing, fresh)))
    return np.stack([np.asarray(cached[t], np.float32) for t in texts])


def check_label_out(out) -> str:
    """The output kind ("csv" or "json") of a label file name, or a ClapsearchError."""
    suffix = Path(out).suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ClapsearchError(f"Cannot write '{os.fspath(out)}': give --out a file name ending in .csv or .json.")
    return suffix[1:]


def write_label_rows(rows: list[dict], out) -> None:
    """Write label rows to a .csv (path,rank,label,score) or .json (the tag schema) file."""
    from . import render

    text = render.labels_csv(rows) if check_label_out(out) == "csv" else render.to_json(rows) + "\n"
    Path(out).write_text(text, encoding="utf-8")


def parse_excerpt(target: str) -> tuple[str, float | None, float | None]:
    """"FILE@12.5-15.0" -> (FILE, 12.5, 15.0); a plain FILE (even one with "@" in its name) -> (FILE, None, None)."""
    match = _RANGE.match(target)
    if match is None or os.path.exists(target):
        return os.path.abspath(target), None, None
    path, start, end = match.group(1), float(match.group(2)), float(match.group(3))
    if end <= start:
        raise ClapsearchError(f"The excerpt '{target}' ends before it starts; write FILE@START-END with START < END.")
    return os.path.abspath(path), start, end


# ---- helpers -------------------------------------------------------------------------------------------


class _HeldStore:
    """A store held open by keep_open, lent to one call: closing it (or leaving `with`) keeps it open."""

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def close(self) -> None:
        pass


def _check_same_model(model, meta: dict, db: str) -> None:
    if meta["fingerprint"] != model.fingerprint:
        raise ModelMismatchError(
            f"The index {db} was built with model {meta['name']!r}, not {model.name!r}; "
            f"use --model {meta['name']} or another --db."
        )


def _hop(meta: dict | None, asked: float | None, model, db: str) -> float:
    """The hop between windows: an index keeps the one it was built with."""
    if meta is None:
        return asked if asked is not None else model.window_seconds / 2
    if asked is not None and abs(asked - meta["hop_seconds"]) > 1e-9:
        raise ClapsearchError(f"The index {db} was built with --hop {meta['hop_seconds']:g}; "
                              f"leave out --hop or index into another --db.")
    return meta["hop_seconds"]


def _open_existing(db: str, readonly: bool = False):
    from .store import Store

    if not os.path.exists(db):
        raise EmptyIndexError(f"There is no index at {db}; run `clapsearch index FOLDER` first.")
    return Store(db, readonly=readonly)


def _store_if_exists(db):
    from .store import Store

    db = os.fspath(db) if db else default_db_path()
    return Store(db) if os.path.exists(db) else None


def _label_words(store, file_id: int) -> str:
    """Every label stored for a file (all label sets), as searchable words."""
    return " ".join(sorted({row["label"] for row in store.labels_of([file_id]).get(file_id, [])}))


def _label_set_name(labels: list[str], template: str, multi_label: bool) -> str:
    digest = hashlib.blake2b(json.dumps([labels, template, multi_label]).encode(), digest_size=4).hexdigest()
    return f"labels-{digest}"


def _apply_plan_without_model(store, plan, broken, summary: IndexSummary) -> None:
    """Moves, copies, stat updates, deletions and names that cannot be opened: no decoding, no model."""
    with store.batch():
        for path, reason in broken:
            store.put_failure({"path": path}, reason)
        for record, found in plan.touched:
            store.repath(record.id, found.path, found.size, found.mtime)
        for record, found in plan.moved:
            store.repath(record.id, found.path, found.size, found.mtime)
        for source, found in plan.copied:
            _copy_file(store, source, found)
        store.delete_files([record.id for record in plan.deleted])
    summary.skipped = plan.unchanged + len(plan.touched)
    summary.moved, summary.copied = len(plan.moved), len(plan.copied)
    summary.removed = len(plan.deleted)


def _embed_planned(store, model, plan, summary, hop, batch_size, workers, progress, engine) -> None:
    from .audio.pipeline import FileFailure
    from .progress import AudioProgress, on_terminal

    if not plan.embed:
        return  # nothing new or changed: no model work at all
    planned = {found.path: (found, digest) for found, digest in plan.embed}
    writer = BatchWriter(store)
    total = _audio_ahead(list(planned), workers or 2) if on_terminal(progress) else 0.0
    with AudioProgress(total, len(planned), "indexing", enabled=progress) as bar:
        try:
            results = engine.embed_files(model, list(planned), hop_seconds=hop, batch_size=batch_size,
                                         workers=workers, progress=lambda event: bar.audio(event.audio_seconds))
            for result in results:
                found, digest = planned[result.path]
                if isinstance(result, FileFailure):
                    summary.failed.append((result.path, result.error))
                    writer.add(lambda f=found, d=digest, e=result.error: store.put_failure(_record(f, d), e))
                else:
                    summary.indexed += 1
                    summary.audio_seconds += result.info.duration
                    summary.warned.extend((result.path, warning) for warning in result.warnings)
                    writer.add(lambda f=found, d=digest, r=result: _put_words(store, store.put_file(
                        dict(_record(f, d, r.info), warnings=r.warnings), r.starts, r.ends, r.vectors, r.pooled),
                        f.path))
                bar.file_done()
        finally:
            writer.commit()  # even on Ctrl-C: keep every file that finished


def _audio_ahead(paths: list, workers: int) -> float:
    """Seconds of audio in `paths` by their headers (for the bar's total and ETA), read in threads."""
    from concurrent.futures import ThreadPoolExecutor

    from .audio.decode import probe
    from .errors import DecodeError
    from .progress import FileProgress

    def seconds(path) -> float:
        try:
            return probe(path).duration
        except DecodeError:
            return 0.0  # the pipeline records why

    with FileProgress(len(paths), "reading headers") as bar, ThreadPoolExecutor(max(1, workers)) as pool:
        total = 0.0
        for value in pool.map(seconds, paths):
            total += value
            bar.file_done()
    return total


def _put_words(store, file_id: int, path: str) -> None:
    from .search.words import file_words

    store.put_words(file_id, *file_words(path))


def _backfill_words(store) -> None:
    """Words for indexed files that have none: indexed before the lexical index, moved, or copied."""
    missing = store.files_without_words()
    if missing:
        with store.batch():
            for record in missing:
                _put_words(store, record.id, record.path)


def _record(found, digest, info=None) -> dict:
    from .sync import hash_or_none

    # Hashed here, just after decoding, when the plan did not need it: the file is in the page cache.
    digest = digest or hash_or_none(found.path)
    record = {"path": found.path, "size": found.size, "mtime": found.mtime, "content_hash": digest}
    if info is not None:
        record.update(duration=info.duration, sample_rate=info.sample_rate, channels=info.channels,
                      format=f"{info.format}/{info.subtype}")
    return record


def _copy_file(store, source, found) -> None:
    """Index `found` with the vectors of `source`, an indexed file with the same content."""
    starts, ends, vectors = store.file_vectors(source.id)
    record = {"path": found.path, "size": found.size, "mtime": found.mtime, "content_hash": source.content_hash,
              "duration": source.duration, "sample_rate": source.sample_rate, "channels": source.channels,
              "format": source.format, "warnings": source.warnings}
    store.put_file(record, starts, ends, vectors, store.pooled_vector(source.id))


def _excerpt_vector(store, model, path: str, start, end) -> np.ndarray:
    """The query vector for `similar`: the stored vector of an unchanged indexed file, else embed it."""
    from .audio.decode import load_mono
    from .errors import DecodeError

    if start is None:
        record = store.get_file(path)
        if record is not None and record.status == "indexed" and _unchanged(record, path):
            return store.pooled_vector(record.id)
        ((_, vector, error),) = _file_vectors(None, model, [path])  # streamed: any length
        if error:
            raise ClapsearchError(f"Cannot read '{path}': {error}.")
        return vector
    try:
        samples = load_mono(path, model.sample_rate, start, end - start)
    except DecodeError as error:
        raise ClapsearchError(f"Cannot read '{path}': {error}.") from None
    return zeroshot.pool(_embed_windows(model, samples))


def _embed_windows(model, samples: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Window vectors of one in-memory excerpt (half-window hop), embedded `batch_size` at a time."""
    import torch

    from .audio.windows import iter_windows
    from .models.base import window_samples

    window = window_samples(model)
    windows = [w for _, w in iter_windows([samples], window, max(1, window // 2))]
    return np.concatenate([np.asarray(model.embed_audio(torch.from_numpy(np.stack(windows[i:i + batch_size]))))
                           for i in range(0, len(windows), batch_size)])


def _file_vectors(store, model, paths: list[str]):
    """(path, pooled vector, None) or (path, None, reason) for each path, in the given order."""
    from .audio.pipeline import FileFailure, embed_files

    vectors: dict[str, np.ndarray] = {}
    to_embed = []
    for path in paths:
        record = store.get_file(os.path.abspath(path)) if store is not None else None
        if record is not None and record.status == "indexed" and _unchanged(record, path):
            vectors[path] = store.pooled_vector(record.id)
        else:
            to_embed.append(path)
    errors = {}
    for result in embed_files(model, to_embed) if to_embed else ():
        if isinstance(result, FileFailure):
            errors[result.path] = result.error
        else:
            vectors[result.path] = result.pooled
    for path in paths:
        yield path, vectors.get(path), errors.get(path) if path not in vectors else None


def _unchanged(record, path: str) -> bool:
    try:
        stat = os.stat(path)
    except OSError:
        return False
    return (record.size, record.mtime) == (stat.st_size, stat.st_mtime)
