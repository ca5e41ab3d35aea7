"""python -m training.recipes.default.data --cache DIR [--sources a,b] [--jobs N]"""

import argparse
from pathlib import Path

from .build import all_source_names, build_all, default_cache


def main() -> None:
    parser = argparse.ArgumentParser(description="Fetch, caption and write the default recipe's manifests.")
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default: $CLAPSEARCH_RECIPE_CACHE)")
    parser.add_argument("--sources", default=None, help="comma-separated source names; default: all")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="list the source names and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(all_source_names()))
        return
    names = args.sources.split(",") if args.sources else None
    print(build_all(args.cache or default_cache(), names, args.jobs))


if __name__ == "__main__":
    main()
