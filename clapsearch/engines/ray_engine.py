"""The Ray engine: decode and embed on a Ray cluster, stream the results back to the single writer.

    driver (this process: scan, plan, store, lock)
      ray.data.from_items(planned files)
        .map_batches(Decoder,  CPU actors)               decode + cut windows (ray_stages.py)
        .map_batches(Embedder, model actors, num_gpus=1 when the cluster has GPUs)
        .iter_batches()  --> whole files reassembled here --> api._embed_planned writes them in batches

Only the files the plan sends out travel; the store is opened by the driver alone, so its crash
safety and writer lock are those of a local run.

A worker that dies loses only the block it held: Ray Data goes on with the others (errored blocks
are skipped, dead actors restarted). Files that did not come back are sent again one file per
block, so a file that kills its worker every time takes down only itself; it is then recorded as
failed and the run ends normally.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextlib import contextmanager

import numpy as np

from ..audio.decode import AudioInfo
from ..audio.pipeline import CHUNK_SAMPLES, FileEmbedding, FileFailure, Progress
from ..errors import ClapsearchError
from ..models.base import window_samples
from .ray_stages import Decoder, Embedder, ModelByName, ShippedModel

FILES_PER_BLOCK = 8  # at most this many files per decode block on the first pass: what a dead worker can lose
CHUNKS_PER_MODEL_CALL = 4  # chunk rows per Embedder call (each up to `batch_size` windows)
DECODE_CPUS = 0.25  # decoding is light next to the model; a quarter CPU each lets several share a core
GPU_BATCH_SIZE = 256  # windows per model call on a GPU (the CPU one is --batch-size)
DIED = "a Ray worker died twice while embedding this file (see the Ray logs for why)"


class RayEngine:
    name = "ray"

    def __init__(self, address: str | None = None, model_source=None, decoders: int | None = None,
                 gpu_batch_size: int = GPU_BATCH_SIZE, init_args: dict | None = None):
        self.address = address  # None: a private Ray instance on this machine for the run
        self.model_source = model_source  # how workers get the model: ModelByName, ShippedModel
        self.decoders = decoders
        self.gpu_batch_size = gpu_batch_size
        self.init_args = init_args or {}

    def embed_files(self, model, paths, *, hop_seconds=None, batch_size=32, workers=None, progress=None):
        ray = _import_ray(private=not (self.address or os.environ.get("RAY_ADDRESS")))
        started_here = self._connect(ray)
        try:
            yield from self._run(ray, model, list(paths), hop_seconds, batch_size, workers,
                                 progress or (lambda event: None))
        finally:
            if started_here:
                ray.shutdown()

    # ---- connecting ---------------------------------------------------------------------------

    def _connect(self, ray) -> bool:
        """Join the cluster at `address`, or start a private instance; True when it was started here."""
        if ray.is_initialized():
            return False
        args = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
        args.update(self.init_args)
        try:
            if self.address:
                ray.init(address=self.address, **args)
            else:
                ray.init(**args)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            raise ClapsearchError(f"Could not start or reach {where} ({' '.join(str(error).split())[:200]}); "
                                  "check --address, or run `ray status` on the head node.") from None
        return True

    # ---- running ------------------------------------------------------------------------------

    def _run(self, ray, model, paths, hop_seconds, batch_size, workers, progress):
        layout = _Layout(model, hop_seconds, batch_size)
        pool = _Pool.plan(ray.cluster_resources(), workers, self.decoders, batch_size, self.gpu_batch_size)
        source = ray.put(self.model_source or ModelByName(model.name))
        remaining = dict(enumerate(paths))
        with _run_settings(ray):
            for files_per_block, chunks_per_call in ((FILES_PER_BLOCK, CHUNKS_PER_MODEL_CALL), (1, 1)):
                if not remaining:
                    break
                dataset = _dataset(ray, remaining, files_per_block, chunks_per_call, layout, pool, source,
                                   model.fingerprint)
                yield from _Assembler(layout, remaining, progress).consume(dataset)
        for path in list(remaining.values()):
            progress(Progress(finished=os.fsdecode(path), failed=True))
            yield FileFailure(os.fsdecode(path), DIED)


class _Layout:
    """Window, hop and chunk sizes in samples: the same numbers as the local pipeline."""

    def __init__(self, model, hop_seconds, batch_size):
        self.rate = model.sample_rate
        self.window = window_samples(model)
        seconds = model.window_seconds / 2 if hop_seconds is None else hop_seconds
        self.hop = max(1, round(seconds * model.sample_rate))
        self.chunk_windows = max(1, min(batch_size, CHUNK_SAMPLES // self.window))


class _Pool:
    """How many actors of each kind, and what each asks of the cluster."""

    def __init__(self, models, model_args, model_batch, decoders):
        self.models, self.model_args, self.model_batch, self.decoders = models, model_args, model_batch, decoders

    @classmethod
    def plan(cls, resources: dict, workers, decoders, cpu_batch: int, gpu_batch: int) -> "_Pool":
        cpus, gpus = float(resources.get("CPU", 1)), int(resources.get("GPU", 0))
        if gpus:  # one model actor per GPU; one decoder per CPU left (a GPU outruns many decoders)
            models = workers or gpus
            decoders = decoders or max(1, int(cpus - models))
            return cls(models, {"num_gpus": 1, "num_cpus": 1}, gpu_batch, decoders)
        # CPUs only: one decoder per 8 CPUs (decoding is an order of magnitude lighter than the
        # model), and a model actor per CPU left.
        decoders = decoders or max(1, int(cpus // 8))
        models = workers or max(1, int(cpus - DECODE_CPUS * decoders))
        share = (cpus - DECODE_CPUS * decoders) / models
        if share < 0.1:
            raise ClapsearchError(f"The Ray cluster has {cpus:g} CPUs, too few for {models} model workers and "
                                  f"{decoders} decoders; ask for fewer with --workers.")
        # Ray accepts a fraction below one CPU, or whole CPUs; the model's threads follow it.
        share = 1.0 if share >= 1 else round(share - 0.05, 1) if share >= 0.15 else 0.1
        return cls(models, {"num_cpus": share}, cpu_batch, decoders)


def _dataset(ray, remaining: dict, files_per_block: int, chunks_per_call: int, layout, pool, source, fingerprint):
    """The two-stage pipeline over the files left. A retry pass (one file per block, one chunk per
    call, one call at a time per actor) keeps a file that kills its worker away from the others."""
    items = [{"file_no": n, "path": os.fsencode(p)} for n, p in remaining.items()]
    # Enough blocks for every decoder to have several (a block is decoded by one actor, in order).
    files_per_block = max(1, min(files_per_block, len(items) // (4 * pool.decoders)))
    blocks = max(1, -(-len(items) // files_per_block))
    in_flight = None if files_per_block > 1 else 1  # None: Ray Data's default queue per actor

    def actors(count: int):
        return ray.data.ActorPoolStrategy(min_size=1, max_size=count, max_tasks_in_flight_per_actor=in_flight)

    # Ray Data restarts a dead actor and, by default, retries its batch forever: a file that kills its
    # worker every time would never end. The batch is not retried there; _run sends its files again.
    return (ray.data.from_items(items, override_num_blocks=blocks)
            .map_batches(Decoder, batch_size=1, compute=actors(pool.decoders), num_cpus=DECODE_CPUS,
                         fn_constructor_args=(layout.rate, layout.window, layout.hop, layout.chunk_windows),
                         ray_remote_args_fn=_no_task_retries)
            .map_batches(Embedder, batch_size=chunks_per_call, compute=actors(pool.models),
                         fn_constructor_args=([source], fingerprint, layout.window, pool.model_batch),
                         ray_remote_args_fn=_no_task_retries, **pool.model_args))


def _no_task_retries() -> dict:
    return {"max_restarts": -1, "max_task_retries": 0}


class _Assembler:
    """Gathers the chunk rows of each file as they stream in; yields each file once it is whole."""

    def __init__(self, layout, remaining: dict, progress):
        self.layout, self.remaining, self.progress = layout, remaining, progress
        self.files: dict[int, dict] = {}  # file_no -> {"chunks": {chunk: row}, "count": int | None}

    def consume(self, dataset):
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            from .ray_stages import rows_of

            for row in rows_of(batch):
                result = self._add(row)
                if result is not None:
                    yield result

    def _add(self, row: dict):
        file_no = row["file_no"]
        if file_no not in self.remaining:
            return None  # a late chunk of a file already done
        self.progress(Progress(audio_seconds=row["audio_seconds"]))
        state = self.files.setdefault(file_no, {"chunks": {}, "count": None})
        state["chunks"][row["chunk"]] = row
        if row["chunks"]:
            state["count"] = row["chunks"]
        if row["error"]:
            return self._finish(file_no, FileFailure(os.fsdecode(row["path"]), row["error"]))
        if state["count"] is None or len(state["chunks"]) < state["count"]:
            return None
        return self._finish(file_no, self._embedding(state))

    def _finish(self, file_no: int, result):
        del self.remaining[file_no]
        self.files.pop(file_no, None)
        self.progress(Progress(finished=result.path, failed=isinstance(result, FileFailure)))
        return result

    def _embedding(self, state: dict) -> FileEmbedding:
        rows = [state["chunks"][i] for i in range(state["count"])]
        last = rows[-1]
        starts = np.concatenate([np.frombuffer(r["starts"], np.int64) for r in rows])
        vectors = np.concatenate([np.frombuffer(r["vectors"], np.float32) for r in rows]).reshape(len(starts), -1)
        pooled = vectors.mean(axis=0)
        pooled /= max(float(np.linalg.norm(pooled)), 1e-12)
        rate, window = self.layout.rate, self.layout.window
        return FileEmbedding(path=os.fsdecode(last["path"]), info=AudioInfo(**json.loads(last["info"])),
                             starts=starts / rate, ends=np.minimum(starts + window, last["total_samples"]) / rate,
                             vectors=vectors.astype(np.float32, copy=True), pooled=pooled.astype(np.float32),
                             warnings=tuple(json.loads(last["warnings"])))


@contextmanager
def _run_settings(ray):
    """Skip a dead worker's block instead of ending the run; no Ray progress bars or tracebacks on the
    console (the summary lists what failed; Ray Data's own log file keeps the details)."""
    context = ray.data.DataContext.get_current()
    saved = context.max_errored_blocks, context.enable_progress_bars
    context.max_errored_blocks, context.enable_progress_bars = -1, False
    consoles = [h for h in logging.getLogger("ray.data").handlers
                if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    levels = [h.level for h in consoles]
    for handler in consoles:
        handler.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        context.max_errored_blocks, context.enable_progress_bars = saved
        for handler, level in zip(consoles, levels):
            handler.setLevel(level)


def _import_ray(private: bool):
    if private and "ray" not in sys.modules:
        # A private instance serves this process only: keep Ray on the loopback address, so no port
        # opens to the network (Ray reads this when it is first imported).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the extra's reason to exist)
    except ImportError:
        raise ClapsearchError("--engine ray needs Ray Data; install it with pip install 'clapsearch[ray]'.") from None
    return ray
