"""`index --engine ray`: a generated library indexed on a local Ray instance (2 CPUs) gives the same
rows and vectors as the single-machine path, a worker that dies costs only its own file, and the
CLI's --engine ray runs with workers that load the model by name.

One Ray instance serves the module (starting Ray takes seconds): loopback only, no dashboard, its
files under the test's temporary folder, no usage reporting.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from clapsearch.api import Library
from clapsearch.cli import cli
from clapsearch.engines.ray_engine import DIED
from clapsearch.store import Store
from tests.audio_gen import tone, write_audio
from tests.dying_model import DyingModel, deadly_samples
from tests.sound_library import make_library

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def register_tiny() -> None:
    """Run in every Ray worker as it starts: the test-only model becomes loadable by name there too."""
    from clapsearch.models import register
    from tests.tiny_model import load_tiny

    text_dir = os.environ["CLAPSEARCH_TEST_TINY_TEXT"]
    register("tiny", lambda arg, name=None, device=None: load_tiny(text_dir, name=name or "tiny"),
             "test-only tiny random model", "tiny", hidden=True)


@pytest.fixture(scope="module")
def ray_instance(tmp_path_factory, tiny_text_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # read at import: serve on 127.0.0.1 only
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        import ray

        paths = [str(REPO)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(REPO)]
        ray.init(num_cpus=2, include_dashboard=False, _temp_dir=str(tmp_path_factory.mktemp("ray")),
                 object_store_memory=256 * 2**20, log_to_driver=False, logging_level="WARNING",
                 runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths),
                                           "CLAPSEARCH_TEST_TINY_TEXT": str(tiny_text_dir)},
                              "worker_process_setup_hook": register_tiny})
        yield ray
        ray.shutdown()


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "lib"
    make_library(root)
    (root / "long").mkdir()
    write_audio(root / "long" / "tone.wav", tone(330, 7.0, 16000), 16000)  # several chunks at batch size 4
    (root / "broken.wav").write_bytes(b"RIFF not really a wav file")
    return root


def rows_and_vectors(db) -> dict:
    with Store(db, readonly=True) as store:
        found = {}
        for record in store.iter_files():
            row = {k: getattr(record, k) for k in ("status", "error", "size", "mtime", "content_hash", "duration",
                                                   "sample_rate", "channels", "format", "warnings")}
            vectors = store.file_vectors(record.id) if record.status == "indexed" else None
            pooled = store.pooled_vector(record.id) if record.status == "indexed" else None
            found[record.path] = (row, vectors, pooled)
        return found


def test_ray_and_local_index_the_same_rows_and_vectors(ray_instance, library, tmp_path, tiny_model):
    local = Library(db=tmp_path / "local.db", model=tiny_model).index([library], batch_size=4)
    on_ray = Library(db=tmp_path / "ray.db", model=tiny_model).index([library], batch_size=4, engine="ray")
    assert on_ray.indexed == local.indexed == 6
    assert sorted(on_ray.failed) == sorted(local.failed) and len(local.failed) == 1
    expected, got = rows_and_vectors(tmp_path / "local.db"), rows_and_vectors(tmp_path / "ray.db")
    assert sorted(got) == sorted(expected)
    for path, (row, vectors, pooled) in expected.items():
        ray_row, ray_vectors, ray_pooled = got[path]
        assert ray_row == row, path
        if vectors is None:
            continue
        starts, ends, matrix = vectors
        ray_starts, ray_ends, ray_matrix = ray_vectors
        np.testing.assert_array_equal(ray_starts, starts)
        np.testing.assert_array_equal(ray_ends, ends)
        assert ray_matrix.shape == matrix.shape and len(matrix) >= 1
        np.testing.assert_allclose(ray_matrix, matrix, atol=1e-6, rtol=0)
        np.testing.assert_allclose(ray_pooled, pooled, atol=1e-6, rtol=0)
    assert len(expected[str(library / "long" / "tone.wav")][1][2]) == 13  # 7 s, 1 s windows, 0.5 s hop


def test_a_file_that_kills_its_worker_is_recorded_as_failed_and_the_rest_are_indexed(ray_instance, tmp_path,
                                                                                   tiny_model):
    root = tmp_path / "lib"
    names = make_library(root)
    deadly = write_audio(root / "deadly.wav", deadly_samples(1.5, 16000), 16000, subtype="FLOAT")
    summary = Library(db=tmp_path / "index.db", model=DyingModel(tiny_model)).index([root], engine="ray")
    assert summary.indexed == len(names)
    assert summary.failed == [(str(deadly), DIED)]
    with Store(tmp_path / "index.db", readonly=True) as store:
        assert {r.path for r in store.iter_files(status="indexed")} == {str(p) for p in names.values()}
        assert [r.path for r in store.iter_files(status="failed")] == [str(deadly)]


def test_cli_engine_ray_workers_load_the_model_by_name(ray_instance, tmp_path):
    make_library(tmp_path / "lib", ["tones/a440.wav", "sweeps/up.wav"])
    db = str(tmp_path / "index.db")
    result = CliRunner().invoke(cli, ["index", str(tmp_path / "lib"), "--engine", "ray", "--workers", "1",
                                      "--db", db, "--model", "tiny", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["indexed"] == 2
    again = CliRunner().invoke(cli, ["index", str(tmp_path / "lib"), "--engine", "ray", "--db", db, "--json"])
    assert json.loads(again.stdout)["skipped"] == 2  # planned against the store: nothing sent out


def test_address_needs_the_ray_engine():
    result = CliRunner().invoke(cli, ["index", ".", "--address", "auto"])
    assert result.exit_code == 2 and "--address is for --engine ray" in result.output



def test_actor_pool_asks_for_a_gpu_per_model_worker_when_the_cluster_has_gpus():
    from clapsearch.engines.ray_engine import GPU_BATCH_SIZE, _Pool

    gpus = _Pool.plan({"CPU": 16.0, "GPU": 2.0}, None, None, 32, GPU_BATCH_SIZE)
    assert (gpus.models, gpus.model_args, gpus.model_batch, gpus.decoders) == (2, {"num_gpus": 1, "num_cpus": 1},
                                                                                GPU_BATCH_SIZE, 14)
    assert (_Pool.plan({"CPU": 32.0}, None, None, 32, GPU_BATCH_SIZE).models,
            _Pool.plan({"CPU": 32.0}, None, None, 32, GPU_BATCH_SIZE).decoders) == (31, 4)
    cpus = _Pool.plan({"CPU": 2.0}, 2, None, 32, GPU_BATCH_SIZE)
    assert (cpus.models, cpus.model_batch, cpus.decoders) == (2, 32, 1)
    assert 2 * cpus.model_args["num_cpus"] + 0.25 * cpus.decoders <= 2  # everything fits: no actor waits forever
    with pytest.raises(Exception, match="too few for 40 model workers"):
        _Pool.plan({"CPU": 2.0}, 40, None, 32, GPU_BATCH_SIZE)
