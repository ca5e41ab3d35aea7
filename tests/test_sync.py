"""Incremental sync through Library.index: unchanged, changed, touched, moved, copied, deleted files."""

import os
import shutil

import numpy as np
import pytest

from clapsearch.api import Library
from clapsearch.errors import ClapsearchError
from clapsearch.store import Store
from tests.sound_library import LIBRARY, CountingModel, make_library, rewrite


@pytest.fixture
def setup(tmp_path, tiny_model):
    paths = make_library(tmp_path / "lib")
    model = CountingModel(tiny_model)
    return Library(db=tmp_path / "index.db", model=model), model, paths, tmp_path / "lib"


def vectors_of(db, path):
    with Store(db, readonly=True) as store:
        record = store.get_file(str(path))
        return store.file_vectors(record.id)[2] if record else None


def indexed_paths(db):
    with Store(db, readonly=True) as store:
        return sorted(r.path for r in store.iter_files(status="indexed"))


def test_first_run_indexes_everything_and_a_rerun_does_no_model_work(setup):
    library, model, paths, root = setup
    first = library.index([root])
    assert (first.indexed, first.skipped, first.moved, first.removed, first.failed) == (len(LIBRARY), 0, 0, 0, [])
    assert first.audio_seconds == pytest.approx(sum(v[1] for v in LIBRARY.values()), abs=0.01)
    assert model.audio_calls > 0
    model.audio_calls = model.text_calls = 0
    again = library.index([root])
    assert (again.indexed, again.skipped, again.moved, again.removed) == (0, len(LIBRARY), 0, 0)
    assert (model.audio_calls, model.text_calls) == (0, 0)


def test_changed_file_is_re_embedded_alone(setup):
    library, model, paths, root = setup
    library.index([root])
    before = vectors_of(library.db, paths["tones/a440.wav"])
    rewrite(paths["tones/a440.wav"], seconds=3.0, freq=3000)
    model.audio_calls = 0
    summary = library.index([root])
    assert (summary.indexed, summary.skipped) == (1, len(LIBRARY) - 1)
    after = vectors_of(library.db, paths["tones/a440.wav"])
    assert model.audio_calls > 0 and after.shape[0] != before.shape[0]


def test_touched_file_with_same_content_is_not_re_embedded(setup):
    library, model, paths, root = setup
    library.index([root])
    os.utime(paths["tones/a440.wav"], (1_000_000, 1_000_000))
    model.audio_calls = 0
    summary = library.index([root])
    assert (summary.indexed, summary.skipped, model.audio_calls) == (0, len(LIBRARY), 0)
    with Store(library.db, readonly=True) as store:
        assert store.get_file(str(paths["tones/a440.wav"])).mtime == 1_000_000


def test_moved_file_is_re_pathed_by_content_hash_without_model_work(setup):
    library, model, paths, root = setup
    library.index([root])
    before = vectors_of(library.db, paths["sweeps/up.wav"])
    target = root / "elsewhere" / "renamed up.wav"
    target.parent.mkdir()
    os.rename(paths["sweeps/up.wav"], target)
    model.audio_calls = 0
    summary = library.index([root])
    assert (summary.indexed, summary.moved, summary.removed, model.audio_calls) == (0, 1, 0, 0)
    assert str(target) in indexed_paths(library.db) and str(paths["sweeps/up.wav"]) not in indexed_paths(library.db)
    np.testing.assert_array_equal(vectors_of(library.db, target), before)


def test_copied_file_reuses_the_vectors_of_its_twin(setup):
    library, model, paths, root = setup
    library.index([root])
    copy = root / "copy.wav"
    shutil.copy(paths["tones/a440.wav"], copy)
    model.audio_calls = 0
    summary = library.index([root])
    assert (summary.indexed, summary.copied, summary.moved, model.audio_calls) == (0, 1, 0, 0)
    np.testing.assert_array_equal(vectors_of(library.db, copy), vectors_of(library.db, paths["tones/a440.wav"]))


def test_deleted_files_are_removed_only_under_the_indexed_roots(setup, tmp_path):
    library, model, paths, root = setup
    other = make_library(tmp_path / "other", ["tones/a440.wav"])
    library.index([root, tmp_path / "other"])
    os.remove(paths["noise/white.ogg"])
    os.remove(other["tones/a440.wav"])
    summary = library.index([root])  # only root was asked for: other/ is left alone
    assert summary.removed == 1
    assert str(other["tones/a440.wav"]) in indexed_paths(library.db)
    assert library.prune() == [str(other["tones/a440.wav"])]
    assert str(other["tones/a440.wav"]) not in indexed_paths(library.db)


def test_files_in_an_unlistable_folder_are_kept(setup, monkeypatch):
    library, model, paths, root = setup
    library.index([root])
    hidden = str(root / "tones")
    real_scandir = os.scandir

    def deny(path):
        if os.fspath(path) == hidden:
            raise PermissionError(13, "Permission denied", hidden)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", deny)
    summary = library.index([root])
    assert summary.removed == 0
    assert (hidden, "permission denied (make the file readable by this user)") in summary.failed
    assert str(paths["tones/a440.wav"]) in indexed_paths(library.db)


def test_failed_files_are_recorded_and_retried(setup):
    library, model, paths, root = setup
    bad = root / "bad.wav"
    bad.write_bytes(b"RIFF but not really a wave file")
    summary = library.index([root])
    assert summary.indexed == len(LIBRARY)
    assert [p for p, _ in summary.failed] == [str(bad)]
    with Store(library.db, readonly=True) as store:
        record = store.get_file(str(bad))
        assert record.status == "failed" and record.error == summary.failed[0][1]
    rewrite(bad)
    fixed = library.index([root])
    assert (fixed.indexed, fixed.failed) == (1, [])


def test_index_vectors_are_deterministic(setup, tmp_path, tiny_model):
    library, model, paths, root = setup
    library.index([root], workers=1)
    second = Library(db=tmp_path / "second.db", model=tiny_model)
    second.index([root], workers=3)
    for path in paths.values():
        np.testing.assert_array_equal(vectors_of(library.db, path), vectors_of(second.db, path))


def test_hop_is_recorded_and_reused(setup):
    library, model, paths, root = setup
    library.index([root], hop_seconds=0.25)
    with Store(library.db, readonly=True) as store:
        assert store.model_meta()["hop_seconds"] == 0.25
        starts = store.file_vectors(store.get_file(str(paths["sweeps/up.wav"])).id)[0]
    np.testing.assert_allclose(starts[:3], [0.0, 0.25, 0.5])
    assert library.index([root]).skipped == len(LIBRARY)  # no --hop: the index's hop
    with pytest.raises(ClapsearchError, match="was built with --hop 0.25"):
        library.index([root], hop_seconds=0.5)


def test_each_file_is_hashed_once_and_unchanged_files_not_at_all(setup, monkeypatch):
    from clapsearch import sync

    library, model, paths, root = setup
    hashed = []
    real = sync.content_hash
    monkeypatch.setattr(sync, "content_hash", lambda path: hashed.append(path) or real(path))
    library.index([root])
    assert sorted(hashed) == sorted(str(p) for p in paths.values())
    hashed.clear()
    library.index([root])
    assert hashed == []
    with Store(library.db, readonly=True) as store:
        assert all(r.content_hash == real(r.path) for r in store.iter_files())
