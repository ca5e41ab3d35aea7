"""Training windows (random crops, repeat padding, deterministic validation), captions, sampler."""

import numpy as np
import pytest
import soundfile

from training.config import AugmentConfig, SyntheticConfig
from training.data.dataset import ClipDataset, EpochSampler, collate, repeat_pad
from training.data.manifest import ManifestEntry, read_manifest
from training.data import synthetic

RATE = 16000


def ramp_file(path, seconds):
    """Samples rise steadily, so any excerpt reveals where in the file it was cut."""
    samples = int(seconds * RATE)
    soundfile.write(str(path), (np.arange(samples) / samples * 0.9).astype(np.float32), RATE, subtype="FLOAT")
    return str(path)


@pytest.fixture
def clips(tmp_path):
    long = ramp_file(tmp_path / "long.wav", 3.0)
    short = ramp_file(tmp_path / "short.wav", 0.3)
    return [ManifestEntry(audio=long, captions=["one", "two", "three"]),
            ManifestEntry(audio=short, captions=["short"]),
            ManifestEntry(audio=long, captions=["excerpt"], start=1.0, end=2.5)]


def start_of(wave, seconds=3.0):
    return wave[0] / 0.9 * seconds  # the ramp's value is its position in the file


def test_training_crops_are_random_but_reproducible(clips):
    data = ClipDataset(clips, RATE, 1.0, train=True, seed=7)
    first = data[(0, 0)]["wave"].numpy()
    assert first.shape == (RATE,)
    assert np.array_equal(first, data[(0, 0)]["wave"].numpy())  # same key, same crop
    starts = {round(float(start_of(data[(epoch, 0)]["wave"].numpy())), 3) for epoch in range(8)}
    assert len(starts) > 4 and all(0 <= s <= 2.0 + 1e-3 for s in starts)
    assert np.allclose(np.diff(first), 0.9 / (3 * RATE), atol=1e-6)  # one contiguous stretch


def test_validation_takes_the_first_window_and_first_caption(clips):
    data = ClipDataset(clips, RATE, 1.0, train=False)
    for epoch in range(3):
        item = data[(epoch, 0)]
        assert start_of(item["wave"].numpy()) == pytest.approx(0.0, abs=1e-4)
        assert item["caption"] == "one"


def test_excerpt_bounds_are_respected(clips):
    data = ClipDataset(clips, RATE, 1.0, train=True)
    for epoch in range(6):
        start = start_of(data[(epoch, 2)]["wave"].numpy())
        assert 1.0 - 1e-3 <= start <= 1.5 + 1e-3


def test_short_clips_are_repeat_padded(clips):
    data = ClipDataset(clips, RATE, 1.0, train=True)
    wave = data[(0, 1)]["wave"].numpy()
    clip = soundfile.read(clips[1].audio, dtype="float32")[0]
    assert wave.shape == (RATE,)
    assert np.allclose(wave[: len(clip)], clip, atol=1e-6)
    assert np.allclose(wave[len(clip) : 2 * len(clip)], clip, atol=1e-6)
    assert np.array_equal(repeat_pad(np.arange(3.0), 7), [0, 1, 2, 0, 1, 2, 0])


def test_one_caption_is_sampled_per_step(clips):
    data = ClipDataset(clips, RATE, 1.0, train=True)
    seen = {data[(epoch, 0)]["caption"] for epoch in range(30)}
    assert seen == {"one", "two", "three"}


def test_augmentation_changes_the_wave_deterministically(clips):
    plain = ClipDataset(clips, RATE, 1.0, train=True)
    noisy = ClipDataset(clips, RATE, 1.0, train=True,
                        augment_config=AugmentConfig(gain_db=6, noise_snr_db=[5, 10], time_shift=0.3))
    a, b = plain[(0, 0)]["wave"].numpy(), noisy[(0, 0)]["wave"].numpy()
    assert not np.allclose(a, b, atol=1e-3)
    assert np.array_equal(b, noisy[(0, 0)]["wave"].numpy())
    # Validation never augments.
    val = ClipDataset(clips, RATE, 1.0, train=False, augment_config=AugmentConfig(gain_db=6))
    assert start_of(val[(0, 0)]["wave"].numpy()) == pytest.approx(0.0, abs=1e-4)


def test_ranks_split_each_global_batch_of_one_process():
    single = list(EpochSampler(50, 8, seed=3))
    assert len(single) == 48  # whole global batches only
    shards = [list(EpochSampler(50, 4, rank=r, world_size=2, seed=3)) for r in range(2)]
    for k in range(6):
        union = set(shards[0][4 * k : 4 * k + 4]) | set(shards[1][4 * k : 4 * k + 4])
        assert union == set(single[8 * k : 8 * k + 8])
    sampler = EpochSampler(50, 8, seed=3)
    sampler.set_epoch(0, skip_batches=2)
    assert list(sampler) == single[16:] and len(sampler) == 32
    sampler.set_epoch(1)
    assert list(sampler) != single and all(epoch == 1 for epoch, _ in sampler)


def test_collate_stacks_waves_and_keeps_captions(clips):
    data = ClipDataset(clips, RATE, 1.0, train=False)
    batch = collate([data[i] for i in range(3)])
    assert tuple(batch["waves"].shape) == (3, RATE) and batch["captions"] == ["one", "short", "excerpt"]


def test_synthetic_set_names_pitch_and_timbre(tmp_path):
    config = SyntheticConfig(train_per_class=2, val_per_class=1, seconds_min=0.3, seconds_max=0.6, seed=1)
    manifests = synthetic.generate(tmp_path, RATE, config)
    train, val = list(read_manifest(manifests["train"])), list(read_manifest(manifests["val"]))
    assert len(train) == 24 and len(val) == 12
    assert sorted({e.labels[0] for e in val}) == sorted(synthetic.class_names())
    for entry in val:
        pitch, timbre = entry.labels[0].split()[:2]
        assert entry.captions[0] == f"a {entry.labels[0]}"
        wave, rate = soundfile.read(entry.audio)
        assert rate == RATE and 0.3 <= len(wave) / RATE <= 0.6 and np.abs(wave).max() > 0.1
    # Pitch ranges are audible in the spectrum: a low tone's energy sits below a high one's.
    def centroid(entry):
        wave, _ = soundfile.read(entry.audio)
        power = np.abs(np.fft.rfft(wave)) ** 2
        return (np.fft.rfftfreq(len(wave), 1 / RATE) * power).sum() / power.sum()
    low = next(e for e in val if e.labels[0] == "low sine tone")
    high = next(e for e in val if e.labels[0] == "high sine tone")
    assert centroid(low) < 300 < 1200 < centroid(high)
    # Same seed, same set.
    again = synthetic.generate(tmp_path / "again", RATE, config)
    assert np.array_equal(soundfile.read(str(again["val"].parent / "audio" / "val-low-sine-000.wav"))[0],
                          soundfile.read(str(tmp_path / "audio" / "val-low-sine-000.wav"))[0])
