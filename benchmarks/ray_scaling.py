"""Indexing throughput: the local engine against the Ray engine with 1 and 2 model workers.

A generated mixed-format library (benchmarks/index_speed.py's) is indexed into a fresh database
per run with the same model, in interleaved rounds (local, ray x1, ray x2, then again), so that
a shared machine's load falls on every variant alike; read the ratios, and the load averages it
prints. One private Ray instance (loopback only, no dashboard) serves every Ray run, as a
cluster would; each run still starts its own actors and loads the model in each, and that start
is inside the wall time (it is part of what a run costs).

Reported per run: audio seconds embedded per wall second ("x real time"), the seconds until the
first file came back (starting actors, loading the model), and the steady rate after that. The
engines are driven directly (no store), so this is the engine's throughput. On a quiet machine the lead reruns it as

    nice python benchmarks/ray_scaling.py --model default --minutes 4 --rounds 2
    python benchmarks/ray_scaling.py --model tiny --minutes 1 --rounds 1     # quick
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.index_speed import load, write_library  # noqa: E402


def start_ray(folder: str):
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only (read at import)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, _temp_dir=folder, log_to_driver=False,
             logging_level="WARNING", runtime_env={"env_vars": {"PYTHONPATH": repo}})
    return ray


def run(paths: list, model, model_name, engine_name: str, workers: int, batch_size: int) -> dict:
    """One engine over every file (no store: this measures the engine). Steady throughput counts
    the audio after the first file came back, so it leaves out starting actors and loading models."""
    from clapsearch.engines import make_engine
    from clapsearch.engines.ray_stages import ModelByName

    engine = make_engine(engine_name, model_source=ModelByName(model_name) if model_name != "tiny" else None)
    if engine_name == "ray" and model_name == "tiny":
        from clapsearch.engines.ray_stages import ShippedModel

        engine.model_source = ShippedModel(model)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    first = None
    audio = after_first = 0.0
    for result in engine.embed_files(model, paths, batch_size=batch_size, workers=workers):
        assert not hasattr(result, "error"), result
        audio += result.info.duration
        if first is None:
            first = time.perf_counter()
        else:
            after_first += result.info.duration
    end = time.perf_counter()
    return {"engine": engine_name, "workers": workers, "audio_s": round(audio, 1), "wall_s": round(end - started, 1),
            "x_real_time": round(audio / (end - started), 2), "start_s": round(first - started, 1),
            "steady_x_real_time": round(after_first / max(end - first, 1e-9), 2),
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="model name, or tiny (the test model)")
    parser.add_argument("--minutes", type=float, default=4.0, help="minutes of generated audio")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    model = load(args.model, "cpu")  # Ray's workers load it by name (the test model is shipped)
    with tempfile.TemporaryDirectory(prefix="ray-scaling-") as folder:
        folder = Path(folder)
        (folder / "lib").mkdir()
        files, seconds = write_library(folder / "lib", args.minutes)
        print(json.dumps({"model": args.model, "files": files, "audio_s": round(seconds, 1), "cpus": os.cpu_count(),
                          "load_average": os.getloadavg()}), flush=True)
        start_ray(str(folder / "ray"))
        paths = sorted(str(p) for p in (folder / "lib").iterdir())
        for _ in range(args.rounds):
            for engine, workers in (("local", 2), ("ray", 1), ("ray", 2)):
                print(json.dumps(run(paths, model, args.model, engine, workers, args.batch_size)), flush=True)


if __name__ == "__main__":
    main()
