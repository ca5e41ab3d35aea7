"""Indexing speed: audio-seconds indexed per wall-second, against the model's own forward speed.

    python benchmarks/index_speed.py --model tiny --minutes 20
    python benchmarks/index_speed.py --model hf:laion/clap-htsat-unfused --minutes 10 --workers 2 --batch-size 16
    python benchmarks/make_random_laion.py /work/cache/laion-random    # once: a random-weight full-size LAION CLAP
    python benchmarks/index_speed.py --model hf:/work/cache/laion-random --minutes 20
    python benchmarks/index_speed.py --model tiny --long-file-hours 3      # peak RSS while indexing one 3-hour file
    python benchmarks/index_speed.py --model default --runtime torch,onnx,onnx-int8 --rounds 2  # runtimes compared

1. Writes a library of mixed formats (wav, flac, ogg, mp3, aiff), rates (8-48 kHz), channel counts
   (1-2) and lengths (2 s to 2 min) totalling --minutes of audio (tones, chirps, noise).
2. Indexes it with `Library.index` (the model is loaded beforehand and not timed) and counts the
   windows indexed (the segments stored) and the rows the model ran (silent padding included).
3. Runs the same model on pre-decoded windows, called exactly as the pipeline calls it (the
   pipeline's own batcher: rows per call, calls side by side, threads): the pure forward
   throughput, with no decoding, resampling, windowing or storing. Also, for reference, one
   plain `embed_audio` call per --batch-size windows in this thread.
4. Prints both in windows/s and audio-s/s, their ratio (pipeline efficiency, counting only the
   windows indexed, so padding counts against it; 1.0 = the pipeline costs nothing beyond the
   model), and the peak RSS of the process.
5. Indexes the unchanged library again into the same index (nothing to embed) and reports that
   run's wall time as a share of the first.

`--runtime A,B,...` (torch, onnx, onnx-int8 for the default model; torch, onnx, torch-bf16 for hf:) repeats steps 2-5 for each runtime
on the same library, `--rounds` times in alternating order, and ends with one table: on a shared
machine compare the runtimes' ratios within one run, not absolute figures across runs. audio-s/s
is "x real time".

`--model tiny` builds the test-only tiny model from tests/tiny_model.py (no weights needed); it
measures the pipeline's overhead against a very fast model, which is the hard case for the ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FORMATS = [(".wav", 16000, 1), (".flac", 44100, 2), (".ogg", 22050, 1), (".mp3", 48000, 2), (".aiff", 8000, 1)]
LENGTHS = [2.0, 7.0, 15.0, 30.0, 60.0, 120.0]


def load(name: str, device: str | None, runtime: str | None = None):
    if name == "tiny":
        from tests.tiny_model import load_tiny, write_tiny_text_model

        return load_tiny(write_tiny_text_model(Path(tempfile.mkdtemp()) / "tiny-text"))
    from clapsearch import load_model

    return load_model(name, device=device, runtime=runtime)


def signal(kind: int, seconds: float, rate: int, channels: int, seed: int) -> np.ndarray:
    from tests.audio_gen import chirp, noise, tone

    if kind == 0:
        return tone(110 * (1 + seed % 12), seconds, rate, channels)
    if kind == 1:
        return chirp(80, min(8000, rate / 2.5), seconds, rate, channels)
    return noise(seconds, rate, channels, seed=seed)


def write_library(root: Path, minutes: float) -> tuple[int, float]:
    from tests.audio_gen import write_audio

    total, count = 0.0, 0
    while total < minutes * 60:
        ext, rate, channels = FORMATS[count % len(FORMATS)]
        seconds = min(LENGTHS[count % len(LENGTHS)], minutes * 60 - total + 1.0)
        write_audio(root / f"{count:04d}{ext}", signal(count % 3, seconds, rate, channels, count), rate)
        total += seconds
        count += 1
    return count, total


def write_long_file(path: Path, hours: float, rate: int = 44100) -> float:
    """A long stereo FLAC written block by block (bounded memory)."""
    import soundfile

    block = 60.0
    written = 0.0
    with soundfile.SoundFile(path, "w", rate, 2, format="FLAC", subtype="PCM_16") as f:
        while written < hours * 3600:
            seconds = min(block, hours * 3600 - written)
            f.write(signal(int(written / block) % 3, seconds, rate, 2, int(written)))
            written += seconds
    return written


class WindowCounter:
    """The model, counting the rows it embeds (padding rows of the last call included)."""

    def __init__(self, model):
        self.inner, self.windows, self.calls, self.seconds = model, 0, 0, 0.0
        for key in ("name", "dim", "fingerprint", "sample_rate", "window_seconds", "logit_scale", "runtime"):
            setattr(self, key, getattr(model, key, "torch"))
        self.call_rows = getattr(model, "call_rows", None)  # how the pipeline calls it

    def embed_audio(self, waves):
        self.windows += len(waves)
        self.calls += 1
        started = time.perf_counter()
        try:
            return self.inner.embed_audio(waves)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_text(self, texts):
        return self.inner.embed_text(texts)


def decoded_windows(model, root: Path, count: int) -> list[np.ndarray]:
    """`count` windows of real audio from the library, decoded beforehand."""
    from clapsearch.audio.decode import load_mono
    from clapsearch.models.base import window_samples

    window = window_samples(model)
    clips = [load_mono(p, model.sample_rate, 0.0, model.window_seconds) for p in sorted(root.iterdir())[:count]]
    rows = []
    for i in range(count):
        row = np.zeros(window, np.float32)
        clip = clips[i % len(clips)]
        row[: len(clip)] = clip
        rows.append(row)
    return rows


def forward_throughput(model, root: Path, batch_size: int, n_batches: int, threads: int | None) -> tuple:
    """Windows per wall-second and per CPU-second of the model alone, called as the pipeline calls it."""
    from clapsearch.audio.pipeline import _Batcher
    from clapsearch.models.base import window_samples
    from clapsearch.threads import free_cores

    rows = decoded_windows(model, root, batch_size)
    batcher = _Batcher(model, window_samples(model), batch_size, free_cores() if threads is None else threads)
    try:
        batcher._embed(rows[: batcher.call_rows * batcher.side_by_side])  # warm-up: one round of calls
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(n_batches):
            batcher._embed(rows)
        windows = n_batches * len(rows)
        return windows / (time.perf_counter() - started), windows / (time.process_time() - cpu_started)
    finally:
        batcher.close()


def plain_forward(model, root: Path, batch_size: int, n_batches: int, threads: int) -> float:
    """Windows per wall-second of one embed_audio call per batch, in this thread, with `threads` torch threads."""
    import torch

    from clapsearch.threads import torch_threads

    waves = torch.from_numpy(np.stack(decoded_windows(model, root, batch_size)))
    with torch_threads(threads):
        model.embed_audio(waves[:1])  # warm-up
        started = time.perf_counter()
        for _ in range(n_batches):
            model.embed_audio(waves)
        return n_batches * batch_size / (time.perf_counter() - started)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler:
    """The largest resident set size seen while the `with` block runs (sampled every 50 ms)."""

    def __enter__(self):
        import threading

        self.peak, self.stop = rss_mib(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, rss_mib())

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def run_library(args, models: dict) -> None:
    """Index one generated library with each model (runtime), `args.rounds` times; print a table."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lib"
        root.mkdir()
        started = time.perf_counter()
        files, seconds = write_library(root, args.minutes)
        print(f"library: {files} files, {seconds / 60:.1f} min of audio, written in {time.perf_counter() - started:.1f} s")
        import faiss  # noqa: F401  (a one-time import, as the model load is: not part of the steady state)

        rows = []
        for round_no in range(args.rounds):
            order = list(models) if round_no % 2 == 0 else list(models)[::-1]  # alternate: load drifts
            for label in order:
                print(f"--- {label} (round {round_no + 1})")
                rows.append(index_once(args, models[label], root, Path(tmp) / f"{label}-{round_no}.db", label))
        print("\n| runtime | end to end x real time | forward x real time | efficiency | re-index unchanged "
              "| peak RSS while indexing |\n|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['label']} | {row['end_to_end']:.1f} | {row['forward']:.1f} | {row['efficiency']:.3f} "
                  f"| {row['reindex_share'] * 100:.2f} % | {row['rss']:.0f} MiB |")


