"""Write the int8 ONNX audio tower that ships with the default model, calibrated on real clips.

    python -m training.recipes.default.quantize                       # clips from the recipe cache
    python -m training.recipes.default.quantize --clips DIR [DIR ...] # any folders of recordings

Run after the model's weights change (the tower is refused at run time when the fingerprint in
audio-int8.json is not the shipped model's). Calibration input: a deterministic pick of clips
(`CALIBRATION["clips_per_folder"]` per folder, hashed by path with salt "calibration") from real
recordings of the training sources, `windows_per_clip` 2.3 s windows each, through the model's own
front end. Writes clapsearch/assets/default/audio-int8.onnx and audio-int8.json (what it was made
from and how); the check against torch fp32 is benchmarks/runtime_quality.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

# Percentile calibration (99.999) beat min/max on real clips. The first block stays float: its first
# convolution (one input channel, under 0.3 % of the work) because quantising the log-mel input cost
# the most accuracy, its second because with it quantised the validation figures moved by up to
# 1.7 points (bar 0.5) and with it float by at most 0.5, at a cost of about a third of int8's speed
# (quantize_study.py compares these and other recipes: percentiles, min/max, channel equalisation).
CALIBRATION = {"method": "percentile", "percentile": 99.999,
               "float_nodes": ["/net/blocks.0/conv1/Conv", "/net/blocks.0/conv2/Conv"],
               "clips_per_folder": 64, "windows_per_clip": 2}
SOURCES = ["bucklespring-data", "hydrogen-drumkits", "ktuberling-data", "sonic-pi-samples"]


def default_folders() -> list[Path]:
    cache = Path(os.environ.get("CLAPSEARCH_RECIPE_CACHE", Path.home() / ".cache/clapsearch/recipe-default"))
    return [cache / "pkgs" / name for name in SOURCES if (cache / "pkgs" / name).is_dir()]


def calibration_features(folders, model) -> tuple[np.ndarray, int]:
    """(windows, 100, 96) front-end features of the calibration clips, and how many clips gave them."""
    from clapsearch.models.aisfx import LogMelFrontEnd
    from clapsearch.models.base import window_samples
    from clapsearch.models.runtime.audio_onnx import front_end_features
    from clapsearch.models.runtime.clips import clip_windows, find_clips

    window = window_samples(model)
    per_clip = clip_windows(find_clips(folders, CALIBRATION["clips_per_folder"], "calibration"), model.sample_rate,
                            window, window // 2, CALIBRATION["windows_per_clip"])
    waves = np.concatenate(per_clip)
    features = np.concatenate([front_end_features(LogMelFrontEnd(), waves[i:i + 32])
                               for i in range(0, len(waves), 32)])
    return features, len(per_clip)


def write_int8(folders, asset_dir: Path) -> dict:
    from clapsearch.models.default import INT8_FILE, INT8_INFO, DefaultModel, _build_audio_encoder
    from clapsearch.models.runtime.audio_onnx import export_audio_tower
    from clapsearch.models.runtime.quantize import quantise_audio_tower

    model = DefaultModel(runtime="torch")
    features, clips = calibration_features(folders, model)
    with tempfile.TemporaryDirectory(prefix="clapsearch-int8-") as folder:
        fp32 = export_audio_tower(_build_audio_encoder("cpu")[0], Path(folder) / "audio.onnx")
        quantise_audio_tower(fp32, features, asset_dir / INT8_FILE, CALIBRATION["method"],
                             tuple(CALIBRATION["float_nodes"]), CALIBRATION["percentile"])
    (asset_dir / INT8_FILE).chmod(0o644)  # written through a private temp file; it ships with the package
    info = {"fingerprint": model.fingerprint, "calibration": {**CALIBRATION, "clips": clips, "windows": len(features),
            "sources": sorted({Path(f).name for f in folders})},
            "command": "python -m training.recipes.default.quantize"}
    (asset_dir / INT8_INFO).write_text(json.dumps(info, indent=1) + "\n")
    return info


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", type=Path, default=None,
                        help="Folders of real recordings [default: four sources in the recipe cache's pkgs/].")
    args = parser.parse_args(argv)
    from clapsearch.models.default import ASSET_DIR

    folders = args.clips or default_folders()
    if not folders:
        sys.exit("No calibration clips: run the recipe's data step first, or pass --clips DIR.")
    info = write_int8(folders, ASSET_DIR)
    print(json.dumps(info["calibration"]))


if __name__ == "__main__":
    main()
