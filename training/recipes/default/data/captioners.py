"""Caption rules for sources whose file names need a special reading."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path, PurePosixPath

from . import captions as cap
from .filesource import Caption
from .languages import language_name


def spoken_language(rel: PurePosixPath, root: Path) -> Caption | None:
    """klettres / ktuberling: '<lang>/...' holds recordings of real people speaking."""
    language = language_name(rel.parts[0])
    if language is None:
        return None
    what = "a letter or syllable" if "alpha" in rel.parts or "syllab" in rel.parts else "a word"
    captions = [f"a person speaking {language}", f"someone saying {what} in {language}",
                f"{language} speech", f"a voice pronouncing {what} in {language}",
                f"a short recording of spoken {language}"]
    return Caption(captions, [f"{language} speech"])


def keyboard_key(rel: PurePosixPath, root: Path) -> Caption | None:
    """bucklespring: '<scancode>-<1 press | 0 release>.wav' of an IBM Model M keyboard."""
    action = "pressed" if rel.stem.endswith("-1") else "released"
    captions = [f"a mechanical keyboard key being {action}", "typing on a clicky keyboard",
                f"the click of a computer keyboard key {action}", "a keyboard click",
                "the sound of a buckling-spring keyboard"]
    return Caption(captions, ["keyboard typing"])


@lru_cache(maxsize=None)
def _drumkit_names(kit_dir: Path) -> dict[str, str]:
    """filename -> instrument name, from a Hydrogen drumkit.xml."""
    xml = kit_dir / "drumkit.xml"
    if not xml.exists():
        return {}
    names: dict[str, str] = {}
    for element in ET.parse(xml).getroot().iter():
        if element.tag.rsplit("}", 1)[-1] != "instrument":
            continue
        name = next((c.text for c in element if c.tag.rsplit("}", 1)[-1] == "name"), None)
        for node in element.iter():
            if node.tag.rsplit("}", 1)[-1] == "filename" and node.text and name:
                names[Path(node.text).name] = name
    return names


def drum_sample(rel: PurePosixPath, root: Path) -> Caption | None:
    """Hydrogen kits: the instrument name from drumkit.xml, else the file name."""
    name = _drumkit_names(root / rel.parts[0]).get(rel.name, rel.stem)
    words = cap.english_words()
    description = cap.describe(name, None, words) or cap.describe(rel.stem, None, words)
    if not description:
        return None
    captions = [f"a {description} hit", f"the sound of a {description}", f"{description}, drum kit sample",
                f"a drummer playing a {description}", f"a single {description} stroke"]
    return Caption(captions, [description])


def game_voice(rel: PurePosixPath, root: Path) -> Caption | None:
    """Voice lines ('voices/<Actor>/<Line>.ogg'): an actor saying the line."""
    words = cap.describe(rel.stem)
    if not words:
        return None
    captions = [f"a voice saying {words}", f"a cartoon character shouting {words}",
                f"a short voice clip: {words}", f"someone exclaiming {words}"]
    return Caption(captions, ["voice"])
