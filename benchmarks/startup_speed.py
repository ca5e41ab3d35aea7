"""Cold start of the CLI: `query`, unchanged `index` and `info`, each in a fresh process.

Builds (once, under --dir) a library of --files tiny real WAV files and an index of them written
directly through the Store API (--segments-per-file random unit vectors per file, bound to the
real default-model fingerprint, each file's real size, mtime and content hash), so `index` finds
every file unchanged and `query` searches 10k segments with the default model. Then it runs each
command --repeats times as `clapsearch ...` subprocesses and reports wall time and peak RSS (from
/usr/bin/time). Cold means a new process; the OS file cache is warm. Every query text is new (a
text-cache miss: the text tower runs); "query (cached text)" repeats one. --load N starts N
busy-looping processes beside it (a stand-in for another 2-thread job).

    nice python benchmarks/startup_speed.py                 # 1,000 files x 10 segments
    nice python benchmarks/startup_speed.py --load 2        # the same under load
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build(root: str, files: int, segments: int) -> str:
    """The library folder and index.db under `root` (reused when already built)."""
    import soundfile

    from clapsearch.audio.identity import content_hash
    from clapsearch.models import load_model
    from clapsearch.store import Store

    library, db = os.path.join(root, "library"), os.path.join(root, "index.db")
    if os.path.exists(db):
        return db
    os.makedirs(library, exist_ok=True)
    model = load_model("default")
    rng = np.random.default_rng(0)
    with Store(db) as store, store.writer():
        store.bind_model(model.name, model.fingerprint, model.dim, model.sample_rate, model.window_seconds,
                         model.window_seconds / 2)
        with store.batch():
            for n in range(files):
                path = os.path.join(library, f"sound_{n:05d}.wav")
                soundfile.write(path, rng.uniform(-0.1, 0.1, 441).astype(np.float32), 44100)
                stat = os.stat(path)
                vectors = rng.standard_normal((segments, model.dim)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                starts = np.arange(segments) * 1.15
                record = {"path": path, "size": stat.st_size, "mtime": stat.st_mtime,
                          "content_hash": content_hash(path), "duration": 1.15 * (segments + 1),
                          "sample_rate": 44100, "channels": 1, "format": "WAV/FLOAT"}
                store.put_file(record, starts, starts + 2.3, vectors, vectors.mean(axis=0))
    return db


def timed(args: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one `clapsearch` subprocess."""
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", sys.executable, "-m", "clapsearch", *args],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"clapsearch {' '.join(args)} failed:\n{out.stderr}")
    wall, rss_kb = out.stderr.strip().splitlines()[-1].split()[1:]
    return float(wall), int(rss_kb) / 1024


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/clapsearch-startup-bench")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--segments-per-file", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--load", type=int, default=0, help="busy-looping processes to run beside it")
    args = parser.parse_args(argv)
    db = build(args.dir, args.files, args.segments_per_file)
    env = dict(os.environ, CLAPSEARCH_DB=db, HF_HUB_OFFLINE="1")
    env.pop("CLAPSEARCH_MODEL", None)
    # A new text each time, so a first run after install exports the ONNX text tower here, untimed.
    subprocess.run([sys.executable, "-m", "clapsearch", "query", f"warm {time.time_ns()}", "--json"], env=env,
                   capture_output=True, check=True)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        time.sleep(1.0 if hogs else 0.0)
        stamp = time.time_ns()
        commands = {
            "query (new text)": lambda i: ["query", f"dog barking {stamp} {i}", "-k", "10", "--json"],
            "query (cached text)": lambda i: ["query", "dog barking", "-k", "10", "--json"],
            "index (unchanged)": lambda i: ["index", os.path.join(args.dir, "library"), "--json"],
            "info": lambda i: ["info", "--json"],
        }
        results = {}
        for name, make in commands.items():
            runs = [timed(make(i), env) for i in range(args.repeats)]
            results[name] = {"wall_s_median": statistics.median(r[0] for r in runs),
                             "wall_s_max": max(r[0] for r in runs),
                             "peak_rss_mib_max": round(max(r[1] for r in runs), 1)}
        results["load_average"] = os.getloadavg()
        results["busy_processes_beside"] = args.load
        print(json.dumps(results, indent=1))
    finally:
        for hog in hogs:
            hog.kill()


if __name__ == "__main__":
    main()
