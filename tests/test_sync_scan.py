"""The folder walk that feeds `index`: extensions, symlinks (loops, duplicates), unreadable folders."""

import os

import pytest

from clapsearch.errors import ClapsearchError
from clapsearch.scan import scan


def touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_finds_audio_extensions_case_insensitively_and_ignores_others(tmp_path):
    touch(tmp_path / "a.wav")
    touch(tmp_path / "sub" / "B.FLAC")
    touch(tmp_path / "sub" / "deeper" / "c.Mp3")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "cover.jpg")
    result = scan([tmp_path])
    assert [os.path.relpath(f.path, tmp_path) for f in result.files] == ["a.wav", "sub/B.FLAC", "sub/deeper/c.Mp3"]
    assert result.broken == [] and result.unlisted == []


def test_records_size_and_mtime(tmp_path):
    path = touch(tmp_path / "a.wav", b"12345")
    os.utime(path, (1000.5, 2000.25))
    (found,) = scan([tmp_path]).files
    assert (found.size, found.mtime) == (5, 2000.25)


def test_explicit_file_is_taken_whatever_its_extension(tmp_path):
    path = touch(tmp_path / "recording.raw")
    assert [f.path for f in scan([path]).files] == [str(path)]


def test_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(ClapsearchError, match="no such file or folder"):
        scan([tmp_path / "nope"])


def test_symlink_loop_to_a_parent_is_walked_once(tmp_path):
    touch(tmp_path / "lib" / "a.wav")
    os.symlink(tmp_path / "lib", tmp_path / "lib" / "loop")
    result = scan([tmp_path / "lib"])
    assert [os.path.basename(f.path) for f in result.files] == ["a.wav"]


def test_self_referencing_file_link_is_reported_not_fatal(tmp_path):
    touch(tmp_path / "ok.wav")
    os.symlink(tmp_path / "self.wav", tmp_path / "self.wav")
    os.symlink(tmp_path / "gone.wav", tmp_path / "dangling.wav")
    result = scan([tmp_path])
    assert [os.path.basename(f.path) for f in result.files] == ["ok.wav"]
    reasons = dict((os.path.basename(p), r) for p, r in result.broken)
    assert reasons == {"self.wav": "symbolic link loop",
                       "dangling.wav": "the file does not exist (or is a broken symbolic link)"}


def test_second_link_to_a_file_is_indexed_once(tmp_path):
    touch(tmp_path / "a.wav")
    os.symlink(tmp_path / "a.wav", tmp_path / "b.wav")
    assert len(scan([tmp_path]).files) == 1


def test_unreadable_folder_is_reported_and_excluded_from_pruning(tmp_path, monkeypatch):
    touch(tmp_path / "open" / "a.wav")
    closed = touch(tmp_path / "closed" / "b.wav").parent
    closed.chmod(0)
    if os.geteuid() == 0:  # root lists any folder: make listing this one fail the way it does for users
        real_scandir = os.scandir
        monkeypatch.setattr(os, "scandir", lambda p: _deny(p, closed, real_scandir))
    try:
        result = scan([tmp_path])
    finally:
        closed.chmod(0o755)
    assert [os.path.basename(f.path) for f in result.files] == ["a.wav"]
    assert result.unlisted == [(str(closed), "permission denied (make the file readable by this user)")]
    assert result.covers(str(tmp_path / "open" / "x.wav"))
    assert not result.covers(str(closed / "b.wav"))
    assert not result.covers("/elsewhere/x.wav")


def _deny(path, closed, real_scandir):
    if os.fspath(path) == str(closed):
        raise PermissionError(13, "Permission denied", os.fspath(path))
    return real_scandir(path)
