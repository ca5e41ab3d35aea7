"""Issue 12's recipe parts: the GUS patch reader, WordNet caption expansion, the cross-source
pool split, the locked-text head and the kNN-caption component."""

from __future__ import annotations

import struct
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from training.recipes.default.data import gus


def _patch_bytes(samples: np.ndarray, rate: int, root_millihz: int, loop=None) -> bytes:
    """A one-waveform 16-bit signed GUS patch, laid out as gus.py's docstring says."""
    header = bytearray(gus.PATCH_HEADER)
    header[:12] = b"GF1PATCH110\0"
    struct.pack_into("<H", header, 85, 1)
    sample = bytearray(gus.SAMPLE_HEADER)
    data = (samples * 32767).astype("<i2").tobytes()
    start, end = loop or (0, 0)
    struct.pack_into("<III", sample, 8, len(data), 2 * start, 2 * end)
    struct.pack_into("<H", sample, 20, rate)
    struct.pack_into("<I", sample, 30, root_millihz)
    sample[55] = 1 | (4 if loop else 0)
    return bytes(header) + bytes(gus.INSTRUMENT_HEADER + gus.LAYER_HEADER) + bytes(sample) + data


def test_gus_patch_reads_samples_and_plays_a_looped_note_to_length(tmp_path):
    tone = np.sin(np.arange(2000) / 10).astype(np.float32) * 0.5
    path = tmp_path / "000_Piano.pat"
    path.write_bytes(_patch_bytes(tone, 22050, 261626, loop=(1000, 2000)))
    wave = gus.note_of(gus.read_patch(path))
    assert wave.rate == 22050 and wave.loop == (1000, 2000)
    assert np.allclose(wave.samples, tone, atol=1e-4)
    note = gus.played(wave)
    assert len(note) == int(gus.LOOPED_SECONDS * 22050)  # the loop held the note
    assert np.allclose(note[1000:2000], note[2000:3000])
    assert note[-1] == 0.0  # faded out
    out = tmp_path / "note.wav"
    assert gus.patch_to_wav(path, out)
    import soundfile

    data, rate = soundfile.read(out)
    assert rate == gus.OUTPUT_RATE and abs(len(data) - gus.LOOPED_SECONDS * rate) <= 2


def test_gus_reader_refuses_other_files(tmp_path):
    path = tmp_path / "x.pat"
    path.write_bytes(b"RIFF0000WAVE")
    with pytest.raises(ValueError, match="not a GUS patch"):
        gus.read_patch(path)


def test_pool_sources_are_never_training_and_test_stays_test():
    from training.recipes.default.dataset import split_of

    pool, new = ("real-a", "real-new"), ("real-new",)
    clip = lambda source, split: SimpleNamespace(source=source, split=split, item="i")
    assert split_of(clip("real-a", "val"), 0.1, pool, new) == "pool"
    assert split_of(clip("real-a", "train"), 0.1, pool, new) == "unused"
    assert split_of(clip("real-new", "train"), 0.1, pool, new) == "pool"
    assert split_of(clip("real-a", "test"), 0.1, pool, new) == "test"
    assert split_of(clip("game", "train"), 0.1, pool, new) == "train"


def test_bare_codes_are_dropped_and_words_kept():
    from training.recipes.default.caption_expansion import is_bare_code

    words = frozenset({"dog", "bark", "door"})
    assert is_bare_code("the sound of xqz", words)
    assert is_bare_code("a recording of ab", words)
    assert not is_bare_code("the sound of dog bark", words)


def test_locked_text_head_is_layer_norm_of_the_text_vector_and_stays_frozen():
    from training.recipes.default.heads import untrained_heads
    from training.recipes.default.settings import TrainSettings

    heads = untrained_heads(TrainSettings(head_kind="locked_text")).eval()
    x = torch.randn(5, 384)
    expected = torch.nn.functional.layer_norm(x, (384,))
    assert torch.allclose(heads.text_projection(x), expected, atol=1e-5)
    assert not any(p.requires_grad for p in heads.text_projection.parameters())
    assert heads.audio(torch.randn(3, 512)).shape == (3, 384)


