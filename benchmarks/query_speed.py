"""Warm query latency of the store, and HNSW recall against exact search.

Data: random unit vectors (Gaussian samples, L2-normalised), dim 512 by default, grouped into
fake files of --segments-per-file segments each, written through the real Store (SQLite rows +
FAISS). Random vectors are the hardest case for HNSW (no cluster structure), so its recall here
is a lower bound for real embeddings.

Latency is Store.search end to end (FAISS search + SQLite lookup of the hits), k=10, measured
after one warm-up query, over --queries random queries: wall-clock p50/p95 and, because a
shared machine makes wall time mostly queueing, the process CPU time per query as well. For HNSW sizes it also reports build
time (the flush that builds the graph from SQLite), peak RSS, index size on disk and
recall@10 of Store.search(dedupe=False) against exact FAISS flat search over the same vectors.
For exact sizes it also times the ranked audio search a query runs (`audio_passages`: the nearest
2000 windows, calibration, length-fair file scores), by ranking method: "ranked_ms".

    nice python benchmarks/query_speed.py                         # 10k, 100k exact; 1M HNSW
    nice python benchmarks/query_speed.py --exact 10000 --hnsw 50000 --queries 50   # quick
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from clapsearch.store import Store  # noqa: E402


def random_units(rng, n, dim):
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


# --data structured: a fixed random 32-d subspace of the 512-d space plus small isotropic noise.
# Learned embeddings have a low intrinsic dimension like this; uniform random vectors have the
# full 512 and are the worst case for any graph index.
LATENT_DIM, NOISE = 32, 0.1


def structured_units(rng, n, dim):
    basis = np.random.default_rng(0).standard_normal((LATENT_DIM, dim), dtype=np.float32) / np.sqrt(LATENT_DIM)
    vectors = rng.standard_normal((n, LATENT_DIM), dtype=np.float32) @ basis
    vectors += NOISE * rng.standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


make_units = random_units


def fill(store, rng, total, dim, per_file):
    """Write `total` segments in files of `per_file`; returns all vectors in segment-id order."""
    chunks = []
    for first in range(0, total, per_file * 200):  # 200 files per transaction, as indexing does
        with store.batch():
            for number in range(first, min(total, first + per_file * 200), per_file):
                chunks.append(write_file(store, rng, number, min(per_file, total - number), dim, per_file))
    return np.concatenate(chunks)


def write_file(store, rng, number, count, dim, per_file):
    vectors = make_units(rng, count, dim)
    starts = np.arange(count, dtype=float)
    store.put_file({"path": f"/bench/{number // per_file:07d}.wav", "size": 1, "mtime": 0.0,
                    "content_hash": str(number), "duration": float(count), "sample_rate": 48000,
                    "channels": 1, "format": "WAV"}, starts, starts + 1.0, vectors, vectors.mean(axis=0))
    return vectors


def latencies(store, queries, k):
    store.search(queries[0], k=k, dedupe=False)  # warm-up: loads and syncs the FAISS cache
    wall, cpu = [], []
    for query in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        store.search(query, k=k, dedupe=False)
        wall.append((time.perf_counter() - started) * 1000.0)
        cpu.append((time.process_time() - started_cpu) * 1000.0)
    # CPU time per query shows the cost apart from waiting for a core on a busy machine.
    return {"p50_ms": _ms(wall, 50), "p95_ms": _ms(wall, 95), "cpu_p50_ms": _ms(cpu, 50), "cpu_p95_ms": _ms(cpu, 95)}


def ranked_latencies(store, queries, k):
    """Wall p50/p95 of the ranked audio search per ranking method (the blend also reads pooled vectors)."""
    from clapsearch.search.passages import audio_passages

    out = {}
    for method in ("expected-max", "blend"):
        audio_passages(store, queries[0], k, method=method)  # warm-up: the pooled-vector sample is read once
        wall = []
        for query in queries:
            started = time.perf_counter()
            audio_passages(store, query, k, method=method)
            wall.append((time.perf_counter() - started) * 1000.0)
        out[method] = {"p50_ms": _ms(wall, 50), "p95_ms": _ms(wall, 95)}
    return out


def _ms(values, percentile):
    return round(float(np.percentile(values, percentile)), 3)


def recall_at_k(store, vectors, queries, k):
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, k)
    found = 0
    for query, true_rows in zip(queries, truth):
        hits = store.search(query, k=k, dedupe=False)
        found += len({h.segment_id - 1 for h in hits} & set(true_rows.tolist()))  # ids start at 1
    return found / (k * len(queries))


def run_size(size, kind, args, folder):
    rng = np.random.default_rng(size)
    store = Store(os.path.join(folder, f"{kind}-{size}.db"), index_kind=kind, ef_search=args.ef_search[0])
    store.bind_model("random", f"random-{args.dim}", args.dim, 48000, 10.0, 10.0)
    result = {"segments": size, "kind": kind, "dim": args.dim, "data": args.data, "threads": args.threads or "default"}
    with store.writer():
        started = time.perf_counter()
        vectors = fill(store, rng, size, args.dim, args.segments_per_file)
        result["sqlite_write_s"] = round(time.perf_counter() - started, 1)
        started, started_cpu = time.perf_counter(), time.process_time()
        store.flush()
        result["faiss_build_and_save_s"] = round(time.perf_counter() - started, 1)
        result["faiss_build_and_save_cpu_s"] = round(time.process_time() - started_cpu, 1)
    store.close()
    result["faiss_file_mb"] = round(os.path.getsize(store.path + ".faiss") / 2**20, 1)
    result["db_file_mb"] = round(os.path.getsize(store.path) / 2**20, 1)
    reader = Store(store.path, readonly=True, ef_search=args.ef_search[0])
    started = time.perf_counter()
    reader.search(vectors[0], k=1)
    result["cold_open_first_query_s"] = round(time.perf_counter() - started, 2)
    queries = make_units(np.random.default_rng(size + 1), args.queries, args.dim)
    if kind == "hnsw":
        for ef in args.ef_search:
            reader.settings.ef_search = ef
            result[f"ef{ef}"] = {**latencies(reader, queries, args.k),
                                 "recall_at_10": round(recall_at_k(reader, vectors, queries, args.k), 4)}
    else:
        result.update(latencies(reader, queries, args.k))
        result["ranked_ms"] = ranked_latencies(reader, queries[:50], args.k)
    result["load_average_1min"] = round(os.getloadavg()[0], 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
    reader.close()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exact", default="10000,100000", help="sizes searched with the exact flat index")
    parser.add_argument("--hnsw", default="1000000", help="sizes searched with HNSW ('' for none)")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--segments-per-file", type=int, default=50)
    parser.add_argument("--ef-search", default="64,128,256", help="HNSW efSearch values to report")
    parser.add_argument("--threads", type=int, default=0,
                        help="FAISS OpenMP threads for building and for the exact ground truth (0 = FAISS "
                             "default); each search runs on the store's single thread either way")
    parser.add_argument("--data", choices=["random", "structured"], default="random",
                        help="uniform random unit vectors, or ones near a 32-d subspace (see structured_units)")
    parser.add_argument("--folder", default=None, help="where to write the stores (default: a temp dir)")
    args = parser.parse_args()
    args.ef_search = [int(v) for v in args.ef_search.split(",")]
    global make_units
    make_units = structured_units if args.data == "structured" else random_units
    if args.threads:
        import faiss

        faiss.omp_set_num_threads(args.threads)
    plan = [(int(s), "flat") for s in args.exact.split(",") if s] + \
           [(int(s), "hnsw") for s in args.hnsw.split(",") if s]
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for size, kind in plan:
            print(json.dumps(run_size(size, kind, args, folder)), flush=True)


if __name__ == "__main__":
    main()
