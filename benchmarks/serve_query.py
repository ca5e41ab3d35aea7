"""Warm latency of `clapsearch serve`'s /api/query over HTTP, at a given index size.

An index of --segments random unit vectors (in fake files, written through the real Store, as in
query_speed.py) is bound to the real model's fingerprint, so the server embeds each query text with
that model; then the real server (prepared_server: uvicorn on 127.0.0.1) answers --queries GET
/api/query requests one after another, each with a different text (AudioSet class names, so no
answer comes from a cache). Reports wall p50/p95 per request as the client sees it, and the load average.

    nice python benchmarks/serve_query.py                           # default model, 100k segments
    nice python benchmarks/serve_query.py --segments 10000 --queries 50
"""

import argparse
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.query_speed import fill  # noqa: E402
from clapsearch.api import Library  # noqa: E402
from clapsearch.serve.server import prepared_server  # noqa: E402
from clapsearch.store import Store  # noqa: E402
from clapsearch.vocab import builtin_labels  # noqa: E402


def build_index(path, model, segments, per_file):
    store = Store(path, index_kind="flat" if segments <= 200_000 else "hnsw")
    store.bind_model(model.name, model.fingerprint, model.dim, model.sample_rate, model.window_seconds,
                     model.window_seconds / 2)
    with store.writer():
        fill(store, np.random.default_rng(0), segments, model.dim, per_file)
        store.flush()
    store.close()


def measure(port, texts):
    # One kept-alive connection, as a browser keeps.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    wall = []
    for number, text in enumerate(["warm up", *texts]):
        started = time.perf_counter()
        connection.request("GET", "/api/query?" + urllib.parse.urlencode({"text": text, "k": 10}))
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise SystemExit(f"/api/query answered {answer.status}: {body[:200]!r}")
        if number:
            wall.append((time.perf_counter() - started) * 1000.0)
    connection.close()
    return {"p50_ms": round(float(np.percentile(wall, 50)), 2), "p95_ms": round(float(np.percentile(wall, 95)), 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--segments-per-file", type=int, default=50)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "index.db")
        library = Library(db, model=args.model)
        model = library.model_for()
        started = time.perf_counter()
        build_index(db, model, args.segments, args.segments_per_file)
        build_s = round(time.perf_counter() - started, 1)
        # IPPROTO_TCP, as uvicorn's own sockets have: asyncio sets TCP_NODELAY only then, and without it
        # each kept-alive answer stalls ~40 ms (Nagle against the client's delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        with prepared_server(library, port=sock.getsockname()[1]) as server:
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)
            result = measure(sock.getsockname()[1], builtin_labels()[:args.queries])
            server.should_exit = True
            thread.join(10)
    print(json.dumps({"model": args.model, "segments": args.segments, "queries": args.queries, "build_s": build_s,
                      **result, "load_average_1min": round(os.getloadavg()[0], 1)}))


if __name__ == "__main__":
    main()
