"""Render General MIDI soundfonts into captioned clips with tinysoundfont.

For every soundfont and every GM program: single notes at several pitches
(spread over the program's useful range), two loudnesses (velocity 40 "soft",
110 "loud") and two lengths (0.4 s and 1.5 s held, plus release tail), and a
few chords. Variation presets (banks 1-127: GS sound effects such as "Dog",
"Rain", "Siren", and instrument variants such as "Church Bell") at a few
pitches, loudnesses and lengths, captioned from the preset name (sound
effects through the hand-written gm.SFX_PRESETS). For every drum kit the
font has (bank 128) and every GM drum note 35-81: several velocities. Clips are mono 16-bit FLAC at 32 kHz.
Item = font + program (or font + kit + drum note), so one program's renders
of one font stay on one side of the split; other fonts' renders of the same
program are different recordings.
"""

from __future__ import annotations

from pathlib import Path

from training.data.manifest import ManifestEntry

from . import gm
from .captions import describe
from .fetch import unpack
from .split import split_for

RATE = 32000
TAIL_SECONDS = 0.8
VELOCITIES = (40, 110)
LENGTHS = (0.4, 1.5)
DRUM_VELOCITIES = (30, 60, 90, 115, 127)
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40, 48)
CHORDS = {"major chord": (0, 4, 7), "minor chord": (0, 3, 7)}
FONTS = {
    "fluid-soundfont-gm": ("usr/share/sounds/sf2/FluidR3_GM.sf2", "MIT"),
    "fluid-soundfont-gs": ("usr/share/sounds/sf2/FluidR3_GS.sf2", "MIT"),
    "timgm6mb-soundfont": ("usr/share/sounds/sf2/TimGM6mb.sf2", "GPL-2"),
}


def pitches_for(program: int) -> list[int]:
    """Four keys in a range that suits the instrument family."""
    family = program // 8
    if family == 4:  # bass
        return [28, 35, 40, 47]
    if program in range(112, 128) or family == 14:  # percussive and sound effects: around the sample's own pitch
        return [48, 55, 60, 67]
    if program in (42, 43, 57, 58, 70):  # cello, contrabass, trombone, tuba, bassoon
        return [36, 43, 48, 55]
    return [48, 60, 67, 76]


def render(synth, keys: list[int], velocity: int, held: float, channel: int = 0):
    import numpy as np

    for key in keys:
        synth.noteon(channel, key, velocity)
    on = np.frombuffer(synth.generate(int(held * RATE)), dtype=np.float32).copy()
    for key in keys:
        synth.noteoff(channel, key)
    off = np.frombuffer(synth.generate(int(TAIL_SECONDS * RATE)), dtype=np.float32).copy()
    stereo = np.concatenate([on, off]).reshape(-1, 2)
    synth.notes_off()
    synth.generate(int(0.2 * RATE))  # let voices die so clips do not bleed into each other
    return stereo.mean(axis=1)


def write_clip(path: Path, audio) -> bool:
    """Write a clip unless it is silent (a preset without samples there); True if written."""
    import numpy as np
    import soundfile

    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak < 1e-4:
        return False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), np.clip(audio / max(peak, 1.0), -1, 1), RATE, subtype="PCM_16")
    return True


def note_captions(instrument: str, family: str, key: int, velocity: int, held: float) -> list[str]:
    loud, where, name = gm.loudness(velocity), gm.register(key), gm.note_name(key)
    length = "short" if held < 1 else "long"
    adverb = {"soft": "softly", "medium": "", "loud": "loudly"}[loud]
    return [f"a {where} {name} note played {adverb} on a {instrument}".replace("  ", " "),
            f"a {length} {loud} {instrument} note", f"the sound of a {instrument}",
            f"{instrument}, {family}, {where} pitch", f"a single {instrument} note, {name}"]


def chord_captions(instrument: str, chord: str, key: int) -> list[str]:
    name = gm.note_name(key).rstrip("0123456789 -")
    return [f"a {instrument} playing a {name} {chord}", f"a {chord} on the {instrument}",
            f"the sound of a {instrument} chord", f"{instrument} chord"]


def drum_captions(drum: str, velocity: int, kit: str) -> list[str]:
    loud = gm.loudness(velocity)
    return [f"a {loud} {drum} hit", f"the sound of a {drum}", f"a single {drum} stroke from a {kit} drum kit",
            f"{drum}, percussion", f"a drummer hitting a {drum}"]


KIT_NAMES = {0: "standard", 8: "room", 16: "power", 24: "electronic", 25: "TR-808", 32: "jazz", 40: "brush",
             48: "orchestra"}


def _entry(path: Path, captions: list[str], labels: list[str], source: str, license_name: str, item: str):
    return ManifestEntry(audio=str(path), captions=captions, labels=labels, source=source, license=license_name,
                         item=item, split=split_for(item))


