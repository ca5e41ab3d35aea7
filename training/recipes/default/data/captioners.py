"""Caption rules for sources whose file names need a special reading."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path, PurePosixPath

from . import captions as cap
from .filesource import Caption
from .languages import language_name
from .clips import item_key
from .names import DRUM_EXPANSIONS


def spoken_language(rel: PurePosixPath, root: Path) -> Caption | None:
    """klettres / ktuberling: '<lang>/...' holds recordings of real people speaking."""
    language = language_name(rel.parts[0])
    if language is None:
        return None
    action = cap.vocal_sound(cap.describe(rel.stem, None, cap.english_words()) or cap.describe(rel.stem))
    if action:  # ktuberling's "tux-laugh" is laughter, not a word
        return Caption(cap.vocal_phrasings(action), [f"person {action}"])
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


_STRUM = re.compile(r"^(?P<root>[A-G])(?P<accidental>sharp|flat)?\s*(?P<kind>[a-z0-9]*)(_(?P<way>up|down))?_\d+(wav)?$",
                    re.IGNORECASE)
_CHORD_KINDS = {"major": "major chord", "minor": "minor chord", "minro7b5": "half-diminished chord",
                "minor7b5": "half-diminished chord",
                "major7": "major seventh chord", "minor7": "minor seventh chord", "dom7": "seventh chord"}


def guitar_strum(rel: PurePosixPath) -> Caption | None:
    """belofilms_GuitarStrums: '<Root>[sharp]<kind>[_UP|_DOWN]_<n>' are strummed guitar chords."""
    match = _STRUM.match(rel.stem)
    if not match:
        return None
    accidental = f" {match['accidental']}" if match["accidental"] else ""
    name = f"{match['root']}{accidental} {_CHORD_KINDS.get(match['kind'].lower(), 'chord')}"
    chord = ("an " if match["root"] in "AEF" else "a ") + name
    stroke = {"up": "an upward strum", "down": "a downward strum"}.get((match["way"] or "").lower(), "a strum")
    captions = [f"an acoustic guitar strumming {chord}", f"{stroke} of {chord} on a guitar",
                "the sound of a strummed guitar chord", f"guitar chord, {chord}", "someone strumming a guitar"]
    # every take and stroke direction of one chord is one item
    return Caption(captions, ["acoustic guitar"], group=f"{rel.parts[0]}/{name}")


def drum_sample(rel: PurePosixPath, root: Path) -> Caption | None:
    """Hydrogen kits: the instrument name from drumkit.xml, else the file name; the strums kit by its own rule."""
    if "GuitarStrums" in rel.parts[0]:
        return guitar_strum(rel)
    name = _drumkit_names(root / rel.parts[0]).get(rel.name, rel.stem)
    return _drum_caption(name, rel)


def _drum_caption(name: str, rel: PurePosixPath) -> Caption | None:
    words = cap.english_words()
    description = cap.describe(name, DRUM_EXPANSIONS, words) or cap.describe(rel.stem, DRUM_EXPANSIONS, words)
    if not description:
        return None
    captions = [f"a {description} hit", f"the sound of a {description}", f"{description}, drum kit sample",
                f"a drummer playing a {description}", f"a single {description} stroke"]
    # all velocity layers and takes of one kit instrument are one item
    return Caption(captions, [description], group=f"{rel.parts[0]}/{item_key(name)}")


def game_voice(rel: PurePosixPath, root: Path) -> Caption | None:
    """Voice lines ('voices/<Actor>/<Line>.ogg'): an actor saying the line. Packs named
    '<Actor>_<language code>' are the same lines spoken in that language (the file name
    then gives the meaning, not the words heard), so the caption names the language."""
    action = cap.vocal_sound(cap.describe(rel.stem, None, cap.english_words()) or cap.describe(rel.stem))
    if action:  # laughter, coughs, cries are not words in any language
        return Caption(cap.vocal_phrasings(action), [f"person {action}"])
    pack = rel.parts[-2] if len(rel.parts) >= 2 else ""
    language = language_name(pack.rsplit("_", 1)[1]) if "_" in pack else None
    if language:
        captions = [f"a voice exclaiming in {language}", f"someone speaking {language}", f"{language} speech",
                    f"a cartoon character shouting in {language}"]
        return Caption(captions, [f"{language} speech"])
    words = cap.describe(rel.stem, None, cap.english_words()) or cap.describe(rel.stem)
    if not words:
        return None
    captions = cap.spoken_phrasings(words) + [f"a cartoon character shouting {words}"]
    return Caption(captions, ["speech"])


# 0 A.D. civilisation voices: folder -> the language its actors speak.
ZERO_AD_LANGUAGES = {"latin": "Latin", "greek": "Ancient Greek", "persian": "Old Persian",
                     "napatan": "an ancient African language", "celtic": "a Celtic language",
                     "iberian": "an ancient Iberian language", "carthaginian": "Punic", "hellenic": "Ancient Greek",
                     "english": "English"}


def zero_ad(rel: PurePosixPath, root: Path) -> Caption | None:
    """0ad-data: 'voice/<civ>/civ/civ_<male|female>_<order>.ogg' are acted lines; the rest by the default rule."""
    from .filesource import default_caption

    language = ZERO_AD_LANGUAGES.get(rel.parts[1]) if rel.parts[0] == "voice" and len(rel.parts) > 2 else None
    if language is None:  # everything else, including voice/global (a dog, a horse), by the default rule
        return default_caption(rel, {"civ": "", "con": "construction", "imp": "impact", "gen": ""}, "")
    stem = rel.stem.lower()
    person = "woman" if "_female" in stem else "man"
    captions = [f"a {person} speaking {language}", f"a {person}'s voice giving a short reply in {language}",
                f"speech in {language}", f"a {person} talking", f"{language} speech, {person}"]
    return Caption(captions, [f"{language} speech", f"{person} speaking"])


# freedoom's sound lumps keep Doom's codes (DS<code>); what each is for, in words.
FREEDOOM_SOUNDS = {
    "pistol": "a pistol shot", "shotgn": "a shotgun blast", "sgcock": "a shotgun being cocked",
    "dshtgn": "a double-barrelled shotgun blast", "dbopn": "a shotgun being broken open",
    "dbcls": "a shotgun snapping shut", "dbload": "shotgun shells being loaded", "sawup": "a chainsaw starting",
    "sawidl": "a chainsaw idling", "sawful": "a chainsaw revving", "sawhit": "a chainsaw cutting",
    "rlaunc": "a rocket launching", "rxplod": "an explosion", "barexp": "a barrel exploding",
    "firsht": "a fireball being thrown", "firxpl": "a fireball exploding", "plasma": "a plasma gun firing",
    "bfg": "a big energy weapon charging and firing", "pstart": "a lift starting to move", "pstop": "a lift stopping",
    "doropn": "a door opening", "dorcls": "a door closing", "bdopn": "a fast door opening",
    "bdcls": "a fast door closing", "stnmov": "stone grinding as it moves", "swtchn": "a switch clicking",
    "swtchx": "a switch clicking", "plpain": "a man grunting in pain", "oof": "a man grunting",
    "noway": "a man grunting", "pldeth": "a man screaming as he dies", "pdiehi": "a man screaming as he dies",
    "slop": "a squelching splat", "itemup": "an item being picked up", "wpnup": "a weapon being picked up",
    "getpow": "a power-up being picked up", "telept": "a teleporter whoosh", "punch": "a punch",
    "claw": "a claw swipe", "skeswg": "a swinging whoosh", "hoof": "a heavy hoof step",
    "metal": "a heavy metal footstep", "tink": "a small metallic tink", "flame": "flames burning",
    "flamst": "a burst of flame", "radio": "a radio beep",
}
_MONSTER_SUFFIXES = {"sit": "a monster growling", "act": "a monster growling", "pain": "a monster in pain",
                     "dth": "a monster dying", "atk": "a monster attacking"}


def freedoom(rel: PurePosixPath, root: Path) -> Caption | None:
    """freedoom2.wad sound lumps by code; monster codes by their suffix (sight, pain, death, attack)."""
    code = rel.stem
    described = FREEDOOM_SOUNDS.get(code)
    if described is None:
        base = code.rstrip("0123456789")
        described = next((v for k, v in _MONSTER_SUFFIXES.items() if base.endswith(k)), None)
    if described is None:
        return None
    captions = [f"the sound of {described}", described, f"a recording of {described}", f"{described}, sound effect"]
    return Caption(captions, [described])


def freepats_note(rel: PurePosixPath, root: Path) -> Caption | None:
    """freepats: ``Tone_000/<GM number>_<Instrument_Name>.wav`` (a held note near middle C) or
    ``Drum_000/<GM note>_<Drum_Name>.wav`` (one hit); both are recordings of real instruments."""
    drums = rel.parts[0].lower().startswith("drum")
    words = cap.english_words()
    name = cap.describe(rel.stem, DRUM_EXPANSIONS if drums else None, words)
    if not name:
        return None
    a = "an" if name[0] in "aeiou" else "a"
    if drums:
        captions = [f"{a} {name} hit", f"a single {name} stroke", f"the sound of {a} {name}",
                    f"a recording of {a} {name} hit", f"{name} sound effect"]
    else:
        captions = [f"a note played on {a} {name}", f"{a} {name} note", f"the sound of {a} {name}",
                    f"a recording of {a} {name} playing one note", f"a single {name} tone"]
    return Caption(captions, [name])


MUSIC_CAPTIONS = ["a piece of music", "instrumental music", "a music track",
                  "background music from a video game", "a song without words", "the sound of music"]


def music_track(rel: PurePosixPath, root: Path) -> Caption | None:
    """Whole music tracks (excerpted by the scan): the caption is that it is music; the
    track titles are names, not descriptions."""
    return Caption(list(MUSIC_CAPTIONS), ["music"], group=f"music/{rel.stem}")
