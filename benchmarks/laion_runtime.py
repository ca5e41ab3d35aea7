"""An hf: model's audio path in torch fp32 (the reference), ONNX Runtime fp32, the torch-bf16 runtime
(Linear layers in bf16, the rest float32, the window blocks of runtime/window_blocks.py) and, for
the record, torch under plain bf16 autocast.

    python benchmarks/make_random_laion.py /work/cache/laion-random     # once
    python benchmarks/laion_runtime.py --model /work/cache/laion-random --threads 1,2 --rows 1,4 --rounds 2

1. Quality: 10 s windows of examples/ (48 kHz, up to 2 per recording) and of generated tones,
   chirps and noise; each runtime's embedding against torch fp32's: median and min cosine, and the
   same after removing the mean embedding of the set (random weights can map every window close to
   one direction, where a raw cosine near 1 proves little); plus the fp32 embeddings' mean pairwise
   cosine, to show how spread they are. The bar (issue 11): median cosine >= 0.999.
   With --manifest (a training manifest, e.g. the recipe cache's): also one window from each of up
   to --per-source held-out clips of every source, and for each runtime how many of a clip's ten
   nearest clips under torch fp32 it keeps (overlap@10), and how often the nearest stays the same:
   a ranking, not only a vector, survives the rounding or it does not.
2. Speed: windows/s of the model forward alone (log-mel features precomputed), calls of --rows
   windows, each thread count and runtime measured in alternating order for --rounds rounds, with
   the 1-minute load average beside each figure (the machine is shared: compare within one run).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RATE, WINDOW = 48000, 480000


def quality_waves() -> np.ndarray:
    from clapsearch.models.runtime.clips import clip_windows
    from tests.audio_gen import chirp, noise, tone

    paths = sorted(p for p in (REPO / "examples").iterdir() if p.suffix in (".ogg", ".aiff"))
    rows = list(np.concatenate(clip_windows(paths, RATE, WINDOW, WINDOW // 2, 2)))
    seconds = WINDOW / RATE
    rows += [tone(f, seconds, RATE) for f in (110, 440, 3000)]
    rows += [chirp(80, 16000, seconds, RATE), noise(seconds, RATE, seed=1), noise(seconds, RATE, amplitude=0.02, seed=2)]
    return np.stack(rows).astype(np.float32)


def manifest_waves(manifest: Path, per_source: int) -> np.ndarray:
    """First 10 s window (repeat-padded if shorter) of up to `per_source` held-out clips per source."""
    import hashlib

    from clapsearch.models.runtime.clips import clip_windows

    by_source: dict[str, list[str]] = {}
    for line in manifest.read_text().splitlines():
        item = json.loads(line)
        if item.get("split") == "val" and item.get("start") is None:
            by_source.setdefault(item["source"], []).append(item["audio"])
    paths = []
    for source in sorted(by_source):
        files = sorted(set(by_source[source]), key=lambda a: hashlib.blake2b(a.encode(), digest_size=8).digest())
        paths += files[:per_source]
    return np.concatenate(clip_windows(paths, RATE, WINDOW, WINDOW, 1)).astype(np.float32)


def neighbours(embeddings: np.ndarray, k: int) -> np.ndarray:
    similarity = embeddings @ embeddings.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def ranking(runs, features, k: int = 10) -> dict:
    """Each runtime's k nearest clips against torch fp32's, over the same clips."""
    reference = embed_all(runs["torch"], features)
    mean = reference.mean(0)
    near = neighbours(reference, k)
    out = {"windows": len(features)}
    for name, run in runs.items():
        if name == "torch":
            continue
        got = embed_all(run, features)
        theirs = neighbours(got, k)
        overlap = [len(set(x) & set(y)) / k for x, y in zip(near, theirs)]
        out[name] = {**cosines(got, reference, mean), f"overlap_at_{k}": round(float(np.mean(overlap)), 4),
                     "same_nearest": round(float(np.mean(near[:, 0] == theirs[:, 0])), 4)}
    return out


def cosines(got: np.ndarray, reference: np.ndarray, mean: np.ndarray) -> dict:
    """Median and min cosine of unit rows to their references, raw and with `mean` (the set's) removed."""
    raw = (got * reference).sum(1)
    a, b = got - mean, reference - mean
    centred = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return {"median_cosine": round(float(np.median(raw)), 6), "min_cosine": round(float(raw.min()), 6),
            "median_centred_cosine": round(float(np.median(centred)), 6),
            "min_centred_cosine": round(float(centred.min()), 6)}


def bf16_copy(clap):
    """A copy of the float32 ClapModel with its audio tower as the torch-bf16 runtime runs it."""
    from clapsearch.models.laion import to_torch_bf16

    copied = copy.deepcopy(clap)
    to_torch_bf16(copied.audio_model)
    return copied


def runners(clap, torch_bf16, onnx_file: Path, threads: int):
    """Runtime name -> callable((B, C, F, M) float32 tensor) -> (B, dim) numpy, each on `threads` threads.

    `clap` is the float32 ClapModel, `torch_bf16` its bf16_copy (made once: copying the model per
    thread count would cost more than the runs).
    """
    import torch
    from torch.nn import functional as F

    from clapsearch.models.laion import features_of
    from clapsearch.models.runtime.laion_onnx import INPUT, OUTPUT
    from clapsearch.models.runtime.session import open_session

    def torch_run(model, autocast=False):
        def run(features):
            torch.set_num_threads(threads)
            context = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
            with torch.inference_mode(), context:
                out = features_of(model.get_audio_features(input_features=features, is_longer=torch.zeros(
                    len(features), 1, dtype=torch.bool)))
            return F.normalize(out.float(), dim=-1).numpy()
        return run

    session = open_session(onnx_file, threads)  # the whole call in one session.run, `threads` intra-op threads
    return {"torch": torch_run(clap), "onnx": lambda f: session.run([OUTPUT], {INPUT: f.numpy()})[0],
            "torch-bf16": torch_run(torch_bf16), "autocast-bf16": torch_run(clap, autocast=True)}


def embed_all(run, features, rows: int = 4) -> np.ndarray:
    return np.concatenate([run(features[i:i + rows]) for i in range(0, len(features), rows)])


def quality(runs, features) -> dict:
    reference = embed_all(runs["torch"], features)
    mean = reference.mean(0)
    pairwise = reference @ reference.T
    out = {"windows": len(features), "fp32_mean_pairwise_cosine": round(float(pairwise[~np.eye(len(pairwise), dtype=bool)].mean()), 4)}
    for name, run in runs.items():
        if name == "torch":
            continue
        out[name] = cosines(embed_all(run, features), reference, mean)
    return out


def speed(run, features, rows: int, windows: int) -> float:
    run(features[:rows])  # warm-up: first-call allocations and (ORT) buffer sizing
    start = time.perf_counter()
    for i in range(0, windows, rows):
        run(features[i % len(features):][:rows])
    return windows / (time.perf_counter() - start)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a saved ClapModel folder (benchmarks/make_random_laion.py)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rows", default="1,4", help="windows per call, comma list")
    parser.add_argument("--runtimes", default="torch,onnx,torch-bf16,autocast-bf16")
    parser.add_argument("--windows", type=int, default=8, help="windows timed per figure")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--manifest", type=Path, help="a training manifest (JSON lines): add the held-out ranking check")
    parser.add_argument("--per-source", type=int, default=8, help="held-out clips per source for --manifest")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args(argv)
    import torch

    from clapsearch.models.laion import LaionClapModel, load_transformers_clap
    from clapsearch.models.runtime.laion_onnx import export_audio

    model = LaionClapModel(*load_transformers_clap(args.model), name=f"hf:{args.model}", device="cpu", runtime="torch")
    features = model.log_mel(torch.from_numpy(quality_waves())).contiguous()
    onnx_file = Path(tempfile.mkdtemp()) / "audio.onnx"
    start = time.perf_counter()
    export_audio(model.model, features, onnx_file)
    print(json.dumps({"export_s": round(time.perf_counter() - start, 1), "onnx_mib": round(onnx_file.stat().st_size / 2**20),
                      "load_avg_1m": os.getloadavg()[0]}), flush=True)
    names = args.runtimes.split(",")
    torch_bf16 = bf16_copy(model.model)
    if not args.skip_quality:
        runs = runners(model.model, torch_bf16, onnx_file, threads=2)
        print(json.dumps({"quality": quality({k: runs[k] for k in ["torch", *names] if k in runs}, features),
                          "load_avg_1m": os.getloadavg()[0]}), flush=True)
    if args.manifest:
        held_out = model.log_mel(torch.from_numpy(manifest_waves(args.manifest, args.per_source))).contiguous()
        runs = runners(model.model, torch_bf16, onnx_file, threads=2)
        print(json.dumps({"ranking": ranking({k: runs[k] for k in ["torch", *names] if k in runs}, held_out),
                          "load_avg_1m": os.getloadavg()[0]}), flush=True)
    for round_ in range(0 if args.skip_speed else args.rounds):
        for threads in map(int, args.threads.split(",")):
            runs = runners(model.model, torch_bf16, onnx_file, threads)
            for rows in map(int, args.rows.split(",")):
                order = names if round_ % 2 == 0 else names[::-1]
                for name in order:
                    rate = speed(runs[name], features, rows, args.windows)
                    print(json.dumps({"round": round_, "threads": threads, "rows": rows, "runtime": name,
                                      "windows_per_s": round(rate, 3), "load_avg_1m": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    main()