def _notes(synth, font_id, out: Path, source: str, license_name: str, entries: list) -> None:
    for program in range(128):
        if synth.sfpreset_name(font_id, 0, program) is None:
            continue
        synth.program_select(0, font_id, 0, program)
        instrument, family = gm.PROGRAMS[program], gm.FAMILIES[program // 8]
        item = f"{source}/program-{program}"
        for key in pitches_for(program):
            for velocity in VELOCITIES:
                for held in LENGTHS:
                    path = out / f"p{program:03d}/k{key}_v{velocity}_l{held}.flac"
                    if path.exists() or write_clip(path, render(synth, [key], velocity, held)):
                        entries.append(_entry(path, note_captions(instrument, family, key, velocity, held),
                                              [instrument], source, license_name, item))
        if program < 112:  # chords for pitched instruments only
            for chord, steps in CHORDS.items():
                key = pitches_for(program)[1]
                path = out / f"p{program:03d}/chord_{chord.split()[0]}_{key}.flac"
                if path.exists() or write_clip(path, render(synth, [key + s for s in steps], 90, 1.5)):
                    entries.append(_entry(path, chord_captions(instrument, chord, key), [instrument],
                                          source, license_name, item))


def _drums(synth, font_id, out: Path, source: str, license_name: str, entries: list) -> None:
    for kit in DRUM_KITS:
        if synth.sfpreset_name(font_id, 128, kit) is None:
            continue
        synth.program_select(9, font_id, 128, kit, True)
        for note, drum in gm.DRUMS.items():
            item = f"{source}/kit-{kit}/note-{note}"
            for velocity in DRUM_VELOCITIES:
                path = out / f"drums{kit:03d}/n{note}_v{velocity}.flac"
                if path.exists() or write_clip(path, render(synth, [note], velocity, 0.3, channel=9)):
                    entries.append(_entry(path, drum_captions(drum, velocity, KIT_NAMES[kit]), [drum],
                                          source, license_name, item))


SFX_KEYS = (55, 60, 65)
SFX_VELOCITIES = (70, 120)
SFX_LENGTHS = (1.0, 3.0)


def _variations(synth, font_id, out: Path, source: str, license_name: str, entries: list) -> None:
    """Presets in banks 1-127 (GS variations): sound effects by gm.SFX_PRESETS, the rest as instruments."""
    for bank in range(1, 128):
        for program in range(128):
            preset = synth.sfpreset_name(font_id, bank, program)
            if preset is None:
                continue
            synth.program_select(0, font_id, bank, program)
            item = f"{source}/bank-{bank}/program-{program}"
            effect = gm.SFX_PRESETS.get(preset.strip())
            if effect:
                _render_effect(synth, out / f"b{bank:03d}p{program:03d}", effect, item, source, license_name, entries)
            else:
                instrument = describe(preset) or gm.PROGRAMS[program]
                _render_instrument(synth, out / f"b{bank:03d}p{program:03d}", instrument, program, item, source,
                                   license_name, entries)


def _render_effect(synth, folder: Path, effect: str, item: str, source: str, license_name: str, entries) -> None:
    for key in SFX_KEYS:
        for velocity in SFX_VELOCITIES:
            for held in SFX_LENGTHS:
                path = folder / f"k{key}_v{velocity}_l{held}.flac"
                if path.exists() or write_clip(path, render(synth, [key], velocity, held)):
                    captions = [f"the sound of {effect}", effect, f"a recording of {effect}",
                                f"{effect}, sound effect", f"a {gm.loudness(velocity)} sound of {effect}"]
                    entries.append(_entry(path, captions, [effect], source, license_name, item))


def _render_instrument(synth, folder: Path, instrument: str, program: int, item: str, source: str,
                       license_name: str, entries) -> None:
    family = gm.FAMILIES[program // 8]
    for key in pitches_for(program):
        for velocity in VELOCITIES:
            path = folder / f"k{key}_v{velocity}.flac"
            if path.exists() or write_clip(path, render(synth, [key], velocity, 1.5)):
                entries.append(_entry(path, note_captions(instrument, family, key, velocity, 1.5), [instrument],
                                      source, license_name, item))


def render_font(cache_dir: Path, package: str):
    """Render one soundfont package; returns (entries, stats)."""
    import tinysoundfont

    relative, license_name = FONTS[package]
    font_path = unpack(cache_dir, package) / relative
    synth = tinysoundfont.Synth(samplerate=RATE)
    font_id = synth.sfload(str(font_path))
    out = cache_dir / "rendered" / package
    entries: list[ManifestEntry] = []
    _notes(synth, font_id, out, package, license_name, entries)
    _variations(synth, font_id, out, package, license_name, entries)
    _drums(synth, font_id, out, package, license_name, entries)
    return entries, {}
