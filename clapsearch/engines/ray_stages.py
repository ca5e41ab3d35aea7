"""The two stages the Ray engine runs on the cluster, and the rows that pass between them.

    {file_no, path} --Decoder (CPU actors)--> chunk rows: up to `chunk_windows` windows of one file
                    --Embedder (model actors, a GPU each when there are GPUs)--> the same rows with
                      vectors instead of samples --> the driver (ray_engine.py), the single writer

A row is one chunk of one file; a file's last chunk (or its only one, for a file that failed) says
how many chunks the file has and carries what the store records about the file. Arrays travel as
raw bytes, so a row is plain Arrow (binary, int, float, string) whatever the file's length.

This module runs on the workers: it imports clapsearch's decoding and model code, never ray.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

COLUMNS = ("file_no", "path", "chunk", "chunks", "first_window", "samples", "vectors", "starts",
           "audio_seconds", "total_samples", "seconds_read", "info", "warnings", "error")


def chunk_row(file_no: int, path: bytes, chunk: int, first_window: int, starts: list[int], windows: list,
              audio_seconds: float) -> dict:
    """A chunk of windows (not the file's last one: `chunks` is 0 until then)."""
    samples = np.stack(windows).astype(np.float32, copy=False) if windows else np.zeros(0, np.float32)
    return dict(file_no=file_no, path=path, chunk=chunk, chunks=0, first_window=first_window,
                samples=samples.tobytes(), vectors=b"", starts=np.asarray(starts, np.int64).tobytes(),
                audio_seconds=audio_seconds, total_samples=0, seconds_read=0.0, info="", warnings="", error="")


def as_batch(rows: list[dict]) -> dict:
    """Rows -> the column dict Ray Data takes (object arrays for bytes and text, so none is padded)."""
    batch = {}
    for name in COLUMNS:
        values = [row[name] for row in rows]
        if isinstance(values[0], (bytes, str)):
            column = np.empty(len(values), dtype=object)
            column[:] = values
        else:
            column = np.asarray(values)
        batch[name] = column
    return batch


def rows_of(batch: dict) -> list[dict]:
    count = len(batch["file_no"])
    return [{name: _plain(batch[name][i]) for name in COLUMNS} for i in range(count)]


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


class Decoder:
    """A CPU actor: decodes files and cuts them into window chunks (the same code as local indexing)."""

    def __init__(self, rate: int, window: int, hop: int, chunk_windows: int):
        self.rate, self.window, self.hop, self.chunk_windows = rate, window, hop, chunk_windows

    def __call__(self, batch: dict):
        for file_no, path in zip(batch["file_no"], batch["path"]):
            yield as_batch(list(self.decode(int(file_no), bytes(path))))

    def decode(self, file_no: int, path: bytes):
        """Chunk rows of one file; its last row closes it (with an error when it cannot be read)."""
        from ..audio.decode import DecodeReport, probe, read_blocks
        from ..audio.windows import CountingBlocks, window_chunks
        from ..errors import DecodeError

        name = os.fsdecode(path)
        chunk, first = 0, 0
        try:
            info = probe(name)
            report = DecodeReport()
            counted = CountingBlocks(read_blocks(name, self.rate, report=report))
            pending = None  # one chunk behind: the file's last chunk must be known as the last
            for this in window_chunks(counted, self.window, self.hop, self.chunk_windows, self.rate):
                if pending is not None:
                    yield chunk_row(file_no, path, chunk, first, *pending)
                    chunk, first = chunk + 1, first + len(pending[1])
                pending = this
            last = chunk_row(file_no, path, chunk, first, *pending)
            info = dataclasses.replace(info, duration=report.frames_read / info.sample_rate)  # what was decoded
            last.update(chunks=chunk + 1, total_samples=counted.total, seconds_read=info.duration,
                        info=json.dumps(dataclasses.asdict(info)), warnings=json.dumps(list(report.warnings)))
            yield last
        except DecodeError as error:
            yield _failed(file_no, path, chunk, str(error))
        except Exception as error:  # a bug or an odd file must not end the whole run
            reason = " ".join(f"{type(error).__name__}: {error}".split())
            yield _failed(file_no, path, chunk, f"unexpected error while decoding ({reason})")


def _failed(file_no: int, path: bytes, chunk: int, error: str) -> dict:
    row = chunk_row(file_no, path, chunk, 0, [], [], 0.0)
    row.update(chunks=chunk + 1, error=error)
    return row


class Embedder:
    """A model actor: loads the model once, then embeds the windows of the chunk rows it is given.

    The model is called through the local pipeline's own batcher (rows per call, padding, threads),
    so a window's vector is what local indexing gives it.
    """

    def __init__(self, source: list, fingerprint: str, window: int, batch_size: int):
        import ray

        device = "cuda" if ray.get_gpu_ids() else "cpu"
        source = source[0]
        source = ray.get(source) if isinstance(source, ray.ObjectRef) else source
        self.model = source.load(device)
        if self.model.fingerprint != fingerprint:
            raise RuntimeError(f"This worker loaded model {self.model.name!r} with fingerprint "
                               f"{self.model.fingerprint}, not the driver's {fingerprint}; install the same "
                               f"model files on every node.")
        from ..audio.pipeline import _Batcher

        # Ray gives the actor its CPU share (and sets OMP_NUM_THREADS from it): whole CPUs are threads.
        threads = max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)))
        self.window = window
        self.batcher = _Batcher(self.model, window, batch_size, threads)

    def __call__(self, batch: dict) -> dict:
        rows = rows_of(batch)
        counts = [len(row["samples"]) // (4 * self.window) for row in rows]
        if sum(counts):
            waves = np.concatenate([np.frombuffer(row["samples"], np.float32).reshape(n, self.window)
                                    for row, n in zip(rows, counts) if n])
            vectors = self._embed(waves)
            offset = 0
            for row, n in zip(rows, counts):
                row["vectors"] = vectors[offset:offset + n].tobytes()
                offset += n
        for row in rows:
            row["samples"] = b""  # the windows are not needed past here: do not ship them back
        return as_batch(rows)

    def _embed(self, waves: np.ndarray) -> np.ndarray:
        batch = self.batcher.batch_size
        return np.concatenate([self.batcher._embed(list(waves[i:i + batch])) for i in range(0, len(waves), batch)])


@dataclasses.dataclass(frozen=True)
class ModelByName:
    """Each model actor loads the model by name on its own device, as the driver did: every node
    needs the same model files (the bundled default model ships inside the package)."""

    name: str
    runtime: str | None = None  # as asked on the driver (None: the worker's CLAPSEARCH_RUNTIME or default)

    def load(self, device: str):
        from ..models.registry import load_model

        return load_model(self.name, device=device, runtime=self.runtime)


class ShippedModel:
    """The driver's own model object, pickled once into Ray's object store (for a model given as an
    object rather than by name); it runs on the device it was loaded on."""

    def __init__(self, model):
        self.model = model

    def load(self, device: str):
        return self.model
