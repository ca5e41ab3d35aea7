"""Validation split by source item.

A clip's split is a pure function of its item name (a hash), so every clip
of one recording, or every render of one soundfont program, lands on the same
side, and re-running gives the same split. The items of the bundled
examples/ (examples.py) are "test": neither trained on nor used to validate.
"""

from __future__ import annotations

import hashlib

VAL_PERCENT = 10


def split_for(item: str, val_percent: int = VAL_PERCENT) -> str:
    """"test" for the bundled examples' items (never trained on), else val/train by hash."""
    from .examples import TEST_ITEMS

    if item in TEST_ITEMS:
        return "test"
    digest = hashlib.sha1(item.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:4], "big") % 100
    return "val" if bucket < val_percent else "train"
