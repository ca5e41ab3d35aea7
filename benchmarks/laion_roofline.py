"""How close an hf: model's ONNX audio forward is to this core's float32 matrix-product limit.

    python benchmarks/make_random_laion.py /work/cache/laion-random     # once
    python benchmarks/laion_roofline.py --model /work/cache/laion-random --runs 5

Everything runs on one thread, as each of the pipeline's side-by-side calls does:
1. the window's matrix-product work, counted by torch's FlopCounterMode on the torch model;
2. the ONNX Runtime session clapsearch uses (the cached export), profiled over --runs one-window
   runs: time per operator kind, so the share the matrix products take is measured, not guessed;
3. torch's own float32 GEMM rate on large square matrices: what one core sustains;
4. the ceiling the forward would have if every operator but the matrix products cost nothing.
The machine is not reserved: print the load average and compare within one run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MATMUL_OPS = ("MatMul", "FusedMatMul", "Gemm")


def window_flops(clap) -> float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        clap.model.get_audio_features(**clap.audio_inputs(torch.zeros(1, clap.window_samples)))
    return counter.get_total_flops()


def operator_times(model_path: Path, features, runs: int) -> tuple[collections.Counter, float]:
    """Milliseconds per run by operator kind, and the wall time per run, from ORT's own profiler.

    The session is opened as clapsearch opens it (one thread); the warm-up run is left out of both.
    """
    from clapsearch.models.runtime.audio_export import INPUT
    from clapsearch.models.runtime.session import open_session

    session = open_session(model_path, threads=1, profile_prefix=os.path.join(tempfile.mkdtemp(), "ort"))
    session.run(None, {INPUT: features})
    start = time.perf_counter()
    for _ in range(runs):
        session.run(None, {INPUT: features})
    wall = (time.perf_counter() - start) / runs
    events = json.loads(Path(session.end_profiling()).read_text())
    run_events = sorted((e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"),
                        key=lambda e: e["ts"])
    warm_up_end = run_events[0]["ts"] + run_events[0]["dur"]
    times = collections.Counter()
    for event in events:
        if (event.get("cat") == "Node" and event["name"].endswith("_kernel_time")
                and event["ts"] >= warm_up_end):
            times[event["args"]["op_name"]] += event["dur"] / 1000 / runs
    return times, wall * 1000


def gemm_rate(n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of one float32 n x n x n product on one thread."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 / ((time.perf_counter() - start) / repeats) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a local ClapModel folder (hf:DIR)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import torch

    from clapsearch.models.laion import load
    from clapsearch.models.runtime.laion_onnx import onnx_path

    torch.set_num_threads(1)
    os.environ["CLAPSEARCH_THREADS"] = "1"
    clap = load(args.model, runtime="onnx")
    print(f"model {args.model}; load average {os.getloadavg()[0]:.2f}")
    flops = window_flops(clap)
    clap.onnx_audio()  # exports into the user cache on first use
    model_path = onnx_path(clap.fingerprint)
    with torch.inference_mode():
        features = clap.features(torch.randn(1, clap.window_samples) * 0.1).numpy()
    times, wall = operator_times(model_path, features, args.runs)
    total = sum(times.values())
    matmul = sum(times[op] for op in MATMUL_OPS)
    print(f"one 10 s window: {flops / 1e9:.2f} GFLOP of matrix products (FlopCounterMode)")
    print(f"ONNX Runtime, 1 thread: {wall:.1f} ms a window wall, {total:.1f} ms in operators; by kind:")
    for op, ms in times.most_common(10):
        print(f"  {op:20s} {ms:6.1f} ms  {100 * ms / total:4.1f} %")
    print(f"matrix products: {matmul:.1f} ms = {flops / matmul / 1e6:.1f} GFLOP/s")
    print(f"torch float32 GEMM, 2048^3, 1 thread: {gemm_rate():.1f} GFLOP/s")
    per_core = 1000 / matmul
    print(f"ceiling with everything but the matrix products free: {per_core:.2f} windows/s a core "
          f"(now {1000 / wall:.2f})")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
