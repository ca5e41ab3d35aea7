"""Data half of the default recipe: fetch issue 5's sources, caption them, write manifests."""


def build_all(cache_dir, sources=None, jobs=2):
    from .build import build_all as _build_all

    return _build_all(cache_dir, sources, jobs)
