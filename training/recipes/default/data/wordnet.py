"""Caption expansion with WordNet nouns, read offline from Debian's `wordnet-base` files.

Files (Princeton WordNet 3.0 format, see wndb(5)): ``index.noun`` lines are
``lemma pos synset_cnt p_cnt [ptr]*p_cnt sense_cnt tagsense_cnt offset*synset_cnt`` with the
senses most frequent first; ``data.noun`` lines start at their byte offset and read
``offset lex_filenum ss_type w_cnt(hex) [word lex_id]*w_cnt p_cnt [symbol offset pos st]*p_cnt | gloss``.
Pointer ``@`` is a hypernym, ``@i`` an instance hypernym.

Only a word's first (most frequent) noun sense is used, and only when its hypernym chain
reaches one of `SOUND_CATEGORIES` (animals, instruments, vehicles, ...): "bark" (of a tree)
or "crash" (of a computer) are left alone, "rooster" gains "cock", "chicken" and "bird".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WORDNET_DIR = Path("/usr/share/wordnet")

# Hypernyms a listener names a sound by. A word is expanded only when its chain reaches one;
# each one reached is also added as a word ("dog" -> "animal").
SOUND_CATEGORIES = frozenset({
    "animal", "bird", "insect", "mammal", "amphibian", "reptile", "fish", "dog", "cat",
    "musical instrument", "percussion instrument", "stringed instrument", "wind instrument",
    "keyboard instrument", "drum", "bell", "vehicle", "motor vehicle", "aircraft", "boat", "car",
    "weapon", "gun", "firearm", "explosive", "machine", "engine", "tool", "clock",
    "person", "voice", "speech", "music", "weather", "precipitation", "water", "fire",
    "door", "container", "footwear", "noise", "sound", "explosion", "alarm", "signal",
})
NEAR_LEVELS = 2  # hypernyms this close are added whatever they are


@dataclass(frozen=True)
class Synset:
    words: tuple[str, ...]
    hypernyms: tuple[int, ...]


class WordNet:
    """The noun half of WordNet, loaded lazily from `folder`."""

    def __init__(self, folder: Path = WORDNET_DIR):
        self.folder = Path(folder)
        if not (self.folder / "index.noun").is_file():
            raise FileNotFoundError(f"No WordNet database at {self.folder}; "
                                    "install it with `apt-get install wordnet-base`.")
        self.first_sense: dict[str, int] = {}
        self.noun_senses: dict[str, int] = {}
        for fields in _index_lines(self.folder / "index.noun"):
            self.first_sense[fields[0]] = int(fields[-int(fields[2])])
            self.noun_senses[fields[0]] = int(fields[2])
        # words used more as verbs or adjectives than as nouns ("ride", "kick", "electric")
        # are modifiers or actions in a file name, not the thing that sounds
        self.other_senses: dict[str, int] = {}
        for pos in ("verb", "adj"):
            for fields in _index_lines(self.folder / f"index.{pos}"):
                self.other_senses[fields[0]] = max(self.other_senses.get(fields[0], 0), int(fields[2]))
        self._data = open(self.folder / "data.noun", "rb")

    @lru_cache(maxsize=None)
    def synset(self, offset: int) -> Synset:
        self._data.seek(offset)
        fields = self._data.readline().decode("latin-1").split(" | ")[0].split()
        count = int(fields[3], 16)
        words = tuple(fields[4 + 2 * i].lower() for i in range(count))
        rest = fields[4 + 2 * count :]
        pointers = int(rest[0])
        hypernyms = tuple(int(rest[2 + 4 * i]) for i in range(pointers) if rest[1 + 4 * i] in ("@", "@i"))
        return Synset(words, hypernyms)

    def lemma(self, word: str) -> str | None:
        """The index form of a word or phrase ("dogs" -> "dog", "kick drum" -> "kick_drum")."""
        key = word.lower().replace(" ", "_")
        for candidate in (key, key[:-3] + "y" if key.endswith("ies") else None,
                          key[:-2] if key.endswith("es") else None, key[:-1] if key.endswith("s") else None):
            if candidate and candidate in self.first_sense:
                return candidate
        return None

    def related(self, word: str, max_depth: int = 12) -> list[str]:
        """Synonyms, near hypernyms and sound categories of the word's first sense; [] when
        that sense reaches no sound category."""
        lemma = self.lemma(word)
        if lemma is None or self.other_senses.get(lemma, 0) > self.noun_senses[lemma]:
            return []
        start = self.synset(self.first_sense[lemma])
        synonyms = [w for w in start.words if w != lemma and "_" not in w][:1]
        near, categories = [], []
        level, frontier = 0, list(start.hypernyms)
        while frontier and level < max_depth:
            level += 1
            synsets = [self.synset(o) for o in frontier]
            for synset in synsets:
                names = [w.replace("_", " ") for w in synset.words]
                categories += [n for n in names if n in SOUND_CATEGORIES]
                near += names[:1] if level <= NEAR_LEVELS else []
            frontier = [h for s in synsets for h in s.hypernyms]
        if not categories:
            return []
        return _readable(synonyms + near[:1] + categories[::-1] + near[1:], word)


def _index_lines(path: Path):
    with open(path, encoding="latin-1") as handle:
        for line in handle:
            if not line.startswith(" "):  # the license header is indented
                yield line.split()


def _readable(words: list[str], original: str) -> list[str]:
    """Plain lower-case words of at most two parts, in order, without repeats or the original."""
    out = []
    for word in (w.replace("_", " ") for w in words):
        if word == original or word in out or len(word.split()) > 2:
            continue
        if all(part.isalpha() and part.islower() for part in word.split()):
            out.append(word)
    return out


@lru_cache(maxsize=1)
def default_wordnet() -> WordNet | None:
    try:
        return WordNet()
    except FileNotFoundError:
        return None


def expand_description(description: str, wordnet: WordNet, limit: int = 4) -> list[str]:
    """Descriptions with one noun swapped for a related word: "rooster crowing" ->
    "cock crowing", "chicken crowing", "bird crowing". Two-word nouns first ("kick drum")."""
    tokens = description.split()
    out: list[str] = []
    # two-word nouns first, then single words from the end (the head of an English compound)
    spans = [(i, i + 2) for i in range(len(tokens) - 1)] + [(i, i + 1) for i in reversed(range(len(tokens)))]
    covered: set[int] = set()
    for start, end in spans:
        if covered & set(range(start, end)):
            continue
        phrase = " ".join(tokens[start:end])
        related = wordnet.related(phrase)
        if related:
            covered |= set(range(start, end))
        for word in related:
            candidate = " ".join(tokens[:start] + [word] + tokens[end:])
            if candidate not in out and candidate != description:
                out.append(candidate)
    return out[:limit]
