"""Training captions widened with WordNet (issue 12) and cleaned of bare codes.

A training clip labelled "rooster crowing" also trains "the sound of chicken crowing" and
"the sound of bird crowing" (data/wordnet.py picks the words), so queries with words the file
names never use still land near it. Only training clips are expanded: validation and the
cross-source pool keep their own captions and labels.

A caption whose words are all codes (no word of three letters or more that English or
WordNet knows, e.g. "the sound of xq") teaches nothing; it is dropped, and a clip left with
no caption is left out of training.
"""

from __future__ import annotations

import dataclasses
import re

from .data.captions import english_words
from .data.wordnet import expand_description

_WORD = re.compile(r"[a-z]{3,}")
_FRAME_WORDS = frozenset({"the", "sound", "recording", "effect", "someone", "saying", "person", "voice",
                          "speaking", "sounds", "and", "with", "from"})


def is_bare_code(caption: str, words: frozenset[str] | None) -> bool:
    """True when no word of the caption outside its phrasing frame is a known word."""
    content = [w for w in _WORD.findall(caption.lower()) if w not in _FRAME_WORDS]
    if words is None:
        return False
    return not any(w in words for w in content)


def expanded_captions(entry, wordnet, limit: int = 4) -> list[str]:
    """The entry's captions without bare codes, plus one phrasing per WordNet expansion."""
    words = english_words()
    captions = [c for c in entry.captions if not is_bare_code(c, words)]
    if not captions or wordnet is None:
        return captions
    extra = []
    for label in entry.labels[:1]:
        extra += [f"the sound of {d}" for d in expand_description(label, wordnet, limit)]
    return captions + [c for c in extra if c not in captions]


def expand_entries(entries, wordnet) -> list:
    """Copies of training entries with expanded captions; entries left without any are dropped."""
    out = []
    for entry in entries:
        captions = expanded_captions(entry, wordnet)
        if captions:
            out.append(dataclasses.replace(entry, captions=captions))
    return out
