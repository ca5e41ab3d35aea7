"""Small training recipes for the tests/test_training_*.py files (CPU, seconds per run)."""

from __future__ import annotations

import json
from pathlib import Path

# A CNN14 a few hundred times smaller than the paper's, at 16 kHz with 1 s windows.
SMALL_CNN14 = {"kind": "cnn14", "params": {"widths": [8, 16, 32, 64, 64, 128], "sample_rate": 16000, "n_fft": 512,
                                           "hop": 160, "n_mels": 32, "fmin": 50, "fmax": 8000, "classes_num": 0}}
# The test-only tower of tests/tiny_model.py: no BatchNorm, so per-rank batches give exact DDP sums.
TINY_TOWER = {"kind": "tiny-test", "params": {}}


def recipe(text_dir, audio=SMALL_CNN14, **top) -> dict:
    data = {
        "model": {"audio": audio, "embed_dim": 16, "sample_rate": 16000, "window_seconds": 1.0,
                  "projection_dropout": 0.1, "name": "test-run",
                  "text": {"kind": "hf", "name_or_path": str(text_dir), "pooling": "cls", "max_length": 32}},
        "data": {"synthetic": {"train_per_class": 2, "val_per_class": 1, "seconds_min": 0.4, "seconds_max": 1.6},
                 "val_all_captions": False},
        "batch_size": 4,
        "epochs": 1,
        "audio_towers": {"tiny-test": "tests.tiny_model:build_tiny_audio_tower"},
    }
    for key, value in top.items():
        data[key] = value
    return data


def write_recipe(path: Path, data: dict) -> Path:
    Path(path).write_text(json.dumps(data, indent=2))
    return Path(path)


def read_log(run_dir: Path, event: str = "step") -> list[dict]:
    lines = (Path(run_dir) / "log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]
