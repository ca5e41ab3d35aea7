"""How many threads to run, from the cores this process may use and how busy they already are.

    allowed cores (os.sched_getaffinity: a container's or taskset's limit, not the machine's count)
    - what other processes keep busy (the 1-minute load average, capped by the tasks runnable now)
    = free cores: the model's compute threads; decoding gets 1 worker on up to 2 free cores

One rule for every runtime (torch intra-op threads, ONNX Runtime sessions), so decoding and the
model never ask for more cores than there are: on two cores a second decode worker and two model
threads would time-slice, and torch's intra-op threads wait at every operator for the slowest.
CLAPSEARCH_THREADS overrides the count; an explicit `--workers` overrides the decode workers.
"""

from __future__ import annotations

import contextlib
import os
import time

MAX_DECODE_WORKERS = 4  # past this, decoding outruns any model we run on a CPU
SAMPLES, SAMPLE_GAP_S = 5, 0.002


def allowed_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def busy_elsewhere() -> float:
    """Cores other processes keep running: the 1-minute load average, or fewer if fewer run now.

    The average lags: a job that ended a minute ago still counts about 0.4 of a core, which on two
    cores took a thread from the model (measured: peer benchmark 1.10x with 1 thread against 1.91x
    with 2, at load average 1.4 on a machine whose only other work had ended or was niced). The
    tasks runnable at this instant (/proc/loadavg, less this one) bound it from above.
    """
    try:
        average = max(0.0, os.getloadavg()[0])
    except (AttributeError, OSError):
        return 0.0
    running = runnable_now()
    return average if running is None else min(average, float(running))


def runnable_now() -> int | None:
    """Tasks of other processes runnable right now (Linux /proc/loadavg; None elsewhere).

    /proc/loadavg counts threads, this process's own among them (a decode thread already started, a
    library's worker), so those running now are taken off; at least this one is always running.
    One look can catch a kernel thread or a process that runs for a millisecond (about 1 in 100 on
    a quiet machine, and more while this process pages in model files), so the least of a few looks
    over ~10 ms is taken.
    """
    counts = []
    for sample in range(SAMPLES):
        try:
            with open("/proc/loadavg") as f:
                running = int(f.read().split()[3].split("/")[0])
        except (OSError, IndexError, ValueError):
            return None
        counts.append(max(0, running - max(1, own_running_threads())))
        if counts[-1] == 0:
            break
        time.sleep(SAMPLE_GAP_S)
    return min(counts)


def own_running_threads() -> int:
    """This process's threads in state R (running or runnable), from /proc/self/task; 1 if unknown."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    count = 0
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                # the state follows the command name, which is in parentheses and may hold spaces
                count += f.read().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            continue
    return max(1, count)


def free_cores() -> int:
    """CLAPSEARCH_THREADS if set, else the allowed cores less the busy ones, at least 1."""
    value = os.environ.get("CLAPSEARCH_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    allowed = allowed_cores()
    return max(1, min(allowed, round(allowed - busy_elsewhere())))


def decode_workers(cores: int | None = None) -> int:
    """Decode threads beside a model using `cores`: one until there are cores to spare for more."""
    cores = free_cores() if cores is None else cores
    return max(1, min(MAX_DECODE_WORKERS, cores // 2)) if cores > 2 else 1


@contextlib.contextmanager
def torch_threads(count: int):
    """torch's intra-op thread count set to `count` inside the block, restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(before)
