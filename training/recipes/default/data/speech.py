"""Synthesised speech: espeak-ng in its many languages and voices, and festival (English).

Texts: numbers (espeak reads digits as number words in the voice's own
language, so every language gets real words without a hand-made text per
language) and a few hand-written sentences for the languages in SENTENCES.
Voices: espeak's variants with the gender espeak lists for them (female,
male, whispering, robotic). Captions name the language and the voice kind.
Item = engine + language + text, so one utterance in several voices stays
on one side of the split.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from training.data.manifest import ManifestEntry

from .clips import MIN_SECONDS, duration_of
from .split import split_for
from .speech_texts import SENTENCES

FEMALE = ["f1", "f2", "f3", "f4", "f5", "Alicia", "Andrea", "Annie", "Belinda", "Linda", "Steph", "anika", "grandma"]
MALE = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "Adam", "Alex", "Andy", "Antonio", "Boris", "David", "Gustave",
        "Jacky", "Marco", "Michael", "Pablo", "Paul", "Robert", "grandpa"]
WHISPER = ["whisper", "female_whisper"]
ROBOT = ["Robosoft", "UniversalRobot"]
# Constructed or fictional languages say nothing about real speech.
SKIP = {"jbo", "qya", "piqd", "sjn", "lfn", "io", "ia", "py", "qdb", "chr-US-Qaaa-x-west", "grc", "cmn-latn-pinyin",
        "fa-latn", "en-gb-x-gbclan", "en-gb-x-gbcwmd"}
NUMBER_CLIPS = 8
LICENSE = "GPL-3+"  # espeak-ng's voices and dictionaries (see /usr/share/doc/espeak-ng-data/copyright)


def espeak_languages() -> list[tuple[str, str]]:
    """(code, readable language name) for every espeak-ng language voice."""
    listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, check=True).stdout
    languages = []
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[1] not in SKIP:
            name = fields[3].replace("_", " ").replace("(", "").replace(")", "")
            languages.append((fields[1], name))
    return languages


def voice_kind(variant: str) -> tuple[str, str]:
    """(caption words, label) for a voice variant."""
    if variant in WHISPER:
        return "a synthesised whispering voice", "whisper"
    if variant in ROBOT:
        return "a robotic synthesised voice", "robotic voice"
    if variant in FEMALE:
        return "a synthesised female voice", "woman speaking"
    return "a synthesised male voice", "man speaking"


def speech_captions(kind: str, language: str, what: str) -> list[str]:
    return [f"{kind} speaking {language}", f"text-to-speech in {language}", f"{kind} saying {what} in {language}",
            f"synthesised speech in {language}", f"a computer voice talking in {language}"]


def synthesize(out: Path, code: str, variant: str, speed: int, text: str) -> bool:
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.stem + ".tmp.wav")
        done = subprocess.run(["espeak-ng", "-v", f"{code}+{variant}", "-s", str(speed), "-w", str(tmp), text],
                              capture_output=True)
        if done.returncode != 0 or not tmp.exists():  # a few voice/language pairs crash espeak-ng
            tmp.unlink(missing_ok=True)
            return False
        tmp.replace(out)
    seconds = duration_of(out)
    return seconds is not None and seconds >= MIN_SECONDS


def utterances(code: str) -> list[tuple[str, str]]:
    """(text, what) pairs for one language: numbers, plus sentences where we have them."""
    rng = random.Random(f"numbers-{code}")
    texts = [(str(rng.choice([rng.randint(2, 99), rng.randint(100, 9999), rng.randint(10000, 999999)])), "a number")
             for _ in range(NUMBER_CLIPS)]
    base = code.split("-")[0]
    texts += [(sentence, "a sentence") for sentence in SENTENCES.get(base, [])]
    return texts


def espeak_source(cache_dir: Path):
    """Every language x its utterances, each utterance in a voice chosen by a seeded draw."""
    out_dir = cache_dir / "rendered" / "espeak-ng"
    entries: list[ManifestEntry] = []
    voices = FEMALE + MALE + WHISPER + ROBOT
    for code, language in espeak_languages():
        rng = random.Random(f"voices-{code}")
        for index, (text, what) in enumerate(utterances(code)):
            item = f"espeak-ng/{code}/{index}"
            for variant in rng.sample(voices, 2):
                speed = rng.choice([130, 160, 190])
                path = out_dir / code / f"{index:02d}_{variant}_{speed}.wav"
                if synthesize(path, code, variant, speed, text):
                    kind, label = voice_kind(variant)
                    entries.append(ManifestEntry(audio=str(path), captions=speech_captions(kind, language, what),
                                                 labels=[f"{language} speech", label], source="espeak-ng",
                                                 license=LICENSE, item=item, split=split_for(item)))
    return entries, {}


def festival_source(cache_dir: Path):
    """English sentences read by festival's default (male, diphone) voice."""
    out_dir = cache_dir / "rendered" / "festival"
    entries: list[ManifestEntry] = []
    for index, sentence in enumerate(SENTENCES["en"]):
        path = out_dir / f"{index:03d}.wav"
        if not path.exists():
            out_dir.mkdir(parents=True, exist_ok=True)
            subprocess.run(["text2wave", "-o", str(path)], input=sentence, text=True, check=True, capture_output=True)
        if (duration_of(path) or 0) >= MIN_SECONDS:
            item = f"festival/{index}"
            captions = speech_captions("a synthesised male voice", "English", "a sentence")
            entries.append(ManifestEntry(audio=str(path), captions=captions, labels=["English speech", "man speaking"],
                                         source="festival", license="MIT-like (festival)", item=item,
                                         split=split_for(item)))
    return entries, {}
