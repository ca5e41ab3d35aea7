"""Which int8 recipe keeps the default audio tower closest to torch fp32, and what each costs in speed.

    python -m training.recipes.default.quantize_study [--clips DIR ...] [--configs NAME,...]

The figures that pick a configuration for quantize.py's CALIBRATION. Every configuration is
calibrated on the same windows (quantize.py's pick) and checked on the same held-out windows
(benchmarks/runtime_quality.py's pick: no calibration clip among them): the cosine of each window's
vector to the fp32 graph's (median, p5, p1, min) and of each clip's mean vector, and the graph's
forward speed on those windows (windows per second, 4 rows per run as the tower runs, the threads
the session gets by default), fp32 and each int8 graph timed in turn, round after round, so that a
load change on a shared machine hits them alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .equalize import equalised_encoder
from .quantize import CALIBRATION, calibration_features, default_folders

BLOCKS = [f"/net/blocks.{b}/conv{c}/Conv" for b in range(4) for c in (1, 2)]
FIRST = BLOCKS[:1]
# name -> (calibration method, percentile, convolutions kept in float, equalisation alpha or None)
CONFIGS = {
    "all-but-first": ("percentile", 99.999, FIRST, None),  # shipped until 2026-12-03
    "minmax": ("minmax", None, FIRST, None),
    "p99.99": ("percentile", 99.99, FIRST, None),
    "p99.9999": ("percentile", 99.9999, FIRST, None),
    "entropy": ("entropy", None, FIRST, None),
    "float-last": ("percentile", 99.999, FIRST + BLOCKS[-1:], None),
    "float-block3": ("percentile", 99.999, FIRST + BLOCKS[-2:], None),
    "float-first2": ("percentile", 99.999, BLOCKS[:2], None),  # shipped
    "eq1.0": ("percentile", 99.999, FIRST, 1.0),
    "eq0.75": ("percentile", 99.999, FIRST, 0.75),
    "eq0.5": ("percentile", 99.999, FIRST, 0.5),
    "eq1.0-minmax": ("minmax", None, FIRST, 1.0),
    "eq0.75-minmax": ("minmax", None, FIRST, 0.75),
    "eq0.0": ("percentile", 99.999, FIRST, 0.0),
    "eq1.0-first": ("percentile", 99.999, FIRST, (1.0, [0])),
    "eq0.5-first": ("percentile", 99.999, FIRST, (0.5, [0])),
}


def held_out_features(folders, per_folder: int) -> list[np.ndarray]:
    """Per clip (k, 100, 96) features of runtime_quality.py's held-out windows."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from benchmarks.runtime_quality import quality_windows
    from clapsearch.models.aisfx import LogMelFrontEnd
    from clapsearch.models.runtime.audio_onnx import front_end_features

    frontend = LogMelFrontEnd()
    return [front_end_features(frontend, clip) for clip in quality_windows(folders, per_folder)]


def run_graph(session, features: np.ndarray) -> np.ndarray:
    from clapsearch.models.runtime.audio_onnx import INPUT, OUTPUT, ROWS_PER_RUN

    runs = [session.run([OUTPUT], {INPUT: features[i:i + ROWS_PER_RUN]})[0]
            for i in range(0, len(features), ROWS_PER_RUN)]
    vectors = np.concatenate(runs)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def closeness(reference: list[np.ndarray], vectors: list[np.ndarray]) -> dict:
    windows = np.concatenate([(r * v).sum(1) for r, v in zip(reference, vectors)])
    unit = lambda m: m / np.linalg.norm(m)  # noqa: E731
    clips = np.array([unit(r.mean(0)) @ unit(v.mean(0)) for r, v in zip(reference, vectors)])
    pick = lambda x, q: round(float(np.percentile(x, q)), 5)  # noqa: E731
    return {"window median": pick(windows, 50), "window p5": pick(windows, 5), "window p1": pick(windows, 1),
            "window min": round(float(windows.min()), 5), "clip median": pick(clips, 50), "clip p5": pick(clips, 5)}


def timed_rounds(sessions: dict, features: np.ndarray, rounds: int) -> dict[str, float]:
    """Median windows/s per graph, the graphs run in turn each round."""
    seen = {name: [] for name in sessions}
    for _ in range(rounds):
        for name, session in sessions.items():
            began = time.perf_counter()
            run_graph(session, features)
            seen[name].append(len(features) / (time.perf_counter() - began))
    return {name: round(float(np.median(v)), 1) for name, v in seen.items()}


def study(folders, names, per_folder: int, rounds: int) -> dict:
    from clapsearch.models.default import DefaultModel, _build_audio_encoder
    from clapsearch.models.runtime.audio_onnx import export_audio_tower
    from clapsearch.models.runtime.quantize import quantise_audio_tower
    from clapsearch.models.runtime.session import open_session

    calibration, clips = calibration_features(folders, DefaultModel(runtime="torch"))
    held_out = held_out_features(folders, per_folder)
    flat = np.concatenate(held_out)
    bounds = np.cumsum([len(c) for c in held_out])[:-1]
    report = {"calibration": {"clips": clips, "windows": len(calibration)},
              "held_out": {"clips": len(held_out), "windows": len(flat)}, "configs": {}}
    with tempfile.TemporaryDirectory(prefix="clapsearch-qstudy-") as folder:
        encoder = _build_audio_encoder("cpu")[0]
        fp32 = export_audio_tower(encoder, Path(folder) / "fp32.onnx")
        sessions = {"fp32": open_session(fp32)}
        reference = np.split(run_graph(sessions["fp32"], flat), bounds)
        for name in names:
            method, percentile, keep_float, alpha = CONFIGS[name]
            began = time.time()
            alpha, outputs = alpha if isinstance(alpha, tuple) else (alpha, None)
            source = fp32 if alpha is None else export_audio_tower(
                equalised_encoder(encoder, calibration, alpha, outputs), Path(folder) / f"{name}-fp32.onnx")
            path = quantise_audio_tower(source, calibration, Path(folder) / f"{name}.onnx", method,
                                        tuple(keep_float), percentile or 99.999)
            sessions[name] = open_session(path)
            vectors = np.split(run_graph(sessions[name], flat), bounds)
            report["configs"][name] = {"method": method, "percentile": percentile, "float": keep_float, "alpha": alpha,
                                       **closeness(reference, vectors),
                                       "calibration seconds": round(time.time() - began, 1)}
            print(name, json.dumps(report["configs"][name]), flush=True)
        speeds = timed_rounds(sessions, flat, rounds)
    for name, speed in speeds.items():
        report["configs"].setdefault(name, {})["windows/s"] = speed
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", type=Path, default=None,
                        help="Folders of real recordings [default: quantize.py's four sources].")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    parser.add_argument("--per-folder", type=int, default=24, help="held-out clips per folder")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds")
    parser.add_argument("--out", type=Path, default=None, help="write the report here as JSON")
    args = parser.parse_args(argv)
    folders = [p.resolve() for p in (args.clips or default_folders())]
    report = study(folders, args.configs.split(","), args.per_folder, args.rounds)
    report["command"] = "python -m training.recipes.default.quantize_study --configs " + args.configs
    report["calibration recipe now"] = CALIBRATION
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
