"""Bad input is indexed correctly, indexed in part with a warning, or recorded as failed with a
one-line reason, and the run goes on.

One library holds every awkward case of the issue; it is indexed once (module fixture) and each
test checks one case in the result.
"""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from clapsearch.api import Library
from clapsearch.cli import cli
from clapsearch.store import Store
from tests.audio_gen import chirp, noise, tone, write_audio

GOOD = {}  # name -> expected duration (seconds)
BAD = {}  # name -> start of the expected reason
WARNED = {}  # name -> a phrase of its expected warning (also in GOOD, with the duration indexed)
NON_UTF8 = os.fsdecode(b"caf\xe9 latin-1 name.wav")  # not valid UTF-8: Python keeps the byte as a surrogate


def good(root, name, samples, rate, **kwargs):
    write_audio(root / name, samples, rate, **kwargs)
    GOOD[name] = len(samples) / rate


def build(root):
    for folder in ("rates", "channels"):
        (root / folder).mkdir(parents=True)
    for rate in (8000, 11025, 22050, 44100, 48000, 96000, 192000):
        good(root, f"rates/{rate}.wav", tone(1000, 1.2, rate), rate)
    for channels in range(1, 9):
        good(root, f"channels/{channels}ch.flac", noise(1.0, 16000, channels, seed=channels), 16000)
    good(root, "long.flac", chirp(50, 3000, 60.0, 8000), 8000)
    good(root, "with spaces and 'quotes' (1).wav", tone(300, 1.0, 16000), 16000)
    good(root, "ünïcödé 音.ogg", tone(500, 1.0, 16000), 16000)
    good(root, NON_UTF8, tone(700, 1.0, 16000), 16000)
    good(root, "UPPER.WAV", tone(900, 0.5, 16000), 16000)
    nan = tone(440, 1.5, 16000)
    nan[100:200], nan[300], nan[400] = np.nan, np.inf, -np.inf
    good(root, "nan-inf.wav", nan, 16000, subtype="FLOAT")
    WARNED["nan-inf.wav"] = "102 of its 24000 frames held NaN or infinite samples, indexed as silence"
    mostly_nan = np.full(16000, np.nan, dtype=np.float32)
    mostly_nan[:4000] = tone(440, 0.25, 16000)
    write_audio(root / "mostly-nan.wav", mostly_nan, 16000, subtype="FLOAT")
    BAD["mostly-nan.wav"] = "75% of its samples are not numbers (NaN or infinity)"

    (root / "empty.wav").write_bytes(b"")
    BAD["empty.wav"] = "the file is empty"
    (root / "text.mp3").write_text("this is a text file, not an mp3\n" * 20)
    BAD["text.mp3"] = "not an audio file"
    (root / "garbage.flac").write_bytes(np.random.default_rng(0).bytes(5000))
    BAD["garbage.flac"] = "not an audio file"
    write_audio(root / "whole.flac", noise(20.0, 16000), 16000)
    data = (root / "whole.flac").read_bytes()
    (root / "truncated.flac").write_bytes(data[: len(data) // 2])
    os.remove(root / "whole.flac")
    GOOD["truncated.flac"] = None  # what decodes before the decoder stops: checked below
    WARNED["truncated.flac"] = "decoding stopped at "
    data = bytearray(write_audio(root / "damaged.ogg", noise(30.0, 44100), 44100).read_bytes())
    middle = len(data) // 2
    data[middle:middle + 20000] = np.random.default_rng(3).bytes(20000)
    (root / "damaged.ogg").write_bytes(bytes(data))
    GOOD["damaged.ogg"] = None  # some audio around the damage is lost: its length is not exact
    WARNED["damaged.ogg"] = "the Ogg stream is damaged from byte"
    write_audio(root / "cut.wav", tone(440, 3.0, 16000), 16000)
    data = (root / "cut.wav").read_bytes()
    (root / "cut.wav").write_bytes(data[: len(data) // 2])  # header promises more than is there
    GOOD["cut.wav"] = 1.5  # a wav that stops short keeps the audio that is there
    WARNED["cut.wav"] = "the file is cut short: its header promises 3.000 s but it holds 1.49"
    os.symlink(root / "self-loop.wav", root / "self-loop.wav")
    BAD["self-loop.wav"] = "symbolic link loop"
    os.symlink(root, root / "loop-to-parent")  # a folder loop: walked once, nothing reported
    write_audio(root / "locked.wav", tone(440, 1.0, 16000), 16000)
    os.chmod(root / "locked.wav", 0)
    BAD["locked.wav"] = "permission denied"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, tiny_model):
    base = tmp_path_factory.mktemp("bad-inputs")
    root = base / "lib"
    build(root)
    patch = pytest.MonkeyPatch()
    if os.geteuid() == 0:  # root opens any file: refuse locked.wav the way the kernel does for a user
        real_open = os.open

        def refusing_open(path, flags, *args, **kwargs):
            if os.fspath(path) == str(root / "locked.wav"):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_open(path, flags, *args, **kwargs)

        patch.setattr(os, "open", refusing_open)
    try:
        summary = Library(db=base / "index.db", model=tiny_model).index([root], workers=2)
        yield root, base / "index.db", summary
    finally:
        patch.undo()
        os.chmod(root / "locked.wav", 0o644)


def records(root, db):
    with Store(db, readonly=True) as store:
        return {os.path.relpath(r.path, root): r for r in store.iter_files()}


def test_every_good_file_is_indexed_with_its_duration(indexed):
    root, db, summary = indexed
    found = records(root, db)
    for name, seconds in GOOD.items():
        assert found[name].status == "indexed", (name, found[name].error)
        if seconds is not None:
            assert found[name].duration == pytest.approx(seconds, abs=0.05), name
    assert summary.indexed == len(GOOD)


def test_files_read_in_part_are_indexed_with_their_warning(indexed):
    root, db, summary = indexed
    warned = {}
    for path, warning in summary.warned:
        warned[os.path.relpath(path, root)] = warned.get(os.path.relpath(path, root), "") + warning + "; "
    assert set(warned) == set(WARNED)
    found = records(root, db)
    for name, phrase in WARNED.items():
        assert phrase in warned[name], (name, warned[name])
        assert phrase in " ".join(found[name].warnings) and "\n" not in warned[name]
        assert all("\n" not in w and len(w) < 250 for w in found[name].warnings)
    truncated = found["truncated.flac"]
    assert 8.0 < truncated.duration < 10.0  # about the half that is there, to within the lost frames
    assert f"decoding stopped at {truncated.duration:.3f} s" in truncated.warnings[0]
    clean = set(GOOD) - set(WARNED)
    assert all(found[name].warnings == () for name in clean)


def test_every_bad_file_fails_with_a_one_line_reason(indexed):
    root, db, summary = indexed
    failed = {os.path.relpath(path, root): reason for path, reason in summary.failed}
    assert set(failed) == set(BAD)
    for name, start in BAD.items():
        assert failed[name].startswith(start), (name, failed[name])
        assert "\n" not in failed[name] and len(failed[name]) < 200
    stored = {name: r for name, r in records(root, db).items() if r.status == "failed"}
    assert set(stored) == set(BAD)
    assert all(stored[name].error == failed[name] for name in BAD)


def test_nan_and_inf_samples_give_finite_vectors(indexed):
    root, db, _ = indexed
    with Store(db, readonly=True) as store:
        vectors = store.file_vectors(store.get_file(str(root / "nan-inf.wav")).id)[2]
    assert np.all(np.isfinite(vectors)) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_long_file_is_windowed_whole(indexed):
    root, db, _ = indexed
    with Store(db, readonly=True) as store:
        starts, ends, _ = store.file_vectors(store.get_file(str(root / "long.flac")).id)
    assert len(starts) == 119 and starts[-1] == pytest.approx(59.0) and ends[-1] == pytest.approx(60.0)


def test_odd_names_round_trip_through_query_json(indexed):
    root, db, _ = indexed
    result = CliRunner().invoke(cli, ["query", "tone", "--db", str(db), "-k", "100", "--json"])
    assert result.exit_code == 0, result.stderr
    paths = {h["path"] for h in json.loads(result.stdout)}
    for name in (NON_UTF8, "ünïcödé 音.ogg", "with spaces and 'quotes' (1).wav"):
        assert str(root / name) in paths
    table = CliRunner().invoke(cli, ["query", "tone", "--db", str(db), "-k", "100"])
    assert table.exit_code == 0 and "caf\ufffd latin-1 name.wav" in table.stdout
    error = CliRunner().invoke(cli, ["similar", str(root / NON_UTF8) + "@5-6", "--db", str(db)])
    assert error.exit_code == 1 and "caf\ufffd latin-1 name.wav" in error.stderr and "outside the file" in error.stderr


def test_rerun_over_bad_inputs_does_no_model_work(indexed, tiny_model):
    from tests.sound_library import CountingModel

    root, db, first = indexed
    model = CountingModel(tiny_model)
    again = Library(db=db, model=model).index([root])
    assert (again.indexed, again.skipped, model.audio_calls) == (0, len(GOOD), 0)
    assert sorted(again.failed) == sorted(first.failed)  # failures are retried, and fail the same way
