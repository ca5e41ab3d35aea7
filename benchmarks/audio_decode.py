"""Decode speed and streaming memory of clapsearch.audio (not a test: prints measured figures).

    python benchmarks/audio_decode.py throughput [--seconds 120] [--repeats 3]
        decode + down-mix + resample throughput (audio-seconds per wall-second, one thread) of
        44.1 kHz stereo wav / flac / ogg-vorbis / mp3 (and 48 kHz opus) to 16, 44.1 and 48 kHz.
    python benchmarks/audio_decode.py pipeline [--files 12] [--seconds 20] [--workers 1 2 4]
        embed_files with the test-only tiny model over generated 44.1 kHz stereo FLAC files, against
        the same model's forward pass alone on the same windows, pre-decoded (efficiency = ratio).
    python benchmarks/audio_decode.py rss [--hours 3] [--embed] [--keep FILE.flac]
        peak RSS of a fresh process streaming a generated 44.1 kHz stereo FLAC of that length
        through read_blocks + iter_windows (16 kHz / 1 s windows and 48 kHz / 10 s windows), and
        with --embed through embed_files with the test-only tiny model (16 kHz, 1 s windows).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCES = {  # name -> (extension, sample rate)
    "wav": (".wav", 44100),
    "flac": (".flac", 44100),
    "ogg": (".ogg", 44100),
    "mp3": (".mp3", 44100),
    "opus": (".opus", 48000),
}
TARGETS = (16000, 44100, 48000)


def program_material(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Stereo chirps plus quiet noise: tonal enough to compress like real recordings."""
    from tests.audio_gen import chirp, noise

    left = chirp(80, 5000, seconds, sr) + noise(seconds, sr, amplitude=0.02, seed=seed)
    right = chirp(200, 3000, seconds, sr) + noise(seconds, sr, amplitude=0.02, seed=seed + 1)
    return np.stack([left, right], axis=1).astype(np.float32)


def throughput(seconds: float, repeats: int) -> list[dict]:
    from clapsearch.audio.decode import load_mono, read_blocks
    from tests.audio_gen import write_audio

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (extension, sr) in SOURCES.items():
            path = write_audio(Path(folder) / f"source{extension}", program_material(seconds, sr), sr)
            for target in TARGETS:
                load_mono(path, target, 0.0, 0.1)  # warm up: torch import, resampling kernel
                best = float("inf")
                for _ in range(repeats):
                    start = time.perf_counter()
                    samples = sum(len(block) for block in read_blocks(path, target))
                    best = min(best, time.perf_counter() - start)
                row = {"format": name, "source_rate": sr, "channels": 2, "target_rate": target,
                       "audio_seconds": seconds, "wall_seconds": round(best, 3),
                       "audio_seconds_per_second": round(seconds / best, 1),
                       "output_samples": samples}
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def write_long_flac(path: Path, hours: float) -> None:
    import soundfile

    sr = 44100
    with soundfile.SoundFile(path, "w", sr, 2, "PCM_16", format="FLAC") as f:
        for minute in range(int(round(hours * 60))):
            f.write(program_material(60.0, sr, seed=minute))


