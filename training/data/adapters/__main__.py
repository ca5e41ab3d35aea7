"""python -m training.data.adapters DATASET DATA_DIR OUT.jsonl [--split S ...]"""

from __future__ import annotations

import argparse
import importlib
import sys

from clapsearch.errors import ClapsearchError
from training.data.adapters import ADAPTERS
from training.data.manifest import write_manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.data.adapters",
                                     description="Write a training manifest from a local copy of a dataset.")
    parser.add_argument("dataset", choices=sorted(ADAPTERS))
    parser.add_argument("data_dir")
    parser.add_argument("out")
    parser.add_argument("--split", action="append", help="dataset split(s) to include (default: its training split)")
    args = parser.parse_args(argv)
    adapter = importlib.import_module(ADAPTERS[args.dataset])
    splits = tuple(args.split) if args.split else adapter.DEFAULT_SPLITS
    if args.split and adapter.ALL_SPLITS is None:
        parser.error(f"{args.dataset} has no splits")
    if args.split and any(s not in adapter.ALL_SPLITS for s in args.split):
        parser.error(f"{args.dataset} splits are: {', '.join(adapter.ALL_SPLITS)}")
    try:
        entries = list(adapter.entries(args.data_dir, splits))  # fail on a bad layout before writing
        count = write_manifest(args.out, entries)
    except ClapsearchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {count} entries to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
