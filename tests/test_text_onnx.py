"""The default model's ONNX text tower against the torch reference, and what a text-only load imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from clapsearch.models.default import DefaultModel, load_reference


def varied_texts() -> list[str]:
    """A few hundred texts: short, long (past the 128-token limit), odd characters, mixed case."""
    rng = np.random.default_rng(0)
    words = ("dog bark rain thunder KICK snare 808 boomy metallic door creak whoosh laser crowd "
             "applause engine idle café naïve 鳥 🐕 -- ... ! ? bass guitar chord violin pizzicato").split()
    texts = ["", "a", "This is a sound of dog.", "dog " * 200, "Ünïcödé ßound"]
    for n in range(295):
        texts.append(" ".join(rng.choice(words, size=int(rng.integers(1, 40)))))
    return texts


@pytest.mark.slow
def test_onnx_text_tower_matches_the_torch_reference():
    fast, reference = DefaultModel(), load_reference()
    texts = varied_texts()
    for start in range(0, len(texts), 64):  # batches mix lengths, so padding is exercised
        batch = texts[start:start + 64]
        onnx = np.asarray(fast.embed_text(batch))
        torch_vectors = reference.embed_text(batch).numpy()
        cosine = (onnx * torch_vectors).sum(axis=1)
        assert cosine.min() >= 0.9999, (cosine.min(), batch[int(cosine.argmin())])
    single = np.asarray(fast.embed_text(["rain"]))  # a batch of one, no padding at all
    np.testing.assert_allclose(single @ reference.embed_text(["rain"]).numpy().T, [[1.0]], atol=1e-4)
    assert fast.fingerprint == reference.fingerprint and fast.logit_scale == reference.logit_scale


@pytest.mark.slow
def test_embedding_text_with_the_default_model_imports_neither_torch_nor_transformers():
    DefaultModel().embed_text(["warm the cache"])  # exports the ONNX file into the shared cache if needed
    code = ("import sys, json; from clapsearch.models import load_model; "
            "v = load_model('default').embed_text(['dog barking']); "
            "print(json.dumps([v.shape[1], [m for m in ('torch', 'transformers') if m in sys.modules]]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == [512, []]