def test_knn_captions_borrow_the_nearest_training_clips_caption_vectors():
    from training.recipes.default.dataset import FeatureSet
    from training.recipes.default.study import knn_caption_vectors

    dirs = np.eye(4, 512, dtype=np.float32)
    train = FeatureSet(windows=[dirs[i : i + 1] for i in range(4)], captions=[[i] for i in range(4)],
                       labels=[[str(i)] for i in range(4)], sources=["s"] * 4, items=list("abcd"),
                       texts=list("abcd"), text_vectors=np.eye(4, 384, dtype=np.float32))
    query = FeatureSet(windows=[dirs[2:3] + 0.01], captions=[[0]], labels=[["2"]], sources=["s"], items=["q"])
    borrowed = knn_caption_vectors(train, query, k=2)
    assert np.argmax(borrowed[0]) == 2  # the nearest clip's caption dominates the weighted mean
    assert borrowed.shape == (1, 384)


def test_first_per_source_keeps_the_order_prefix_of_every_source():
    from training.recipes.default.dataset import FeatureSet
    from training.recipes.default.study import first_per_source

    sources = ["a", "b", "a", "a", "b", "c"]
    data = FeatureSet(windows=[np.full((1, 512), i, np.float32) for i in range(6)], captions=[[0]] * 6,
                      labels=[["x"]] * 6, sources=sources, items=[str(i) for i in range(6)], texts=["x"])
    small = first_per_source(data, 2)
    assert small.sources == ["a", "b", "a", "b", "c"]
    assert [int(w[0, 0]) for w in small.windows] == [0, 1, 2, 4, 5]


def _set(sources, texts, captions):
    from training.recipes.default.dataset import FeatureSet

    vectors = np.stack([np.full(384, ord(t[0]), np.float32) for t in texts])
    return FeatureSet(windows=[np.full((1, 512), i, np.float32) for i in range(len(sources))], captions=captions,
                      labels=[["x"]] * len(sources), sources=list(sources), items=[f"{s}{i}" for i, s in enumerate(sources)],
                      texts=list(texts), text_vectors=vectors)


def test_combined_sets_keep_every_clips_own_caption_text_and_vector():
    from training.recipes.default.dataset import combine

    first = _set("aa", ["dog", "rain"], [[1], [0, 1]])
    second = _set("p", ["cat", "rain"], [[0, 1]])
    both = combine(first, second)
    assert both.sources == ["a", "a", "p"]
    assert [[both.texts[c] for c in row] for row in both.captions] == [["rain"], ["dog", "rain"], ["cat", "rain"]]
    assert both.texts == sorted(set(both.texts)) and len(both.texts) == 3
    for text, vector in zip(both.texts, both.text_vectors):
        assert vector[0] == ord(text[0])


def test_final_training_set_adds_the_pool_sources_train_items_under_the_candidates_rules():
    from training.recipes.default.study import SMALLER_CAP, final_training_set

    sets = SimpleNamespace(train=_set(["espeak-ng", "0ad-data"], ["word one", "a door"], [[0], [1]]),
                           unused=_set(["klettres-data"], ["letter a"], [[0]]))
    sets.train_plain, sets.unused_plain = sets.train, sets.unused
    assert final_training_set(sets, "two_heads").sources == ["espeak-ng", "0ad-data", "klettres-data"]
    assert final_training_set(sets, "two_heads-no_synthetic").sources == ["0ad-data", "klettres-data"]
    many = SimpleNamespace(train=_set(["0ad-data"] * (SMALLER_CAP + 5), ["a door"], [[0]] * (SMALLER_CAP + 5)),
                           unused=sets.unused)
    assert len(final_training_set(many, f"two_heads-cap{SMALLER_CAP}")) == SMALLER_CAP + 1


def test_a_kept_epoch_is_kept_whatever_the_scores_say():
    from training.recipes.default.heads import train_heads
    from training.recipes.default.settings import TrainSettings

    data = _set(["s"] * 8, [f"t{i}" for i in range(8)], [[i] for i in range(8)])
    data.windows = [np.random.default_rng(i).normal(size=(1, 512)).astype(np.float32) for i in range(8)]
    data.text_vectors = np.random.default_rng(9).normal(size=(8, 384)).astype(np.float32)
    scores = iter([0.9, 0.1, 0.5, 0.2])
    _, info = train_heads(data, TrainSettings(epochs=4, batch_size=4, embed_dim=16), lambda h: next(scores),
                          keep_epoch=3)
    assert info["best_epoch"] == 3 and info["best_val_score"] == 0.5
