"""python -m training.recipes.default.check_aisfx [--cache DIR]

Parity of our aisfx tower with the original code: runs the wheel's own EmbeddingNet (imported
from the downloaded wheel, not installed, not copied) on librosa features of a generated signal,
blocked by the wheel's own `blocking`, and compares with clapsearch.models.aisfx end to end.
Needs librosa (a test-only dependency) and the wheel in the recipe cache.
"""

from __future__ import annotations

import argparse
import sys
import zipfile

import numpy as np
import torch

from clapsearch.models import aisfx

from .__main__ import DEFAULT_CACHE
from .tower_weights import fetch_checkpoint


def original_package(cache) -> str:
    """Folder holding the wheel's `aisfx` package, extracted once."""
    folder = cache / "aisfx" / "unpacked"
    if not (folder / "aisfx" / "models" / "cnn2d.py").is_file():
        wheel = next((cache / "aisfx").glob("aisfx-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(folder)
    return str(folder)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.recipes.default.check_aisfx")
    parser.add_argument("--cache", type=lambda p: __import__("pathlib").Path(p), default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    import librosa

    checkpoint = fetch_checkpoint(args.cache)
    sys.path.insert(0, original_package(args.cache))
    from aisfx.models.cnn2d import EmbeddingNet  # the original architecture
    from aisfx.preprocessing import blocking, spectrogram_normalize

    state = aisfx.read_aisfx_checkpoint(str(checkpoint))
    reference = EmbeddingNet("max", 3, 1, 64)
    reference.load_state_dict({k[len("embedding_net."):]: v for k, v in state.items() if k.startswith("embedding_net.")})
    ours = aisfx.build()
    ours.load_state_dict(aisfx.convert_state_dict(state), strict=True)
    reference.eval(), ours.eval()

    rng = np.random.default_rng(0)
    t = np.arange(5 * aisfx.SAMPLE_RATE) / aisfx.SAMPLE_RATE
    wave = ((0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)) * np.exp(-t)).astype(np.float32)
    mel = librosa.feature.melspectrogram(y=wave / np.abs(wave).max(), sr=aisfx.SAMPLE_RATE, n_fft=2048, win_length=2048,
                                         hop_length=1024, n_mels=96, norm=1.0, fmin=0.0, fmax=22050.0, htk=True, power=2.0)
    features = spectrogram_normalize(np.log10(mel * 10000.0 + 1).T)  # (frames, mels), as its network expects
    blocks = blocking(features, 100, 50, True)
    with torch.no_grad():
        expected = reference(torch.tensor(blocks, dtype=torch.float32)).max(dim=0).values
        got = ours(torch.from_numpy(wave)[None])[0]
        front = ours.frontend(torch.from_numpy(wave)[None])[0].numpy()
    print(f"front end vs librosa: max abs difference {np.abs(front - features).max():.2e}")
    print(f"embedding vs original aisfx code: max abs difference {(got - expected).abs().max().item():.2e}, "
          f"relative {((got - expected).norm() / expected.norm()).item():.2e} ({blocks.shape[0]} blocks)")


if __name__ == "__main__":
    main()
