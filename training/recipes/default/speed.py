"""python -m training.recipes.default.speed [--model DIR] [--write]

Indexing speed in audio-seconds per wall-second on this machine:
- forward: the model alone on pre-decoded windows (batches of 32);
- end to end: clapsearch.audio.pipeline.embed_files over generated WAV files (decode, resample,
  50 % hop windows, model), as `clapsearch index` runs it;
- the paper's audio architecture (CNN14, 5 s windows at 44.1 kHz, random weights: speed only);
- for the bundled model, the same two figures with each ONNX runtime (onnx, onnx-int8), measured
  in the same run as torch's so that their ratios hold on a shared machine.
The load average is recorded: the machine is shared, so figures vary with what else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .__main__ import DEFAULT_OUT


def forward_rate(embed, window: int, seconds: float, batch: int = 32, repeats: int = 3) -> float:
    waves = torch.from_numpy(np.random.default_rng(0).uniform(-0.5, 0.5, (batch, window)).astype(np.float32))
    embed(waves[:2])  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        embed(waves)
    return batch * repeats * seconds / (time.perf_counter() - started)


def end_to_end_rate(model, files: int = 6, seconds: float = 30.0) -> float:
    import soundfile

    from clapsearch.audio.pipeline import FileEmbedding, embed_files

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i in range(files):
            t = np.arange(int(seconds * 48000)) / 48000
            wave = 0.2 * np.sin(2 * np.pi * (200 + 100 * i) * t) + 0.05 * rng.standard_normal(t.size)
            paths.append(Path(folder) / f"clip{i}.wav")
            soundfile.write(paths[-1], wave.astype(np.float32), 48000)  # 48 kHz: resampling included
        started = time.perf_counter()
        results = list(embed_files(model, paths, workers=2))
        elapsed = time.perf_counter() - started
    assert all(isinstance(r, FileEmbedding) for r in results)
    return files * seconds / elapsed


def paper_forward_rate() -> float:
    from clapsearch.models.projection import Projection
    from clapsearch.models.towers import build_audio_tower

    tower = build_audio_tower("cnn14", {}).eval()
    head = Projection(tower.output_dim, 1024).eval()
    with torch.inference_mode():
        return forward_rate(lambda w: head(tower(w)), 5 * 44100, 5.0, batch=8, repeats=2)


def measure(model_dir: Path) -> dict:
    from clapsearch.models.exported import load

    model = load(str(model_dir), name="default")
    window = round(model.window_seconds * model.sample_rate)
    return {
        "machine": f"{os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, "
                   f"load average at start {os.getloadavg()[0]:.1f}",
        "default forward (x real time, pre-decoded windows)": round(forward_rate(model.embed_audio, window, model.window_seconds), 1),
        "default end to end (x real time, embed_files, 50 % hop)": round(end_to_end_rate(model), 1),
        "paper CNN14 forward (x real time, 5 s windows)": round(paper_forward_rate(), 1),
        **runtime_rates(model_dir, window),
        "command": "python -m training.recipes.default.speed --write",
    }


def runtime_rates(model_dir: Path, window: int) -> dict:
    """Forward and end-to-end rates of the ONNX runtimes; only the bundled model has them."""
    from clapsearch.models.default import ASSET_DIR, DefaultModel

    if Path(model_dir).resolve() != ASSET_DIR:
        return {}
    figures = {}
    for runtime in ("onnx", "onnx-int8"):
        model = DefaultModel(runtime=runtime)
        figures[f"default forward, {runtime} runtime (x real time)"] = round(
            forward_rate(model.embed_audio, window, model.window_seconds), 1)
        figures[f"default end to end, {runtime} runtime (x real time)"] = round(end_to_end_rate(model), 1)
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.recipes.default.speed")
    parser.add_argument("--model", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--write", action="store_true", help="save speed.json beside the model for its card")
    args = parser.parse_args(argv)
    figures = measure(args.model)
    print(json.dumps(figures, indent=2))
    if args.write:
        (args.model / "speed.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