def stream_child(path: str, mode: str) -> dict:
    """Runs in a fresh process: peak RSS before and after streaming the whole file once."""
    from clapsearch.audio.decode import load_mono, probe, read_blocks
    from clapsearch.audio.windows import iter_windows

    load_mono(path, 16000, 0.0, 1.0)  # warm up: imports torch, builds a resampling kernel
    load_mono(path, 48000, 0.0, 1.0)
    model = tiny_model() if mode == "embed" else None  # loaded (with transformers) before the baseline
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "embed":
        windows = embed_whole_file(model, path)
    else:
        rate, window_seconds = (16000, 1.0) if mode == "16k" else (48000, 10.0)
        window = int(rate * window_seconds)
        windows = sum(1 for _ in iter_windows(read_blocks(path, rate), window, window // 2))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hours = probe(path).duration / 3600
    return {"mode": mode, "audio_hours": round(hours, 3), "windows": windows,
            "peak_rss_mib_before": round(before / 1024), "peak_rss_mib_after": round(after / 1024),
            "wall_seconds": round(wall, 1), "audio_seconds_per_second": round(hours * 3600 / wall, 1)}


def tiny_model():
    from tests.tiny_model import load_tiny, write_tiny_text_model

    return load_tiny(write_tiny_text_model(Path(tempfile.mkdtemp()) / "tiny-text"))


def embed_whole_file(model, path: str) -> int:
    from clapsearch.audio.pipeline import FileEmbedding, embed_files

    [result] = list(embed_files(model, [path], batch_size=32, workers=2))
    assert isinstance(result, FileEmbedding), result
    return len(result.starts)


def rss(hours: float, embed: bool, keep: str | None) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(keep or Path(folder) / "long.flac")
        if not path.exists():
            start = time.perf_counter()
            write_long_flac(path, hours)
            print(f"# wrote {hours} h 44.1 kHz stereo FLAC ({path.stat().st_size / 2**20:.0f} MiB) "
                  f"in {time.perf_counter() - start:.0f} s", flush=True)
        for mode in ("16k", "48k") + (("embed",) if embed else ()):
            out = subprocess.run([sys.executable, __file__, "_child", str(path), mode],
                                 check=True, capture_output=True, text=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def pipeline(files: int, seconds: float, worker_counts: list[int], batch_size: int = 32) -> list[dict]:
    import torch

    from clapsearch.audio.decode import read_blocks
    from clapsearch.audio.pipeline import embed_files
    from clapsearch.audio.windows import iter_windows
    from tests.audio_gen import write_audio

    model = tiny_model()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        paths = [str(write_audio(Path(folder) / f"f{i}.flac", program_material(seconds, 44100, seed=i), 44100))
                 for i in range(files)]
        windows = np.stack([w for p in paths for _, w in iter_windows(read_blocks(p, 16000), 16000, 8000)])
        model.embed_audio(torch.from_numpy(windows[:batch_size]))  # warm up
        start = time.perf_counter()
        for i in range(0, len(windows), batch_size):
            model.embed_audio(torch.from_numpy(windows[i : i + batch_size]))
        forward = time.perf_counter() - start
        audio = files * seconds
        rows.append({"mode": "model forward only", "windows": len(windows), "wall_seconds": round(forward, 2),
                     "audio_seconds_per_second": round(audio / forward, 1)})
        print(json.dumps(rows[-1]), flush=True)
        for workers in worker_counts:
            start = time.perf_counter()
            results = list(embed_files(model, paths, batch_size=batch_size, workers=workers))
            wall = time.perf_counter() - start
            assert sum(len(r.starts) for r in results) == len(windows)
            rows.append({"mode": f"embed_files workers={workers}", "wall_seconds": round(wall, 2),
                         "audio_seconds_per_second": round(audio / wall, 1),
                         "efficiency": round(forward / wall, 2)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    speed = commands.add_parser("throughput")
    speed.add_argument("--seconds", type=float, default=120.0)
    speed.add_argument("--repeats", type=int, default=3)
    flow = commands.add_parser("pipeline")
    flow.add_argument("--files", type=int, default=12)
    flow.add_argument("--seconds", type=float, default=20.0)
    flow.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    memory = commands.add_parser("rss")
    memory.add_argument("--hours", type=float, default=3.0)
    memory.add_argument("--embed", action="store_true")
    memory.add_argument("--keep", help="write the long file here and keep it (reused if it exists)")
    child = commands.add_parser("_child")
    child.add_argument("path")
    child.add_argument("mode", choices=["16k", "48k", "embed"])
    args = parser.parse_args(argv)
    print(f"# torch threads: {os.environ.get('OMP_NUM_THREADS', 'default')}, cpus: {os.cpu_count()}", file=sys.stderr)
    if args.command == "throughput":
        throughput(args.seconds, args.repeats)
    elif args.command == "pipeline":
        pipeline(args.files, args.seconds, args.workers)
    elif args.command == "rss":
        rss(args.hours, args.embed, args.keep)
    else:
        print(json.dumps(stream_child(args.path, args.mode)))


if __name__ == "__main__":
    main()
