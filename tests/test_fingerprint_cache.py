"""Model identities cached by their files' size, mtime and content hash."""

from __future__ import annotations

import os

from clapsearch.models.fingerprint_cache import cached_identity


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return dict(value, n=len(calls))

    return compute, calls


def test_identity_is_computed_once_for_unchanged_files(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights v1")
    compute, calls = counting({"fingerprint": "abc"})
    assert cached_identity(tmp_path.name, [weights], compute) == {"fingerprint": "abc", "n": 1}
    assert cached_identity(tmp_path.name, [weights], compute) == {"fingerprint": "abc", "n": 1}
    assert len(calls) == 1


def test_changed_weights_invalidate_and_a_mere_touch_does_not(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights v1")
    compute, calls = counting({"fingerprint": "abc"})
    cached_identity(tmp_path.name, [weights], compute)
    os.utime(weights, ns=(1, 1))  # same bytes, new mtime: the content hash still matches
    assert cached_identity(tmp_path.name, [weights], compute)["n"] == 1
    weights.write_bytes(b"weights v2")  # new content (and size)
    assert cached_identity(tmp_path.name, [weights], compute)["n"] == 2
    weights.write_bytes(b"weights v3")  # same size, new content
    os.utime(weights, ns=(5, 5))
    assert cached_identity(tmp_path.name, [weights], compute)["n"] == 3
    assert len(calls) == 3


def test_a_damaged_cache_file_is_recomputed(tmp_path):
    from clapsearch.models.runtime.cache import cache_dir

    weights = tmp_path / "w"
    weights.write_bytes(b"x")
    compute, calls = counting({"fingerprint": "f"})
    cached_identity(tmp_path.name, [weights], compute)
    (cache_dir() / "identity" / f"{tmp_path.name}.json").write_text("{not json")
    assert cached_identity(tmp_path.name, [weights], compute)["n"] == 2
