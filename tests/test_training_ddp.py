"""torchrun with 2 CPU processes (gloo) follows the same loss curve as 1 process with the doubled batch."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training_helpers import TINY_TOWER, read_log, recipe, write_recipe
from training import train

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_processes_match_one_process_with_the_doubled_batch(tmp_path, tiny_text_dir):
    # No dropout, no BatchNorm (the tiny tower): the only difference left is the summation order.
    common = dict(audio=TINY_TOWER, dropout=False, epochs=2)
    one = write_recipe(tmp_path / "one.json", recipe(tiny_text_dir, batch_size=4, **common))
    two = write_recipe(tmp_path / "two.json", recipe(tiny_text_dir, batch_size=2, **common))

    train.main(["--config", str(one), "--run-dir", str(tmp_path / "one"), "--threads", "1"])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "training.train", "--config", str(two), "--run-dir", str(tmp_path / "two"), "--threads", "1"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]

    single, ddp = read_log(tmp_path / "one"), read_log(tmp_path / "two")
    assert [s["step"] for s in ddp] == [s["step"] for s in single] == list(range(1, 13))
    print("max |loss difference| over 12 steps:", max(abs(a["loss"] - b["loss"]) for a, b in zip(single, ddp)),
          "losses", [round(a["loss"], 4) for a in single])
    for a, b in zip(single, ddp):
        assert b["loss"] == pytest.approx(a["loss"], abs=1e-4), (a["step"], a["loss"], b["loss"])
        assert b["logit_scale"] == pytest.approx(a["logit_scale"], abs=1e-4)
    # The curve moved (the comparison is not between two untrained models).
    assert single[-1]["loss"] != pytest.approx(single[0]["loss"], abs=1e-3)
    # Validation ran on rank 0 only: before training and once per epoch.
    assert [v["step"] for v in read_log(tmp_path / "two", "val")] == [0, 6, 12]