def index_once(args, model, root: Path, db: Path, label: str) -> dict:
    from clapsearch.api import Library

    counter = WindowCounter(model)
    # Forward speed before and after indexing, keeping the faster: on a shared machine the load
    # changes from minute to minute, and the faster figure gives the more conservative ratio.
    forward_before = forward_throughput(model, root, args.batch_size, 1, args.threads)

    cpu_started = time.process_time()
    library = Library(db=db, model=counter)
    with RssSampler() as sampler:
        summary = library.index([root], batch_size=args.batch_size, workers=args.workers)  # threads: env
    index_cpu = time.process_time() - cpu_started
    assert not summary.failed, summary.failed
    windows = library.info()["segments"]
    index_wps = windows / summary.wall_seconds
    hop = model.window_seconds / 2
    print(f"index:   {summary.indexed} files, {summary.audio_seconds:.0f} audio-s in {summary.wall_seconds:.2f} s "
          f"= {summary.audio_seconds / summary.wall_seconds:.1f} audio-s/s; {windows} windows = "
          f"{index_wps:.1f} windows/s; the model ran {counter.windows} rows in {counter.calls} calls "
          f"({counter.windows - windows} padding)")
    calls_per_batch = max(1, counter.calls * args.batch_size // max(1, counter.windows))
    forward_after = forward_throughput(model, root, args.batch_size, max(2, counter.calls // calls_per_batch // 2),
                                       args.threads)
    forward_wps, forward_wpcpu = max(forward_before, forward_after)
    print(f"forward: {forward_wps:.1f} windows/s = {forward_wps * hop:.1f} audio-s/s at the default hop "
          f"({hop:g} s), called as the pipeline calls it; batch size {args.batch_size}")
    plain = plain_forward(model, root, args.batch_size, 1, args.threads)
    print(f"forward, one plain call per batch in one thread (for reference): {plain:.1f} windows/s")
    print(f"pipeline efficiency (index windows/s / forward windows/s, wall clock): {index_wps / forward_wps:.3f}")
    # Within the one run, immune to load changes between runs: how much of the wall time the model was busy.
    print(f"model busy: {counter.seconds:.2f} s of {summary.wall_seconds:.2f} s = "
          f"{counter.seconds / summary.wall_seconds:.3f} of the index run's wall time (calls side by side add up)")
    # CPU time is less disturbed by other processes on a shared machine; it counts all the work the
    # pipeline adds (decoding, resampling, hashing, storing) but not how well it overlaps the model.
    print(f"CPU-time efficiency (forward CPU-s / index CPU-s for the same windows): "
          f"{(windows / forward_wpcpu) / index_cpu:.3f}")
    again = Library(db=db, model=counter).index([root], batch_size=args.batch_size, workers=args.workers)
    assert again.indexed == 0, "the unchanged library was embedded again"
    print(f"re-index unchanged: {again.wall_seconds:.2f} s = {again.wall_seconds / summary.wall_seconds * 100:.2f} % "
          f"of the first run; peak RSS while indexing {sampler.peak:.0f} MiB, process peak {peak_rss_mib():.0f} MiB")
    return {"label": label, "end_to_end": summary.audio_seconds / summary.wall_seconds, "forward": forward_wps * hop,
            "efficiency": index_wps / forward_wps, "reindex_share": again.wall_seconds / summary.wall_seconds,
            "rss": sampler.peak}


def run_long_file(args, model) -> None:
    from clapsearch.api import Library

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.flac"
        started = time.perf_counter()
        seconds = write_long_file(path, args.long_file_hours)
        size = os.path.getsize(path) / 2**20
        import faiss  # noqa: F401  (imported before the baseline, as the model is loaded before it)
        import torch

        from clapsearch.models.base import window_samples

        # One batch first: towers load lazily (the default model's ONNX session and its memory arena),
        # so the baseline holds the whole model and only the pipeline's growth is measured.
        model.embed_audio(torch.zeros(args.batch_size, window_samples(model)))
        before = rss_mib()
        print(f"long file: {seconds / 3600:.2f} h, 44.1 kHz stereo FLAC, {size:.0f} MiB, written in "
              f"{time.perf_counter() - started:.0f} s; RSS before indexing (model loaded): {before:.0f} MiB")
        with RssSampler() as sampler:
            summary = Library(db=Path(tmp) / "index.db", model=model).index(
                [path], batch_size=args.batch_size, workers=args.workers)
        assert summary.indexed == 1, summary.failed
        print(f"indexed {summary.audio_seconds:.0f} audio-s in {summary.wall_seconds:.1f} s "
              f"({summary.audio_seconds / summary.wall_seconds:.0f} audio-s/s); peak RSS while indexing: "
              f"{sampler.peak:.0f} MiB (+{sampler.peak - before:.0f} MiB over the baseline); "
              f"process peak RSS: {peak_rss_mib():.0f} MiB")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny", help="a model name, or `tiny` for the test-only model")
    parser.add_argument("--device", default=None)
    parser.add_argument("--minutes", type=float, default=20.0, help="audio in the generated library")
    parser.add_argument("--workers", type=int, default=None, help="decode threads (default: auto, as `index`)")
    parser.add_argument("--threads", "--torch-threads", type=int, default=None,
                        help="the model's threads, in indexing and in the forward measurement alike "
                             "(default: the free cores when the run starts, fixed for the whole run)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--long-file-hours", type=float, default=None,
                        help="instead, index one generated file this long and report peak RSS")
    parser.add_argument("--runtime", default=None,
                        help="audio runtime(s), comma-separated: torch,onnx,onnx-int8 (default model), "
                             "torch,onnx,torch-bf16 (hf:) [default: the model's own]")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the runtimes, in alternating order")
    args = parser.parse_args(argv)
    runtimes = args.runtime.split(",") if args.runtime else [None]
    models = {runtime or "default runtime": load(args.model, args.device, runtime) for runtime in runtimes}
    model = next(iter(models.values()))
    from clapsearch.threads import allowed_cores, busy_elsewhere, decode_workers, free_cores

    # One thread count for the whole run, so indexing and the forward measurement use the same.
    args.threads = args.threads or free_cores()
    os.environ["CLAPSEARCH_THREADS"] = str(args.threads)
    workers = args.workers or decode_workers(args.threads)
    print(f"model {args.model}: dim {model.dim}, {model.sample_rate} Hz, {model.window_seconds} s windows, "
          f"{getattr(model, 'call_rows', None) or args.batch_size} row(s) per call; runtimes {', '.join(models)}; "
          f"model threads {args.threads}, decode workers {workers}; {allowed_cores()} cores allowed, "
          f"load average {busy_elsewhere():.2f}")
    if args.long_file_hours:
        for label, each in models.items():
            print(f"--- {label}")
            run_long_file(args, each)
    else:
        run_library(args, models)


if __name__ == "__main__":
    main()
