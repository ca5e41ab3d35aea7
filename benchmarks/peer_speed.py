"""Indexing speed against the closest peer, echo-vector 2.0, on the same library and the same model.

    python benchmarks/peer_speed.py --peer-python /work/cache/ev-venv/bin/python --minutes 20 --rounds 2

Both index one generated library (benchmarks/index_speed.py's mixed formats, rates and lengths)
with one random-weight, full-size LAION CLAP saved to a folder (benchmarks/make_random_laion.py;
built on first use), each at its default settings: clapsearch `Library.index` with `hf:FOLDER`
(10 s windows at a 5 s hop, threads and decode workers chosen from the free cores); echo-vector
`EchoVector(backend="clap", model_name=FOLDER).index` (5 s chunks with 1 s overlap, each
repeat-padded to the model's 10 s by the ClapProcessor, batches of 16, 4 decode threads, torch's
own thread count). echo-vector's ClapBackend passes `model_name` straight to transformers'
`from_pretrained`, which takes a local folder as it takes a hub id, so no download is involved.

Each run is a fresh process; the model is loaded first and not timed, then the whole library is
indexed into a new store and timed. Runs alternate (A B, then B A, ...) so that a load change on a
shared machine hits both alike; the ratio of each round is printed, and their median.

echo-vector needs Python >= 3.12 and transformers < 5, so it lives in its own virtual environment,
never in clapsearch's dependencies:

    python3.12 -m venv /work/cache/ev-venv
    /work/cache/ev-venv/bin/pip download --no-deps echo_vector==2.0.0 -d /tmp/ev
    /work/cache/ev-venv/bin/pip install "/tmp/ev/echo_vector-2.0.0-py3-none-any.whl[clap]"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# Run inside each timed process: load the model (untimed), index the library into a new store (timed).
CLAPSEARCH_RUN = """
import json, sys, time
from clapsearch import load_model
from clapsearch.api import Library
library, model_dir, db = sys.argv[1:4]
model = load_model("hf:" + model_dir, device="cpu")
started = time.perf_counter()
summary = Library(db=db, model=model).index([library])
wall = time.perf_counter() - started
assert not summary.failed, summary.failed
print(json.dumps({"wall": wall, "files": summary.indexed, "audio": summary.audio_seconds}))
"""

PEER_RUN = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from echovector import EchoVector
library, model_dir, store = sys.argv[1:4]
engine = EchoVector(store_dir=store, backend="clap", model_name=model_dir, device="cpu")
engine.embedder  # loads the model
started = time.perf_counter()
chunks = engine.index(library)
wall = time.perf_counter() - started
print(json.dumps({"wall": wall, "chunks": chunks}))
"""


def run(python: str, script: str, library: Path, model_dir: Path, store: Path) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(REPO),
               TOKENIZERS_PARALLELISM="false")
    done = subprocess.run([python, "-c", script, str(library), str(model_dir), str(store)], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{python} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure_model(model_dir: Path) -> None:
    if not (model_dir / "config.json").exists():
        from benchmarks.make_random_laion import main as make

        make([str(model_dir)])


def ensure_library(library: Path, minutes: float) -> float:
    """The generated library's audio seconds (written once, reused while its marker says the same length)."""
    from benchmarks.index_speed import write_library

    marker = library / ".minutes"
    if not (marker.exists() and marker.read_text().split()[0] == str(minutes)):
        library.mkdir(parents=True, exist_ok=True)
        for old in library.iterdir():
            old.unlink()
        files, seconds = write_library(library, minutes)
        marker.write_text(f"{minutes} {seconds}\n")
    return float(marker.read_text().split()[1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", default="/work/cache/ev-venv/bin/python",
                        help="a Python with echo_vector[clap] installed")
    parser.add_argument("--model-dir", type=Path, default=Path("/work/cache/laion-random"))
    parser.add_argument("--library", type=Path, default=Path("/work/cache/peer-library"))
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=1, help="pairs of runs, alternating which goes first")
    parser.add_argument("--clapsearch-threads", type=int, default=None,
                        help="CLAPSEARCH_THREADS for clapsearch's runs (default: unset, its automatic choice; "
                             "on a machine other processes keep busy that is fewer than the cores)")
    args = parser.parse_args(argv)
    ensure_model(args.model_dir)
    seconds = ensure_library(args.library, args.minutes)
    print(f"library {args.library}: {seconds / 60:.1f} min of audio; model {args.model_dir}; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    if args.clapsearch_threads:
        os.environ["CLAPSEARCH_THREADS"] = str(args.clapsearch_threads)  # echo-vector does not read it
    tools = {"clapsearch": (sys.executable, CLAPSEARCH_RUN), "echo-vector": (args.peer_python, PEER_RUN)}
    ratios = []
    for round_no in range(args.rounds):
        order = list(tools) if round_no % 2 == 0 else list(reversed(tools))
        speeds = {}
        for name in order:
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                result = run(*tools[name], args.library, args.model_dir, Path(tmp) / "store")
                speeds[name] = seconds / result["wall"]
                print(f"round {round_no + 1} {name}: {result['wall']:.1f} s indexing = {speeds[name]:.2f} audio-s/s "
                      f"({time.perf_counter() - started:.0f} s with start-up and model load; {result}; "
                      f"load average {os.getloadavg()[0]:.2f})", flush=True)
        ratios.append(speeds["clapsearch"] / speeds["echo-vector"])
        print(f"round {round_no + 1}: clapsearch / echo-vector = {ratios[-1]:.2f}x", flush=True)
    print(f"median ratio over {len(ratios)} round(s): {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
