"""Frozen-tower features, computed once and cached on disk.

- audio: the aisfx tower's 512-d output for up to `max_windows` deterministic windows of every
  clip (the same windowing the search tool uses: 50 % hop, tail window, repeat-padded short
  clips), one .npy per clip, keyed by the clip's path, excerpt, size and mtime;
- text: the MiniLM mean-pooled 384-d embedding of every caption and prompt, in one .npz.

Training the projection heads then runs on these arrays in minutes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from clapsearch.audio.windows import repeat_pad, window_starts

log = logging.getLogger(__name__)


def clip_key(entry) -> str:
    stat = os.stat(entry.audio)
    ident = json.dumps([entry.audio, entry.start, entry.end, stat.st_size, int(stat.st_mtime)])
    return hashlib.sha1(ident.encode()).hexdigest()


def decode_clip(entry, sample_rate: int) -> np.ndarray:
    """Mono float32 samples of the entry (its excerpt if start/end are set) at `sample_rate`."""
    import soundfile
    import torch
    import torchaudio

    info = soundfile.info(entry.audio)
    start = int(round((entry.start or 0.0) * info.samplerate))
    stop = int(round(entry.end * info.samplerate)) if entry.end is not None else None
    data, rate = soundfile.read(entry.audio, start=start, stop=stop, dtype="float32", always_2d=True)
    wave = data.mean(axis=1)
    if rate != sample_rate and len(wave):
        wave = torchaudio.functional.resample(torch.from_numpy(wave), rate, sample_rate).numpy()
    return np.ascontiguousarray(wave, dtype=np.float32)


def clip_windows(wave: np.ndarray, window: int, max_windows: int) -> np.ndarray:
    """(n, window) windows at 50 % hop; at most `max_windows`, evenly spread over the clip."""
    starts = window_starts(len(wave), window, window // 2)
    if len(starts) > max_windows:
        picks = np.linspace(0, len(starts) - 1, max_windows).round().astype(int)
        starts = [starts[i] for i in picks]
    if len(wave) <= window:
        return repeat_pad(wave, window)[None]
    return np.stack([wave[s : s + window] for s in starts])


class AudioFeatureCache:
    def __init__(self, folder: Path, dtype=np.float32):
        self.folder = Path(folder)
        self.dtype = dtype  # float16 for the large frozen-block maps of finetune.py
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        path = self.path(key)
        return np.load(path) if path.is_file() else None

    def put(self, key: str, features: np.ndarray) -> None:
        path = self.path(key)
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, features.astype(self.dtype))
        tmp.replace(path)


def embed_clips(entries, tower, cache: AudioFeatureCache, sample_rate: int, window: int,
                max_windows: int, batch_windows: int = 32) -> dict[str, np.ndarray]:
    """{clip key: (n_windows, 512)} for every decodable entry; new clips are embedded and cached."""
    import torch

    out, pending, skipped = {}, [], 0
    for number, entry in enumerate(entries):
        if number % 200 == 0:
            log.info("embedding clip %d of %d", number, len(entries))
        key = clip_key(entry)
        cached = cache.get(key)
        if cached is not None:
            out[key] = cached
            continue
        try:
            wave = decode_clip(entry, sample_rate)
        except Exception as exc:  # a broken file must not stop the recipe; it is counted
            log.warning("skipping %s: %s", entry.audio, exc)
            skipped += 1
            continue
        if len(wave) == 0 or not np.isfinite(wave).all():
            skipped += 1
            continue
        pending.append((key, clip_windows(wave, window, max_windows)))
        if sum(len(w) for _, w in pending) >= batch_windows:
            _flush(pending, tower, cache, out, torch)
    _flush(pending, tower, cache, out, torch)
    if skipped:
        log.warning("%d clips could not be decoded and were left out", skipped)
    return out


def _flush(pending, tower, cache, out, torch) -> None:
    if not pending:
        return
    waves = torch.from_numpy(np.concatenate([w for _, w in pending]))
    with torch.inference_mode():
        features = tower(waves).numpy()
    offset = 0
    for key, windows in pending:
        clip_features = features[offset : offset + len(windows)]
        offset += len(windows)
        cache.put(key, clip_features)
        out[key] = clip_features
    pending.clear()


class TextFeatures:
    """MiniLM sentence embeddings (mean pooling, not normalised), cached by exact text."""

    def __init__(self, path: Path, text_config):
        self.path = Path(path)
        self.text_config = text_config
        self.vectors: dict[str, np.ndarray] = {}
        self._tower = None
        if self.path.is_file():
            stored = np.load(self.path, allow_pickle=False)
            self.vectors = dict(zip(stored["texts"].tolist(), stored["vectors"]))

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self.vectors})
        if missing:
            self._embed(missing)
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def _embed(self, texts: list[str], batch: int = 256) -> None:
        import torch

        from clapsearch.models.text import pool, tokenize
        from clapsearch.models.towers import build_text_tower

        if self._tower is None:
            self._tower = build_text_tower(self.text_config)
            self._tower.base.eval()
        for i in range(0, len(texts), batch):
            chunk = texts[i : i + batch]
            tokens = tokenize(self._tower.tokenizer, chunk, self._tower.max_length)
            with torch.inference_mode():
                hidden = self._tower.base(**tokens).last_hidden_state
                vectors = pool(hidden, tokens["attention_mask"], self._tower.pooling).numpy()
            self.vectors.update(zip(chunk, vectors.astype(np.float32)))
        self.save()

    def save(self) -> None:
        texts = list(self.vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, texts=np.array(texts, dtype=str), vectors=np.stack([self.vectors[t] for t in texts]))
        tmp.replace(self.path)
