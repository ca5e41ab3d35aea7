"""Captions from names, by fixed rules.

Rules (applied to each path part below the source's audio folder, then the
file stem):
1. split on separators (``_ - . space``), camelCase and letter/digit borders,
   then re-join compounds listed in ``names.JOINS`` ("Hi", "Hat");
2. lower-case; drop pure numbers and numbering such as ``01``, ``v2``, ``3b``;
3. replace tokens found in ``names.EXPANSIONS`` (may expand or drop);
4. drop ``names.STOPWORDS``, tokens of one or two letters not in the
   dictionary, and code-like tokens (no vowel, or letters mixed with digits);
   when an English word list is given (the recipe uses Debian's
   ``wamerican``, /usr/share/dict/words), also drop tokens that are not
   English words, except run-together words that split into up to six
   English words of 3+ letters or listed short words ("breakglass" ->
   "break glass", "coverme" -> "cover me");
5. drop a word that repeats the word before it.
The file stem gives the description; folder names give context. A clip whose
description ends up empty is dropped by the caller (counted).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .names import EXPANSIONS, JOINS, PITCH_WORDS, STOPWORDS, VOCALISATIONS

_SEPARATORS = re.compile(r"[\s_\-.+,()\[\]'&~#@!]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_DIGIT_BORDER = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")
_VOWEL = re.compile(r"[aeiouy]")


def split_name(text: str) -> list[str]:
    """Split a name into lower-case raw tokens (separators, camelCase, digits)."""
    tokens: list[str] = []
    for piece in _SEPARATORS.split(text):
        for part in _CAMEL.split(piece):
            tokens.extend(t.lower() for t in _DIGIT_BORDER.split(part) if t)
    return tokens


def _is_code(token: str) -> bool:
    if token.isdigit() or re.fullmatch(r"[a-z]?\d+[a-z]?", token):
        return True
    return not _VOWEL.search(token)


def join_pairs(raw: list[str]) -> list[str]:
    """Join split compounds listed in names.JOINS ("hi", "hat" -> "hihat")."""
    joined: list[str] = []
    for token in raw:
        if joined and (joined[-1], token) in JOINS:
            joined[-1] = JOINS[(joined[-1], token)]
        else:
            joined.append(token)
    return joined


WORD_LIST = Path("/usr/share/dict/words")


@lru_cache(maxsize=1)
def english_words(path: Path = WORD_LIST) -> frozenset[str] | None:
    """Lower-case words of a system word list, or None. Proper nouns ("Norsemen") are
    included, lower-cased, so that they are kept whole rather than split ("nor semen")."""
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8", errors="replace").split()
    return frozenset(w.lower() for w in lines if w.isalpha() and w.isascii())


# Short words allowed inside run-together phrases ("coverme", "imgoingin").
# ("a" and "he" are left out: they split real words wrongly, "meg a health", "fort he".)
SHORT_WORDS = frozenset({"i", "im", "me", "in", "on", "it", "to", "go", "up", "we", "no", "ok", "my", "of",
                         "is", "at", "be", "do", "so", "an", "or", "us", "oh", "ill", "the"})


def split_compound(token: str, words: frozenset[str], parts: int = 6) -> list[str] | None:
    """Split a run-together token into at most `parts` pieces, each an English word of 3+
    letters or one of SHORT_WORDS, with at least one real word; longest first piece wins."""
    pieces = _split(token, words, parts)
    if pieces and any(p not in SHORT_WORDS for p in pieces) and (len(pieces) > 1 or len(token) >= 3):
        return pieces
    return None


def _split(token: str, words: frozenset[str], parts: int, first: bool = True) -> list[str] | None:
    if (token in words and len(token) >= 3) or (token in SHORT_WORDS and token != "i"):
        return [token]
    if parts <= 1:
        return None
    for cut in range(len(token) - 1, 0, -1):
        head = token[:cut]
        # "i" only opens a phrase ("iwanttoattack"); inside a word it splits wrongly ("ind i an")
        if (head in words and len(head) >= 3) or (head in SHORT_WORDS and (head != "i" or first)):
            rest = _split(token[cut:], words, parts - 1, first=False)
            if rest:
                return [head, *rest]
    return None


def _english(token: str, words: frozenset[str] | None) -> str | None:
    if words is None:
        return token
    pieces = split_compound(token, words)
    return " ".join(pieces) if pieces else None


def clean_tokens(raw: list[str], extra: dict[str, str] | None = None,
                 vocabulary: frozenset[str] | None = None) -> list[str]:
    """Apply rules 2-5 to raw tokens; returns meaningful words."""
    table = {**EXPANSIONS, **(extra or {})}
    raw = join_pairs(raw)
    words: list[str] = []
    for index, token in enumerate(raw):
        if token in table:
            replacement = table[token]
        elif token in ("low", "high") and index + 1 < len(raw) and table.get(raw[index + 1], raw[index + 1]) in PITCH_WORDS:
            replacement = token
        elif token in STOPWORDS or len(token) <= 2 or _is_code(token):
            continue
        else:
            replacement = _english(token, vocabulary)
            if replacement is None:
                continue
        for word in replacement.split():
            if word and (not words or words[-1] != word):
                words.append(word)
    return words


def describe(name: str, extra: dict[str, str] | None = None, words: frozenset[str] | None = None) -> str:
    """A phrase of meaningful words from one name ("EE_Kick_Low_2" -> "kick drum")."""
    return " ".join(clean_tokens(split_name(name), extra, words))


def phrasings(description: str, context: str = "") -> list[str]:
    """Several honest phrasings of one description (never only a bare noun)."""
    captions = [f"the sound of {description}", f"a recording of {description}", description,
                f"{description} sound effect"]
    if context and context not in description:
        captions += [f"{description}, {context}", f"{context}: {description}"]
    return _unique(captions)


def vocal_sound(words: str) -> str | None:
    """'laughing' when a voice clip's words name a non-speech vocal sound, else None."""
    return next((VOCALISATIONS[w] for w in words.split() if w in VOCALISATIONS), None)


def vocal_phrasings(action: str) -> list[str]:
    return [f"a person {action}", f"someone {action}", f"the sound of a person {action}", f"a voice {action}"]


def spoken_phrasings(words: str) -> list[str]:
    """Phrasings for a recorded spoken line whose file name gives the words."""
    return [f"a voice saying {words}", f"someone saying {words}", f"a spoken phrase: {words}",
            f"a short voice clip of someone saying {words}", "a person speaking"]


def _unique(items: list[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
