"""IVF-PQ against exact search: recall@10, memory per million passages, build and query time.

Data shaped like real CLAP passages (dim 512, L2-normalised): topics (random unit centres), files
inside a topic (cosine about 0.7 to its centre), windows inside a file (cosine about 0.9 to the
file's centre), --windows-per-file windows each. Two kinds of query, as the tool asks them:
`audio` (a window of an indexed file, perturbed: `similar`) and `text` (near a topic centre, far
from every window: a description). Truth is exact inner-product search over the same vectors.

The index is the store's own (clapsearch.store.vector_index.VectorIndex with kind "ivfpq", its
default settings: lists a power of two near 2 sqrt(N), 64-byte codes, 1/64 of the lists probed
(at least 32), 1,000 candidates re-scored with their exact vectors), fed from memory instead of SQLite. Memory is the resident
size the saved index adds when it is loaded again (what `clapsearch` holds while searching),
and the FAISS file's size; flat (exact) is measured the same way for comparison.

    nice python benchmarks/ann_recall.py                            # 250k, 1M, 2M
    nice python benchmarks/ann_recall.py --sizes 10000000           # needs > 32 GB of memory
    nice python benchmarks/ann_recall.py --sizes 100000 --queries 50   # quick
"""

import argparse
import gc
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from clapsearch.store.vector_index import FLAT, IVFPQ, IndexSettings, VectorIndex  # noqa: E402

DIM = 512


def units(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def around(rng, centres: np.ndarray, cosine: float) -> np.ndarray:
    """Unit vectors at about `cosine` to their centre (isotropic Gaussian offsets)."""
    sigma = np.sqrt((1 / cosine**2 - 1) / centres.shape[1])
    return units(centres + sigma * rng.standard_normal(centres.shape, dtype=np.float32))


def passages(n: int, windows_per_file: int, topics: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    topic_centres = units(rng.standard_normal((topics, DIM), dtype=np.float32))
    files = -(-n // windows_per_file)
    # Topic sizes follow a power law, as libraries have a few big genres and many small ones.
    weights = 1.0 / np.arange(1, topics + 1) ** 0.8
    file_topic = rng.choice(topics, size=files, p=weights / weights.sum())
    out = np.empty((n, DIM), dtype=np.float32)
    step = max(1, 200_000 // windows_per_file)
    for first in range(0, files, step):
        centres = around(rng, topic_centres[file_topic[first:first + step]], 0.7)
        block = around(rng, np.repeat(centres, windows_per_file, axis=0), 0.9)
        start = first * windows_per_file
        out[start:start + len(block)] = block[:max(0, n - start)]
    return out, topic_centres


def queries(rng, data, topic_centres, count):
    audio = around(rng, data[rng.choice(len(data), count)], 0.95)
    text = around(rng, topic_centres[rng.choice(len(topic_centres), count)], 0.45)
    return {"audio": audio, "text": text}


def exact_top(data, query_rows, k):
    best_ids = np.zeros((len(query_rows), 0), np.int64)
    best_scores = np.zeros((len(query_rows), 0), np.float32)
    for start in range(0, len(data), 500_000):
        scores = query_rows @ data[start:start + 500_000].T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        best_ids = np.hstack([best_ids, top + start])
        best_scores = np.hstack([best_scores, np.take_along_axis(scores, top, axis=1)])
        keep = np.argsort(-best_scores, axis=1)[:, :k]
        best_ids, best_scores = np.take_along_axis(best_ids, keep, 1), np.take_along_axis(best_scores, keep, 1)
    return best_ids


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def loaded_bytes(path: str) -> int:
    """Resident memory that loading the saved index adds, measured in a fresh process (the allocator
    of this one reuses freed pages, which hides the index)."""
    import subprocess

    code = ("import faiss, os\n"
            "def rss():\n    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
            f"before = rss()\nindex = faiss.read_index({path!r})\nprint(rss() - before)\n")
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def build(kind, data, folder):
    ids = np.arange(1, len(data) + 1, dtype=np.int64)  # segment ids start at 1, as in SQLite
    vectors_for = lambda wanted: data[np.asarray(wanted) - 1]  # noqa: E731
    settings = IndexSettings(kind)
    index = VectorIndex(os.path.join(folder, f"{kind}.db"), DIM, "bench", settings)
    started = time.perf_counter()
    index.sync(1, lambda: ids, vectors_for, allow_kind_change=True)
    seconds = time.perf_counter() - started
    index.save()
    return index, seconds, loaded_bytes(index.index_path), os.path.getsize(index.index_path)


def measure(size, args):
    import faiss

    data, topic_centres = passages(size, args.windows_per_file, args.topics)
    rng = np.random.default_rng(1)
    asked = queries(rng, data, topic_centres, args.queries)
    truth = {name: exact_top(data, query_rows, 10) for name, query_rows in asked.items()}
    rows = []
    with tempfile.TemporaryDirectory(dir=args.tmp) as folder:
        for kind in ([FLAT] if args.flat else []) + [IVFPQ]:
            index, seconds, memory, file_bytes = build(kind, data, folder)
            lists = int(faiss.extract_index_ivf(index.index).nlist) if kind == IVFPQ else 0
            row = {"passages": size, "kind": kind, "lists": lists,
                   "nprobe": index.settings.probes_for(lists) if kind == IVFPQ else 0, "build_s": round(seconds, 1), "memory_bytes": memory, "file_bytes": file_bytes,
                   "memory_per_million_mb": round(memory / size * 1e6 / 2**20, 1)}
            sweep = [(p, r) for p in (args.nprobe or [None]) for r in (args.rerank or [None])]
            for probes, rerank in (sweep if kind == IVFPQ else [(None, None)]):
                if probes is not None:
                    index.settings.nprobe = probes
                    row = dict(row, nprobe=probes)
                if rerank is not None:
                    index.settings.rerank = rerank
                row = dict(row, rerank=index.settings.rerank if kind == IVFPQ else 0)
                for name, query_rows in asked.items():
                    found, times = [], []
                    for query in query_rows:
                        started = time.process_time()
                        _, ids = index.search(query, 10)
                        times.append(time.process_time() - started)
                        found.append(ids - 1)
                    row[f"recall10_{name}"] = round(float(np.mean([len(set(f) & set(t)) / 10
                                                                  for f, t in zip(found, truth[name])])), 4)
                    row[f"cpu_ms_p50_{name}"] = round(1000 * float(np.median(times)), 2)
                print(json.dumps(row), flush=True)
                rows.append(row)
            del index
            gc.collect()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250000,1000000,2000000", help="passage counts, comma-separated")
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind")
    parser.add_argument("--windows-per-file", type=int, default=20)
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--flat", action="store_true", help="also measure the exact (flat) index")
    parser.add_argument("--nprobe", type=lambda text: [int(v) for v in text.split(",")], default=None,
                        help="IVF-PQ lists probed per query, comma-separated, all on one built index "
                             "[default: the store's rule]")
    parser.add_argument("--rerank", type=lambda text: [int(v) for v in text.split(",")], default=None,
                        help="IVF-PQ candidates re-scored exactly, comma-separated [default: the store's]")
    parser.add_argument("--tmp", default=None, help="folder for the index files [default: the system's]")
    args = parser.parse_args()
    print(json.dumps({"load_average": os.getloadavg(), "cpus": os.cpu_count()}), flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size, args)
    print(json.dumps({"load_average": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
