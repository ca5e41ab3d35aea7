"""Query parsing: `dog barking -puppy` -> the text to embed ("dog barking") and words to exclude."""

from __future__ import annotations

from dataclasses import dataclass

from .words import split_words


@dataclass(frozen=True)
class Query:
    text: str  # what the audio side embeds (without the -words)
    words: tuple[str, ...]  # what the word side matches
    excluded: tuple[str, ...]  # files whose words match any of these are left out


def parse_query(text: str) -> Query:
    kept, excluded = [], []
    for token in text.split():
        if token.startswith("-") and len(token) > 1:
            excluded.extend(split_words(token[1:]))
        else:
            kept.append(token)
    plain = " ".join(kept)
    return Query(plain, tuple(split_words(plain)), tuple(excluded))
