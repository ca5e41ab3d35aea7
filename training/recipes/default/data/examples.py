"""The bundled examples/: a few real recordings held out of training.

Each example is one file of an allowed source, picked among validation items
(the dog bark is the one exception: it is the only dog recording in the
sources, and its item hashed to train, so it was moved out of training);
every clip of its item gets split "test" in the manifests, so the trained
model has never seen it (nor its numbered variants). `write_examples` copies
(or trims / re-encodes, as noted) the files into the repository's examples/.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .clips import item_key


@dataclass(frozen=True)
class Example:
    name: str  # file name in examples/
    source: str  # package
    path: str  # path inside the unpacked package (as in the manifest item)
    query: str  # the walk-through query it should answer
    excerpt: tuple[float, float] | None = None  # seconds kept, when the original is long
    reencode: bool = False  # to Ogg Vorbis, when the original is large (96 kHz FLAC)
    group: str | None = None  # the item, where the source's captioner groups takes itself (drum kits)

    @property
    def item(self) -> str:
        return f"{self.source}/{self.group or item_key(self.path)}"


ZERO_AD = "_archives/public.zip/audio"
EXAMPLES = [
    Example("dog_bark.ogg", "0ad-data", f"{ZERO_AD}/voice/global/civ_dog_bark.ogg", "dog barking"),
    Example("rain.ogg", "0ad-data", f"{ZERO_AD}/ambient/weather/rain_11.ogg", "rain", excerpt=(20.0, 30.0)),
    Example("car_engine.ogg", "supertuxkart-data", "usr/share/games/supertuxkart/data/sfx/engine_small.ogg",
            "a car engine running"),
    Example("snare_drum.aiff", "hydrogen-drumkits", "usr/share/hydrogen/data/drumkits/BJA_Pacific/SN4_01.aiff",
            "a snare drum hit", group="BJA_Pacific/Snare Dry"),
    Example("guitar_chord.ogg", "hydrogen-drumkits-effects",
            "usr/share/hydrogen/data/drumkits/belofilms_GuitarStrums/Dmajor_00.flac", "a guitar chord",
            reencode=True, group="belofilms_GuitarStrums/D major chord"),
    Example("man_speaking_latin.ogg", "0ad-data", f"{ZERO_AD}/voice/latin/civ/civ_male_march_1.ogg",
            "a man speaking"),
    Example("horse.ogg", "0ad-data", f"{ZERO_AD}/actor/fauna/animal/horse_idle1.ogg", "a horse"),
]

TEST_ITEMS = frozenset(example.item for example in EXAMPLES)


def write_examples(cache_dir: Path, target: Path) -> list[Path]:
    """Copy the examples from the unpacked packages into target (examples/)."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for example in EXAMPLES:
        original = cache_dir / "pkgs" / example.source / example.path
        out = target / example.name
        if example.excerpt or example.reencode:
            trim = ["-ss", str(example.excerpt[0]), "-to", str(example.excerpt[1])] if example.excerpt else []
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(original), *trim,
                            "-ar", "44100", "-c:a", "libvorbis", "-q:a", "4", str(out)], check=True)
        else:
            shutil.copyfile(original, out)
        written.append(out)
    return written
