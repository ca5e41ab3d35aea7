"""Zero-shot scoring (softmax / sigmoid of scaled cosines), prompts, and label lists."""

import numpy as np
import pytest

from clapsearch import vocab, zeroshot
from clapsearch.errors import ClapsearchError


def unit(rows):
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_softmax_scores_match_the_paper_formula():
    audio, text = unit([[1, 0, 0], [0.6, 0.8, 0]]), unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    got = zeroshot.scores(audio, text, logit_scale=10.0)
    logits = 10.0 * audio.astype(np.float64) @ text.T.astype(np.float64)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)


def test_multi_label_is_an_independent_sigmoid_per_label():
    audio, text = unit([[0.6, 0.8, 0]]), unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    got = zeroshot.scores(audio, text, logit_scale=5.0, multi_label=True)
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-5.0 * np.array([[0.6, 0.8, 0.0]]))), rtol=1e-6)


def test_softmax_is_stable_for_large_logit_scales():
    got = zeroshot.scores(unit([[1, 0]]), unit([[1, 0], [0, 1]]), logit_scale=1000.0)
    assert np.all(np.isfinite(got)) and got[0, 0] == pytest.approx(1.0)


def test_top_labels_sorted_and_zero_means_all():
    row = np.array([0.1, 0.7, 0.2])
    assert zeroshot.top_labels(row, ["a", "b", "c"], 2) == [{"label": "b", "score": 0.7}, {"label": "c", "score": 0.2}]
    assert [x["label"] for x in zeroshot.top_labels(row, ["a", "b", "c"], 0)] == ["b", "c", "a"]


def test_prompts_fill_the_template_and_reject_one_without_a_slot():
    assert zeroshot.prompts(["dog"]) == ["This is a sound of dog."]
    assert zeroshot.prompts(["dog"], "{} barking") == ["dog barking"]
    with pytest.raises(ClapsearchError, match="has no"):
        zeroshot.prompts(["dog"], "no slot")


def test_pool_is_normalised_mean():
    np.testing.assert_allclose(zeroshot.pool(np.array([[1.0, 0], [0, 1.0]])), [2**-0.5, 2**-0.5], rtol=1e-6)


def test_builtin_audioset_vocabulary_has_527_names_in_index_order():
    labels = vocab.builtin_labels()
    assert len(labels) == 527 and len(set(labels)) == 527
    assert labels[0] == "Speech" and labels[1] == "Male speech, man speaking"


def test_parse_labels_from_a_list_or_a_file(tmp_path):
    assert vocab.parse_labels("dog, cat,,dog,siren") == ["dog", "cat", "siren"]
    path = tmp_path / "labels.txt"
    path.write_text("Male speech, man speaking\n\nrain\n")
    assert vocab.parse_labels(str(path)) == ["Male speech, man speaking", "rain"]
    with pytest.raises(ClapsearchError, match="No labels"):
        vocab.parse_labels(" , ")
