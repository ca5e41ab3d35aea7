"""Decode many files in worker threads and embed their windows in batches that span files.

    paths --> [worker threads: probe, read_blocks, iter_windows] --bounded queue--> caller's thread:
              batches of `batch_size` windows -> model calls of `call_rows` rows -> per-file results

Threads rather than processes: decoding (libsndfile through cffi), resampling and the model (torch)
all release the GIL, and threads hand windows over without copying them between processes.
Memory is bounded: workers send windows in chunks of at most CHUNK_SAMPLES samples through a queue
of 2 * workers chunks, so even a 3-hour file streams through a few MB at a time. Thread counts
come from clapsearch/threads.py: the cores free when the run starts, unless given.

Determinism: a window's vector depends only on its samples. CPU kernels pick their blocking by
the batch size, so the same window embedded in a call of 8 rows and in one of 32 can differ in the
last float bit; hence every model call gets exactly `call_rows` rows, and only the last call of a
run is padded (with silence) up to that. A model that runs as fast one window at a time declares
`call_rows = 1` (hf: models, whose 10 s windows are large matrices on their own): its calls then
need no padding at all and run side by side on the free cores, one torch thread each, which also
spares them torch's per-operator thread barriers. Any other model's call is the whole batch, as
before. Either way, which other files' windows share a batch never changes a result, and with
fixed settings results are bit-identical for any number of workers.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from ..errors import DecodeError
from ..models.base import window_samples
from .decode import AudioInfo, DecodeReport, probe, read_blocks
from .windows import CountingBlocks, window_chunks

CHUNK_SAMPLES = 1 << 22  # at most 16 MiB of float32 windows per message from a worker
BATCHES_IN_FLIGHT = 2  # batches handed to the model threads at once (each a round of calls)
_POLL_SECONDS = 0.1  # how often a blocked worker checks whether the run was stopped


@dataclass
class FileEmbedding:
    path: str
    info: AudioInfo
    starts: np.ndarray  # (n_windows,) float64 seconds
    ends: np.ndarray  # (n_windows,) float64 seconds; a short clip's single window ends at its duration
    vectors: np.ndarray  # (n_windows, dim) float32, L2-normalised
    pooled: np.ndarray  # (dim,) float32: mean of the window vectors, re-normalised
    warnings: tuple[str, ...] = ()  # one line each: what was odd about the audio (see decode.py)


@dataclass
class FileFailure:
    path: str
    error: str  # one-line reason


@dataclass(frozen=True)
class Progress:
    """Sent to the `progress` callback, from the thread that iterates embed_files."""

    audio_seconds: float = 0.0  # audio decoded since the previous event (seconds of the file's time)
    finished: str | None = None  # the path of a file just finished, embedded or failed
    failed: bool = False  # whether `finished` failed


def embed_files(
    model,
    paths: Iterable,
    *,
    hop_seconds: float | None = None,
    batch_size: int = 32,
    workers: int | None = None,
    threads: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Iterator[FileEmbedding | FileFailure]:
    """Embed every file in `paths`, yielding one result per file in completion order.

    A file that cannot be decoded yields a FileFailure and the run goes on; errors from the model
    (or from iterating `paths`) propagate. Stopping the iteration early, or an exception in the
    caller (KeyboardInterrupt included), stops and joins the worker threads. `threads` is the
    model's compute threads and `workers` the decode threads; None picks them from the free cores.
    """
    from ..threads import decode_workers, free_cores

    threads = free_cores() if threads is None else threads
    workers = decode_workers(threads) if workers is None else workers
    if batch_size < 1 or workers < 1 or threads < 1:
        raise ValueError(f"batch_size, workers and threads must be at least 1, got {batch_size}, {workers} and {threads}")
    window = window_samples(model)
    hop = max(1, round((model.window_seconds / 2 if hop_seconds is None else hop_seconds) * model.sample_rate))
    chunk_windows = max(1, min(batch_size, CHUNK_SAMPLES // window))
    decoders = _Decoders(paths, model.sample_rate, window, hop, chunk_windows, workers)
    batcher = _Batcher(model, window, batch_size, threads)
    try:
        decoders.start()
        yield from _consume(decoders, batcher, progress or (lambda event: None))
    finally:
        decoders.stop()
        batcher.close()


# ---- messages from the worker threads ---------------------------------------------------------


@dataclass
class _Started:
    file_no: int
    path: str
    info: AudioInfo


@dataclass
class _Windows:
    file_no: int
    starts: list[int]
    windows: np.ndarray  # (k, window) float32
    audio_seconds: float


@dataclass
class _Ended:
    file_no: int
    total_samples: int
    audio_seconds: float
    warnings: tuple[str, ...] = ()
    seconds_read: float = 0.0  # the file's length as decoded, which a cut file's header overstates


@dataclass
class _Failed:
    file_no: int
    path: str
    error: str


@dataclass
class _WorkerDone:
    error: BaseException | None = None  # set when iterating `paths` itself raised


class _Stopped(Exception):
    """Raised inside a worker when the run is being shut down."""


class _Decoders:
    """Worker threads that pull paths from a shared iterator and send windows through a bounded queue."""

    def __init__(self, paths, rate, window, hop, chunk_windows, workers):
        self.paths = iter(paths)
        self.rate, self.window, self.hop, self.chunk_windows = rate, window, hop, chunk_windows
        self.queue: queue.Queue = queue.Queue(maxsize=2 * workers)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.next_file_no = 0
        self.threads = [
            threading.Thread(target=self._run, name=f"clapsearch-decode-{i}", daemon=True) for i in range(workers)
        ]
        self.peak_queue = 0  # largest queue length seen by the consumer (for tests and benchmarks)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """Tell workers to stop, unblock them by draining the queue, and join them."""
        self.stopping.set()
        for thread in self.threads:
            while thread.is_alive():
                self._drain()
                thread.join(_POLL_SECONDS)
        self._drain()

    def get(self):
        message = self.queue.get()
        self.peak_queue = max(self.peak_queue, self.queue.qsize() + 1)
        return message

    def _drain(self) -> None:
        try:
            while True:
                self.queue.get_nowait()
        except queue.Empty:
            pass

    def _put(self, message) -> None:
        while True:
            if self.stopping.is_set():
                raise _Stopped
            try:
                self.queue.put(message, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _next_path(self):
        with self.lock:
            path = next(self.paths, None)
            file_no = self.next_file_no
            self.next_file_no += 1
        return file_no, path

    def _run(self) -> None:
        error = None
        _lower_priority()
        try:
            while not self.stopping.is_set():
                file_no, path = self._next_path()
                if path is None:
                    break
                self._decode(file_no, path)
        except _Stopped:
            return
        except BaseException as failure:  # the caller's path iterator failed (or a bug): hand it over
            error = failure
        try:
            self._put(_WorkerDone(error))  # always sent, so the consumer never waits forever
        except _Stopped:
            pass

    def _decode(self, file_no: int, path) -> None:
        name = os.fsdecode(path)  # str, bytes (non-UTF-8 names) or Path
        try:
            info = probe(path)
            self._put(_Started(file_no, name, info))
            self._send_windows(file_no, path, info)
        except DecodeError as error:
            self._put(_Failed(file_no, name, str(error)))
        except _Stopped:
            raise
        except Exception as error:  # a bug or an odd file must not end the whole run
            reason = " ".join(f"{type(error).__name__}: {error}".split())
            self._put(_Failed(file_no, name, f"unexpected error while decoding ({reason})"))

    def _send_windows(self, file_no: int, path, info: AudioInfo) -> None:
        report = DecodeReport()
        counted = CountingBlocks(read_blocks(path, self.rate, report=report))
        seconds_after_last_chunk = 0.0
        for starts, windows, seconds in window_chunks(counted, self.window, self.hop, self.chunk_windows, self.rate):
            if windows:
                self._put(_Windows(file_no, starts, np.stack(windows), seconds))
            else:  # only the last chunk can be empty
                seconds_after_last_chunk = seconds
        self._put(_Ended(file_no, counted.total, seconds_after_last_chunk, tuple(report.warnings),
                         report.frames_read / info.sample_rate))


# ---- the caller's side: batching across files ------------------------------------------------


@dataclass
class _FileState:
    path: str
    info: AudioInfo
    starts: list[int] = field(default_factory=list)
    vectors: dict[int, np.ndarray] = field(default_factory=dict)  # window number -> vector
    total_samples: int | None = None  # known once the file has ended
    warnings: tuple[str, ...] = ()


class _Batcher:
    """Collects windows from any files and embeds them `batch_size` at a time, in calls of `call_rows` rows."""

    def __init__(self, model, window: int, batch_size: int, threads: int):
        self.model, self.window, self.batch_size = model, window, batch_size
        self.rows: list[tuple[int, int, np.ndarray]] = []  # (file_no, window number, samples)
        declared = getattr(model, "call_rows", None)  # a model that runs well on a few rows says how many
        self.call_rows = max(1, min(batch_size, int(declared or batch_size)))
        self.side_by_side = threads if declared else 1  # calls run at once, one torch thread each
        if declared:  # one round of calls at a time, so the queue is read while decoding keeps ahead
            batch_size = min(batch_size, self.call_rows * self.side_by_side)
        self.batch_size = batch_size - batch_size % self.call_rows  # whole calls: only the last one pads
        self.threads_per_call = max(1, threads // self.side_by_side)
        self.pool = None
        if self.side_by_side > 1:
            from concurrent.futures import ThreadPoolExecutor

            import torch

            # torch's thread count is per calling thread (an OpenMP setting), so each sets its own.
            self.pool = ThreadPoolExecutor(self.side_by_side, thread_name_prefix="clapsearch-model",
                                           initializer=torch.set_num_threads, initargs=(self.threads_per_call,))
        self.padding_rows = 0  # silent rows added to fill a last call (for tests and benchmarks)
        self.pending: deque = deque()  # (row keys, futures of its calls) per batch, oldest first
        self._runner = None

    def add(self, file_no: int, first_window: int, windows: np.ndarray) -> None:
        self.rows.extend((file_no, first_window + i, row) for i, row in enumerate(windows))

    def forget(self, file_no: int) -> None:
        self.rows = [row for row in self.rows if row[0] != file_no]

    def embed_ready(self, files: dict[int, _FileState], flush: bool = False) -> None:
        """Embed every full batch (with `flush`, every row, and wait for them).

        A batch runs in model threads while this one goes back to decoder messages and the caller
        writes finished files: on two cores that work no longer leaves the model idle (it was 8 %
        of the wall time). Up to BATCHES_IN_FLIGHT batches are queued, so the model threads find
        the next call waiting when one ends.
        """
        while self.pending and all(future.done() for future in self.pending[0][1]):
            self._store_oldest(files)
        while len(self.rows) >= self.batch_size or (flush and self.rows):
            batch, self.rows = self.rows[: self.batch_size], self.rows[self.batch_size :]
            while len(self.pending) >= BATCHES_IN_FLIGHT:
                self._store_oldest(files)
            keys, waves = [row[:2] for row in batch], self._stack([row[2] for row in batch])
            del batch  # the decoded rows: only the stacked copy goes to the model threads
            self.pending.append((keys, self._submit(waves, len(keys))))
        while flush and self.pending:
            self._store_oldest(files)

    def _submit(self, waves: np.ndarray, count: int) -> list:
        """Side by side: each call goes to the pool on its own, so a core that finishes its call
        takes the next batch's instead of waiting for the other core's (with one batch at a time,
        every batch ended on that barrier). Otherwise the whole batch runs in one model thread."""
        if self.pool is not None:
            return [self.pool.submit(self._call, part) for part in self._calls_of(waves)]
        if self._runner is None:
            from concurrent.futures import ThreadPoolExecutor

            self._runner = ThreadPoolExecutor(1, thread_name_prefix="clapsearch-batch")
        return [self._runner.submit(self._embed_waves, waves, count)]

    def _store_oldest(self, files: dict[int, _FileState]) -> None:
        """Wait for the oldest pending batch and store its vectors; model errors raise here."""
        keys, futures = self.pending.popleft()
        vectors = np.concatenate([future.result() for future in futures])
        for (file_no, number), vector in zip(keys, vectors):
            if file_no in files:  # a file that failed while its windows were being embedded is gone
                files[file_no].vectors[number] = vector

    def close(self) -> None:
        for pool in (self._runner, self.pool):
            if pool is not None:
                pool.shutdown(wait=True)

    def _embed(self, rows: list[np.ndarray]) -> np.ndarray:
        return self._embed_waves(self._stack(rows), len(rows))

    def _stack(self, rows: list[np.ndarray]) -> np.ndarray:
        """The rows as one array padded to whole calls (see module docstring), copied row by row:
        no second copy of the batch, and the decoded chunks the rows came from can be freed."""
        calls = -(-len(rows) // self.call_rows)
        waves = np.zeros((calls * self.call_rows, self.window), dtype=np.float32)
        for i, row in enumerate(rows):
            waves[i] = row
        self.padding_rows += len(waves) - len(rows)
        return waves

    def _embed_waves(self, waves: np.ndarray, count: int) -> np.ndarray:
        from ..threads import torch_threads

        parts = self._calls_of(waves)
        if self.pool is not None:
            vectors = list(self.pool.map(self._call, parts))
        else:
            with torch_threads(self.threads_per_call):
                vectors = [self._call(part) for part in parts]
        return np.concatenate(vectors)[:count]

    def _calls_of(self, waves: np.ndarray) -> list[np.ndarray]:
        """The stacked batch cut into its model calls of `call_rows` rows."""
        return [waves[i : i + self.call_rows] for i in range(0, len(waves), self.call_rows)]

    def _call(self, waves: np.ndarray) -> np.ndarray:
        import torch

        vectors = self.model.embed_audio(torch.from_numpy(waves))
        return np.asarray(vectors.detach().cpu().float().numpy(), dtype=np.float32).copy()


def _consume(decoders: _Decoders, batcher: _Batcher, progress) -> Iterator[FileEmbedding | FileFailure]:
    files: dict[int, _FileState] = {}
    running = len(decoders.threads)
    while running or files:
        flush = running == 0
        if not flush:
            message = decoders.get()
            if isinstance(message, _WorkerDone):
                if message.error is not None:
                    raise message.error
                running -= 1
                continue
            failure = _apply(message, files, batcher, progress)
            if failure is not None:
                yield failure
                continue
        batcher.embed_ready(files, flush=flush)
        for file_no in [n for n, state in files.items() if _complete(state)]:
            state = files.pop(file_no)
            progress(Progress(finished=state.path))
            yield _result(state, decoders.window, decoders.rate)


def _apply(message, files, batcher, progress) -> FileFailure | None:
    if isinstance(message, _Started):
        files[message.file_no] = _FileState(message.path, message.info)
    elif isinstance(message, _Windows):
        state = files[message.file_no]
        batcher.add(message.file_no, len(state.starts), message.windows)
        state.starts.extend(message.starts)
        progress(Progress(audio_seconds=message.audio_seconds))
    elif isinstance(message, _Ended):
        state = files[message.file_no]
        state.total_samples, state.warnings = message.total_samples, message.warnings
        # What is indexed is what was decoded: a cut file's header promises more.
        state.info = dataclasses.replace(state.info, duration=message.seconds_read)
        progress(Progress(audio_seconds=message.audio_seconds))
    elif isinstance(message, _Failed):
        files.pop(message.file_no, None)
        batcher.forget(message.file_no)
        progress(Progress(finished=message.path, failed=True))
        return FileFailure(message.path, message.error)
    return None


def _complete(state: _FileState) -> bool:
    return state.total_samples is not None and len(state.vectors) == len(state.starts)


def _result(state: _FileState, window: int, rate: int) -> FileEmbedding:
    starts = np.asarray(state.starts, dtype=np.int64)
    vectors = np.stack([state.vectors[i] for i in range(len(starts))]).astype(np.float32, copy=False)
    pooled = vectors.mean(axis=0)
    pooled /= max(float(np.linalg.norm(pooled)), 1e-12)
    return FileEmbedding(
        path=state.path,
        info=state.info,
        starts=starts / rate,
        ends=np.minimum(starts + window, state.total_samples) / rate,
        vectors=vectors,
        pooled=pooled.astype(np.float32),
        warnings=state.warnings,
    )


def _lower_priority(niceness: int = 10) -> None:
    """Run this (decode) thread below the model's threads where the OS allows it (Linux: per thread).

    On two cores the model's two compute threads meet at every operator; a decode thread taking
    one of the cores for a moment stalls both (measured: the model ran 20 % slower while indexing
    than alone, for decoding that costs 5 % of the CPU). Below them, decoding runs in the model's
    gaps and keeps ahead through the queue of decoded chunks.
    """
    import threading

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):  # not Linux, or not allowed: decoding just competes
        pass
