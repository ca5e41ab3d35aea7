"""One way to open an ONNX Runtime session, shared by every ONNX tower (text now, audio later)."""

from __future__ import annotations


def threads_from_env() -> int:
    """CLAPSEARCH_THREADS, else the free cores: the one rule in clapsearch/threads.py."""
    from ...threads import free_cores

    return free_cores()


def open_session(model_path, threads: int | None = None, profile_prefix: str | None = None):
    """A CPU InferenceSession over `model_path`, sequential, with `threads` intra-op threads.

    Thread spinning is off: on a shared or small machine busy-waiting threads only steal cores.
    `profile_prefix` turns on ORT's profiler (benchmarks), writing its JSON there.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads_from_env() if threads is None else threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if profile_prefix is not None:
        options.enable_profiling, options.profile_file_prefix = True, profile_prefix
    return ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
