"""Query parsing: `dog barking -puppy` -> the text to embed ("dog barking") and words to exclude."""

from __future__ import annotations

from dataclasses import dataclass

from .words import split_words

# Words of a description that say nothing about the sound: matched against file names they only
# add noise ("a high tone" would match "a440.wav" by its "a"). The audio side still embeds them.
STOPWORDS = frozenset("a an the of in on at to for with and or by from is are this that some sound sounds".split())


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
    words = tuple(w for w in split_words(plain) if w not in STOPWORDS)
    return Query(plain, words, tuple(excluded))
