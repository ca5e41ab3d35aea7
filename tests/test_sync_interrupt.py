"""A `clapsearch index` process killed (SIGKILL) or interrupted (Ctrl-C) mid-run leaves a consistent
index, and the next run resumes: finished files are skipped, the rest are embedded once."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from clapsearch.api import Library
from clapsearch.errors import IndexLockedError
from clapsearch.store import Store
from tests.audio_gen import tone, write_audio
from tests.sound_library import CountingModel

REPO = Path(__file__).resolve().parent.parent
N_FILES = 60  # 6 s of model time: room to act mid-run even on a loaded machine
# A CLI run whose model takes 0.1 s per call (batch size 1), so the run lasts seconds and can be hit mid-way.
RUNNER = """
import sys, time
from clapsearch.models import register
from tests.tiny_model import load_tiny

class Slow:
    def __init__(self, model):
        self.inner = model
        for key in ("name", "dim", "fingerprint", "sample_rate", "window_seconds", "logit_scale"):
            setattr(self, key, getattr(model, key))
    def embed_audio(self, waves):
        time.sleep(0.1)
        return self.inner.embed_audio(waves)
    def embed_text(self, texts):
        return self.inner.embed_text(texts)

register("slow-tiny", lambda arg, name=None, device=None: Slow(load_tiny(sys.argv[1], name="slow-tiny")), "", hidden=True)
from clapsearch.cli import cli
cli(["index", sys.argv[2], "--db", sys.argv[3], "--model", "slow-tiny", "--batch-size", "1", "--workers", "1"])
"""


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    for i in range(N_FILES):
        write_audio(root / f"tone{i:02d}.wav", tone(200 + 50 * i, 0.5, 16000), 16000)
    return root


def committed(db) -> int:
    if not os.path.exists(db):
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM files WHERE status = 'indexed'").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def start_and_stop(tiny_text_dir, library, db, sig, while_running=None) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(tiny_text_dir), str(library), str(db)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while committed(db) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = committed(db)
    assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.communicate()}"
    assert 0 < seen < N_FILES
    if while_running:
        while_running(proc)
    proc.send_signal(sig)
    proc.wait(60)
    return proc, seen


def check_resumes(db, library, tiny_model, done_before: int) -> None:
    model = CountingModel(tiny_model)
    summary = Library(db=db, model=model).index([library], batch_size=1)
    assert summary.skipped == done_before and summary.indexed == N_FILES - done_before
    assert summary.failed == [] and model.audio_calls == N_FILES - done_before  # one window per file
    with Store(db, readonly=True) as store:
        files = list(store.iter_files())
        assert len(files) == N_FILES and all(f.status == "indexed" for f in files)
        assert store.stats()["segments"] == N_FILES
        target = store.file_vectors(store.get_file(str(library / "tone07.wav")).id)[2][0]
        hits = store.search(target, k=1)
    assert hits[0].path == str(library / "tone07.wav") and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert np.isfinite(hits[0].score)


@pytest.mark.slow
def test_kill_9_mid_run_then_resume(tmp_path, library, tiny_text_dir, tiny_model):
    db = tmp_path / "index.db"

    def second_run_refused_and_reads_work(proc):
        with pytest.raises(IndexLockedError, match=f"Another clapsearch process \\(pid {proc.pid}\\)"):
            Library(db=db, model=tiny_model).index([library])
        assert len(Library(db=db, model=tiny_model).search("tone", k=3)) == 3  # readers never wait

    proc, _ = start_and_stop(tiny_text_dir, library, db, signal.SIGKILL, second_run_refused_and_reads_work)
    assert proc.returncode == -signal.SIGKILL
    check_resumes(db, library, tiny_model, committed(db))


@pytest.mark.slow
def test_ctrl_c_saves_finished_files_and_says_how_to_resume(tmp_path, library, tiny_text_dir, tiny_model):
    db = tmp_path / "index.db"
    proc, seen = start_and_stop(tiny_text_dir, library, db, signal.SIGINT)
    stderr = proc.stderr.read()
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == (
        "Interrupted: the finished work is saved; run the same command again to resume.")
    done = committed(db)
    assert done >= seen  # files finished after the last batch commit were saved on the way out
    check_resumes(db, library, tiny_model, done)
