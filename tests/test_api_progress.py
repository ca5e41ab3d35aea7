"""The progress bar of index and label: files done and total (with ETA), audio hours, speed."""

import io
import sys

from clapsearch.progress import FileProgress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_shows_files_audio_hours_and_speed(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with FileProgress(3, "indexing") as bar:
        bar.audio(1800.0)
        bar.file_done()
        bar.audio(1800.0)
        bar.file_done(2)
    text = terminal.getvalue()
    assert "indexing" in text and "3/3" in text and "1.00 audio h" in text and "x real time" in text


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
