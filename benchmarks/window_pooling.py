"""How close pooling overlapping windows from one shared aisfx feature map gets to embedding each window.

    python benchmarks/window_pooling.py --clips /work/cache/calib/pkgs --per-folder 12

The aisfx tower is convolutional in time, so a decoded block could run through the CNN once and
each 2.3 s window take the max over its stretch of the (time/8) feature map, instead of running
every 50 %-overlapping window from scratch (half the convolution work at the default hop). Three
things differ from the per-window reference, and this script measures each on real clips:

- peak normalisation is per window in the reference; a shared map needs one scale per block;
- a window's edges see real neighbouring audio instead of the STFT's and convolutions' zero padding;
- the default hop (1.15 s = 49.5 STFT frames) is not a multiple of the map's 8-frame step, so
  windows snap to the nearest step (`--hop-frames 48` shows the figure without snapping).

It prints the cosine (median, p5, min) of pooled vs per-window embeddings, torch fp32 throughout.
The quality bar for keeping such a path is a median cosine >= 0.999.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def per_window(encoder, wave, starts, window):
    import torch
    from torch.nn import functional as F

    rows = torch.from_numpy(np.stack([wave[s:s + window] for s in starts]))
    with torch.inference_mode():
        return F.normalize(encoder(rows), dim=-1).numpy()


def pooled(encoder, wave, starts, window):
    """One feature map for the whole clip (one peak scale); each window = max over its snapped stretch."""
    import torch
    from torch.nn import functional as F

    from clapsearch.models import aisfx

    tower = encoder.base
    with torch.inference_mode():
        features = tower.frontend(torch.from_numpy(wave)[None])  # peak-normalised over the whole clip
        x = features.unsqueeze(1).contiguous(memory_format=torch.channels_last)
        for block in tower.net.blocks:
            x = block(x)
        steps = x.mean(dim=3)[0]  # (512, time / 8): the network's output before its max over time
        step, width = 8 * aisfx.HOP, aisfx.BLOCK_FRAMES // 8
        rows = []
        for start in starts:
            first = min(int(round(start / step)), steps.shape[1] - width)
            rows.append(steps[:, first:first + width].amax(dim=1))
        return F.normalize(encoder.projection(torch.stack(rows)), dim=-1).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=[str(REPO / "examples")], help="Folders of real recordings.")
    parser.add_argument("--per-folder", type=int, default=12)
    parser.add_argument("--hop-frames", type=float, default=None,
                        help="Window hop in STFT frames [default: the model's half window, 49.5].")
    args = parser.parse_args()

    import torch

    from clapsearch.audio.decode import load_mono
    from clapsearch.audio.windows import window_starts
    from clapsearch.models import aisfx
    from clapsearch.models.default import _build_audio_encoder
    from clapsearch.models.runtime.clips import find_clips

    torch.manual_seed(0)
    encoder, _ = _build_audio_encoder("cpu")
    window = round(2.3 * aisfx.SAMPLE_RATE)
    hop = round(args.hop_frames * aisfx.HOP) if args.hop_frames else round(window / 2)
    cosines = []
    for path in find_clips(args.clips, args.per_folder, "pooling"):
        wave = load_mono(path, aisfx.SAMPLE_RATE, duration=60.0)
        starts = window_starts(len(wave), window, hop)
        if len(starts) < 2:
            continue  # one window: nothing is shared
        reference = per_window(encoder, wave, starts, window)
        cosines.extend((reference * pooled(encoder, wave, starts, window)).sum(axis=1))
    cosines = np.asarray(cosines)
    print(f"windows {len(cosines)} (clips with at least two windows), hop {hop} samples")
    print(f"pooled vs per-window cosine: median {np.median(cosines):.5f}  p5 {np.percentile(cosines, 5):.5f}"
          f"  min {cosines.min():.5f}")


if __name__ == "__main__":
    main()
