"""The progress bar of index and label: files done and total (with ETA), audio hours, speed."""

import io
import sys

from clapsearch.progress import AudioProgress, FileProgress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_audio_bar_counts_audio_time_with_files_and_speed_beside_it(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with AudioProgress(7200.0, 3, "indexing") as bar:
        bar.audio(1800.0)
        bar.file_done()
        bar.audio(1800.0)
        bar.file_done(2)
    text = terminal.getvalue()
    assert "indexing  50%" in text and "1:00:00/2:00:00 audio" in text and "3/3 files" in text
    assert "x real time" in text


def test_audio_bar_never_runs_past_its_total(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with AudioProgress(10.0, 1, "indexing") as bar:
        bar.audio(25.0)  # a header that understated the length
        assert bar.bar.n == 10.0


def test_index_shows_each_stage_from_the_start(monkeypatch, tmp_path, tiny_model):
    from clapsearch.api import Library
    from tests.sound_library import make_library

    root = tmp_path / "lib"
    paths = make_library(root)
    from clapsearch.audio.decode import probe

    total = int(sum(probe(p).duration for p in paths.values()))
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    Library(db=tmp_path / "i.db", model="tiny").index([root], progress=True)
    text = terminal.getvalue()
    stages = ["scanning " + str(root), "loading model tiny ...", "reading headers", "indexing "]
    positions = [text.find(stage) for stage in stages]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), text
    assert f"/0:00:{total:02d} audio" in text and f"{len(paths)}/{len(paths)} files" in text


def test_bar_is_silent_off_a_terminal_or_when_disabled(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with FileProgress(2, "indexing") as bar:
        bar.file_done(2)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with FileProgress(2, "labelling", enabled=False) as bar:
        bar.file_done(2)
    assert pipe.getvalue() == "" and terminal.getvalue() == ""
