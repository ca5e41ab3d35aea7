"""Search quality on a real, named library: MRR, R@1, R@5, R@10, nDCG@10 over judged queries.

The library: the sound files of ten Debian game-data packages (lbreakout2-data, holotz-castle-data,
chromium-bsu-data, tecnoballz-data, open-invaders-data, solarwolf, funnyboat, starfighter-data,
freeorion-data, mu-cade-data; 210 files, 57 minutes) plus the repository's examples/, laid out as
PACKAGE/<path under /usr/share>. `--build` fetches them with `apt-get download` + `dpkg-deb -x`
into --cache (outside the repository; never commit the audio) and indexes them.

The 48 queries and their relevant files (benchmarks/search_quality_queries.json) were judged from
names, folders and package contents, not from the tool's output; some have uninformative names
("names": false) so the audio side is measured on its own too.

    python benchmarks/search_quality.py --build --cache /work/cache/sq     # fetch + index (~2 min)
    python benchmarks/search_quality.py --cache /work/cache/sq --study     # ranking options, audio only
    python benchmarks/search_quality.py --cache /work/cache/sq             # the end-to-end table

The independent check (docs/ranking.md) runs the same on other packages and queries:

    python benchmarks/search_quality.py --build --packages check --cache /work/cache/sq2 \
        --queries benchmarks/search_quality_queries_check.json

--study scores every window of the index offline (numpy) to compare file-ranking options; the
end-to-end table runs Library.search with each mode, as a user would.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PACKAGES = ["lbreakout2-data", "holotz-castle-data", "chromium-bsu-data", "tecnoballz-data", "open-invaders-data",
            "solarwolf", "funnyboat", "starfighter-data", "freeorion-data", "mu-cade-data"]
AUDIO = (".wav", ".ogg", ".mp3", ".flac", ".aiff")
HERE = os.path.dirname(os.path.abspath(__file__))
QUERIES = os.path.join(HERE, "search_quality_queries.json")
# The independent check (docs/ranking.md): other Debian game-data packages, neither the ten above nor
# the default model's training sources; judged in search_quality_queries_check.json; never tuned on.
CHECK_PACKAGES = ["alienblaster-data", "barrage", "bomberclone-data", "circuslinux-data", "frozen-bubble-data",
                  "powermanga-data", "toppler", "abe-data", "pachi-data", "gnujump-data", "biniax2-data"]


# ---- the library --------------------------------------------------------------------------------

def build_library(cache: str, packages: list[str], with_examples: bool = True) -> str:
    debs, root = os.path.join(cache, "debs"), os.path.join(cache, "library")
    os.makedirs(debs, exist_ok=True)
    os.makedirs(os.path.join(cache, "unpacked"), exist_ok=True)  # dpkg-deb -x makes the last folder only
    for package in packages:
        if not glob.glob(os.path.join(debs, f"{package}_*.deb")):
            subprocess.run(["apt-get", "download", package], cwd=debs, check=True)
    for deb in sorted(glob.glob(os.path.join(debs, "*.deb"))):
        package = os.path.basename(deb).split("_")[0]
        if package not in packages:
            continue
        unpacked = os.path.join(cache, "unpacked", package)
        if not os.path.isdir(unpacked):
            subprocess.run(["dpkg-deb", "-x", deb, unpacked], check=True)
        share = os.path.join(unpacked, "usr", "share")
        for folder, _, names in os.walk(share):
            for name in names:
                if name.lower().endswith(AUDIO):
                    rel = os.path.relpath(os.path.join(folder, name), share)
                    rel = rel[len("games/"):] if rel.startswith("games/") else rel
                    target = os.path.join(root, package, rel)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copy2(os.path.join(folder, name), target)
    if not with_examples:
        return root
    examples = os.path.join(os.path.dirname(HERE), "examples")
    os.makedirs(os.path.join(root, "examples"), exist_ok=True)
    for name in os.listdir(examples):
        if name.lower().endswith(AUDIO):
            shutil.copy2(os.path.join(examples, name), os.path.join(root, "examples", name))
    return root


# ---- metrics ------------------------------------------------------------------------------------

def metrics(ranked: list[str], relevant: set[str]) -> dict:
    first = next((i for i, path in enumerate(ranked) if path in relevant), None)
    gains = [1.0 / math.log2(i + 2) for i, path in enumerate(ranked[:10]) if path in relevant]
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return {"MRR": 0.0 if first is None else 1.0 / (first + 1),
            "R@1": float(first is not None and first < 1), "R@5": float(first is not None and first < 5),
            "R@10": float(first is not None and first < 10), "nDCG@10": sum(gains) / ideal,
            "rank": None if first is None else first + 1}


def summarise(rows: list[dict]) -> dict:
    keys = ("MRR", "R@1", "R@5", "R@10", "nDCG@10")
    return {key: round(float(np.mean([r[key] for r in rows])), 3) for key in keys}


def load_queries(only_audio_names: bool | None = None) -> list[dict]:
    with open(QUERIES, encoding="utf-8") as handle:
        queries = json.load(handle)["queries"]
    return [q for q in queries if only_audio_names is None or q["names"] == only_audio_names]


# ---- offline study of file-ranking options --------------------------------------------------------

def load_windows(db: str):
    from clapsearch.store import Store

    store = Store(db, readonly=True)
    meta = store.model_meta()
    paths, owners, vectors, pooled = [], [], [], []
    for record in store.iter_files(status="indexed"):
        _, _, matrix = store.file_vectors(record.id)
        owners.append(np.full(len(matrix), len(paths)))
        vectors.append(matrix)
        pooled.append(store.pooled_vector(record.id))
        paths.append(record.path)
    store.close()
    return meta, paths, np.concatenate(owners), np.concatenate(vectors), np.stack(pooled)


def study(cache: str, templates: list[str]) -> None:
    from clapsearch.models.registry import load_model
    from clapsearch.search import ranking

    db = os.path.join(cache, "index.db")
    root = os.path.join(cache, "library")
    meta, paths, owners, vectors, pooled = load_windows(db)
    rel = [os.path.relpath(p, root) for p in paths]
    counts = np.bincount(owners, minlength=len(paths))
    eff = np.array([ranking.effective_windows(n, meta["window_seconds"], meta["hop_seconds"]) for n in counts])
    model = load_model(meta["name"])
    queries = load_queries()
    texts = [[t.replace("{}", q["q"]) for t in templates] for q in queries]
    flat = np.asarray(model.embed_text([t for group in texts for t in group]), np.float32)
    flat = flat.reshape(len(queries), len(templates), -1).mean(axis=1)
    query_vectors = flat / np.linalg.norm(flat, axis=1, keepdims=True)
    options = {
        "raw max (before)": lambda best, stats, file_z: best,
        "pooled file vector": None,
        "expected max, n windows": lambda best, stats, file_z: np.array(
            [ranking.file_score(b, n, stats, "expected-max") for b, n in zip(best, counts)]),
        "expected max, n effective": lambda best, stats, file_z: np.array(
            [ranking.file_score(b, n, stats, "expected-max") for b, n in zip(best, eff)]),
        "p-value of max, n windows": lambda best, stats, file_z: np.array(
            [ranking.file_score(b, n, stats, "pvalue") for b, n in zip(best, counts)]),
        "p-value of max, n effective": lambda best, stats, file_z: np.array(
            [ranking.file_score(b, n, stats, "pvalue") for b, n in zip(best, eff)]),
    }
    for weight in (0.25, 0.5, 0.75):  # whole-file z and passage z averaged (ranking's "blend")
        options[f"blend {weight}, n effective"] = _blend(weight, eff)
        options[f"blend {weight}, n windows"] = _blend(weight, counts)
    results = {name: [] for name in options}
    long_in_top5 = {name: 0 for name in options}
    long_files = counts >= 50  # about a minute or more
    for query, vector in zip(queries, query_vectors):
        window_scores = vectors @ vector
        best = np.full(len(paths), -np.inf)
        np.maximum.at(best, owners, window_scores)
        stats = ranking.null_stats(window_scores)
        pooled_scores = pooled @ vector
        mean, deviation = ranking.null_stats(pooled_scores)
        file_z = (pooled_scores - mean) / deviation
        for name, score in options.items():
            file_scores = pooled_scores if score is None else score(best, stats, file_z)
            order = np.argsort(-np.asarray(file_scores), kind="stable")
            results[name].append(metrics([rel[i] for i in order], set(query["relevant"])))
            long_in_top5[name] += int(long_files[order[:5]].any()
                                      and not any(rel[i] in query["relevant"] for i in order[:5] if long_files[i]))
    print(f"{len(paths)} files, {len(vectors)} windows, {len(queries)} queries, templates {templates}")
    print(f"{'option':32} MRR    R@1    R@5    R@10   nDCG@10  queries with a wrong long file in top 5")
    for name, rows in results.items():
        s = summarise(rows)
        print(f"{name:32} {s['MRR']:.3f}  {s['R@1']:.3f}  {s['R@5']:.3f}  {s['R@10']:.3f}  {s['nDCG@10']:.3f}    "
              f"{long_in_top5[name]}")
    print("paired against raw max (reciprocal ranks per query; bootstrap of queries, 10000 draws, seed 0):")
    for name, rows in results.items():
        print(f"  {name:32} {paired_difference(results['raw max (before)'], rows)}")


def _blend(weight: float, windows: np.ndarray):
    from clapsearch.search import ranking

    def score(best, stats, file_z):
        return np.array([ranking.file_score(b, n, stats, "blend", z, weight) for b, n, z in zip(best, windows, file_z)])
    return score


def paired_difference(before: list[dict], after: list[dict]) -> str:
    """How sure an MRR gain is: queries better/worse, and a 95 % bootstrap interval of the gain."""
    gain = np.array([b["MRR"] for b in after]) - np.array([a["MRR"] for a in before])
    draws = np.random.default_rng(0).integers(0, len(gain), size=(10000, len(gain)))
    low, high = np.percentile(gain[draws].mean(axis=1), [2.5, 97.5])
    return (f"MRR {gain.mean():+.3f} (95 % {low:+.3f} .. {high:+.3f}), better on {int((gain > 0).sum())}, "
            f"worse on {int((gain < 0).sum())} of {len(gain)} queries")


# ---- end to end through the API --------------------------------------------------------------------

def end_to_end(cache: str, modes: list[str], k: int) -> dict:
    from clapsearch import Library

    db, root = os.path.join(cache, "index.db"), os.path.join(cache, "library")
    library = Library(db=db)
    table = {}
    for mode in modes:
        name, _, ensemble = mode.partition("+")
        rows = []
        for query in load_queries():
            hits = library.search(query["q"], k=k, mode=name, ensemble=bool(ensemble))
            rows.append(metrics([os.path.relpath(h.path, root) for h in hits], set(query["relevant"])))
        for subset, wanted in (("all", None), ("names", True), ("no-names", False)):
            picked = [r for r, q in zip(rows, load_queries()) if wanted is None or q["names"] == wanted]
            table[(mode, subset)] = summarise(picked)
    return table


def main(argv=None) -> None:
    global QUERIES
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", required=True, help="Folder for packages, the library and its index.")
    parser.add_argument("--build", action="store_true", help="Fetch the packages and index the library.")
    parser.add_argument("--queries", default=QUERIES, help="Judged queries (JSON); default: the benchmark's own.")
    parser.add_argument("--packages", default=None,
                        help="Comma-separated Debian packages for --build, or 'check' for the independent check's "
                             "(no examples/ then); default: the benchmark's ten.")
    parser.add_argument("--study", action="store_true", help="Compare file-ranking options offline.")
    parser.add_argument("--templates", default="{}", help="'|'-separated prompt templates for --study.")
    parser.add_argument("--modes", default="audio,text,hybrid,hybrid+ensemble")
    parser.add_argument("-k", type=int, default=50)
    parser.add_argument("--text-weight", type=float, default=None, help="Override the fusion's word weight.")
    parser.add_argument("--method", default=None, help="Override the file-ranking method (ranking.METHODS).")
    args = parser.parse_args(argv)
    QUERIES = args.queries
    if args.build:
        from clapsearch import Library

        if args.packages is None:
            root = build_library(args.cache, PACKAGES)
        elif args.packages == "check":
            root = build_library(args.cache, CHECK_PACKAGES, with_examples=False)
        else:
            root = build_library(args.cache, args.packages.split(","), with_examples=False)
        print(json.dumps(Library(db=os.path.join(args.cache, "index.db")).index([root]).as_dict()))
    if args.study:
        study(args.cache, args.templates.split("|"))
        return
    import clapsearch.search as searching
    import clapsearch.search.passages as passages

    if args.text_weight is not None:
        searching.TEXT_WEIGHT = args.text_weight
    if args.method is not None:
        passages.ranking.DEFAULT_METHOD = args.method
    table = end_to_end(args.cache, args.modes.split(","), args.k)
    print(f"{'mode':18} {'queries':9} MRR    R@1    R@5    R@10   nDCG@10")
    for (mode, subset), s in table.items():
        print(f"{mode:18} {subset:9} {s['MRR']:.3f}  {s['R@1']:.3f}  {s['R@5']:.3f}  {s['R@10']:.3f}  {s['nDCG@10']:.3f}")


if __name__ == "__main__":
    main()
