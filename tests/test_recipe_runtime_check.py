"""The per-runtime validation table of training/recipes/default/runtime_check.py on constructed vectors."""

from types import SimpleNamespace

import numpy as np

from training.recipes.default.runtime_check import (clip_vectors, feature_set, figures, runtime_report,
                                                    table_lines)
from training.recipes.default.settings import ZERO_SHOT_TEMPLATE

LABELS = ["bell", "dog", "door", "rain"]
AXIS = {label: i for i, label in enumerate(LABELS)}


def embed_text(texts):
    """Each caption (the label) and each zero-shot prompt points along its label's own axis."""
    prompt = ZERO_SHOT_TEMPLATE.split("{}")
    vectors = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    for row, text in enumerate(texts):
        vectors[row, AXIS[text.removeprefix(prompt[0]).removesuffix(prompt[1])]] = 1.0
    return vectors


def clips():
    return [SimpleNamespace(captions=[label], labels=[label], source="s", item=label) for label in LABELS]


def windows(order):
    """Two noisy windows per clip, clip i along the axis of label order[i]."""
    rng = np.random.default_rng(0)
    return [np.eye(len(LABELS))[[axis, axis]] + 0.01 * rng.random((2, len(LABELS))) for axis in order]


def test_clip_vector_is_the_renormalised_mean_of_unit_window_vectors():
    vectors = clip_vectors([np.array([[2.0, 0.0], [0.0, 1.0]])])
    np.testing.assert_allclose(vectors, [[2 ** -0.5, 2 ** -0.5]], atol=1e-12)


def test_differences_to_torch_in_points_and_the_bar():
    data = lambda order: feature_set(clips(), windows(order))
    results = {"torch": {"in_domain": figures(data([0, 1, 2, 3]), embed_text)},
               "onnx": {"in_domain": figures(data([0, 1, 2, 3]), embed_text)},
               "onnx-int8": {"in_domain": figures(data([1, 0, 2, 3]), embed_text)}}  # two clips swapped
    assert results["torch"]["in_domain"]["R@1"] == 1.0 and results["torch"]["in_domain"]["zero-shot"] == 1.0
    report = runtime_report(results)
    assert report["results"]["onnx-int8"]["in_domain"]["points_vs_torch"] == {"R@1": -50.0, "R@10": 0.0,
                                                                               "zero-shot": -50.0}
    assert report["holds_bar"] == {"torch": True, "onnx": True, "onnx-int8": False}
    table = table_lines(report)
    assert len(table) == 2 + 3 and "50.0 % (-50.0)" in table[-1] and table[-1].endswith("| NO |")
