"""How close the default model's ONNX audio towers (fp32, int8) come to torch fp32, on real clips.

    python benchmarks/runtime_quality.py --clips /work/cache/calib/pkgs/* --per-folder 24
    python benchmarks/runtime_quality.py          # examples/ only (seven recordings)

Clips: `--per-folder` files from each folder, picked by path hash with salt "quality" and leaving
out every clip the int8 calibration pick (salt "calibration", training/recipes/default/quantize.py)
would take from the same folders, plus examples/ (held out of training and calibration). Up to
four 2.3 s windows per clip. Prints, per runtime, the cosine of each window's vector to torch
fp32's (median, p5, min) and of each clip's mean vector (what file-level search and tag use).
The quality bar (issue 11): median window cosine >= 0.999. The validation split's retrieval and
zero-shot figures need the recipe cache: `python -m training.recipes.default --skip-data
--evaluate-only` under CLAPSEARCH_RUNTIME=... (not measured by this script).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def quality_windows(folders, per_folder: int) -> list[np.ndarray]:
    from clapsearch.models.runtime.clips import clip_windows, find_clips
    from training.recipes.default.quantize import CALIBRATION

    calibration = set(find_clips(folders, CALIBRATION["clips_per_folder"], "calibration"))
    paths = [p for p in find_clips(folders, per_folder + CALIBRATION["clips_per_folder"], "quality")
             if p not in calibration]
    by_folder = {}
    for path in paths:  # the same number per folder as asked, after leaving calibration clips out
        folder = next(f for f in folders if Path(f) in path.parents)
        by_folder.setdefault(folder, []).append(path)
    picked = [p for group in by_folder.values() for p in group[:per_folder]]
    picked += sorted(p for p in (REPO / "examples").iterdir() if p.suffix in (".ogg", ".aiff"))
    return clip_windows(picked, 44100, 101430, 50715, 4)


def embed(model, clips: list[np.ndarray], batch: int = 32) -> list[np.ndarray]:
    rows = np.concatenate(clips)
    vectors = np.concatenate([np.asarray(model.embed_audio(rows[i:i + batch])) for i in range(0, len(rows), batch)])
    return np.split(vectors, np.cumsum([len(c) for c in clips])[:-1])


def summary(values) -> dict:
    values = np.asarray(values)
    return {"median": round(float(np.median(values)), 6), "p5": round(float(np.percentile(values, 5)), 6),
            "min": round(float(values.min()), 6), "n": int(len(values))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="*", type=Path, default=[], help="Folders of real recordings.")
    parser.add_argument("--per-folder", type=int, default=24)
    parser.add_argument("--runtimes", default="onnx,onnx-int8")
    parser.add_argument("--write", action="store_true",
                        help="save the figures as runtime_quality.json beside the model, for its card")
    args = parser.parse_args()

    from clapsearch.models.default import DefaultModel

    clips = quality_windows([p.resolve() for p in args.clips], args.per_folder)
    reference = embed(DefaultModel(runtime="torch"), clips)
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    report = {"clips": len(clips), "windows": int(sum(len(c) for c in clips))}
    for runtime in args.runtimes.split(","):
        vectors = embed(DefaultModel(runtime=runtime), clips)
        windows = np.concatenate([(r * v).sum(axis=1) for r, v in zip(reference, vectors)])
        files = [float(unit(r.mean(0)) @ unit(v.mean(0))) for r, v in zip(reference, vectors)]
        report[runtime] = {"window cosine": summary(windows), "clip cosine": summary(files)}
    report["command"] = "python benchmarks/runtime_quality.py" + (
        f" --clips {' '.join(p.name for p in args.clips)} (unpacked Debian packages) --per-folder {args.per_folder}"
        if args.clips else "")
    print(json.dumps(report, indent=1))
    if args.write:
        from clapsearch.models.default import ASSET_DIR

        (ASSET_DIR / "runtime_quality.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
