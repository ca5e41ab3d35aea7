"""The table of file-based sources: package, audio folders, caption rules.

Every entry is a package from issue 5's list or from issue 12's new sources. Folder globs are relative to
the unpacked package root (see fetch.py). Extra dictionary entries fix names
that are cryptic in that one source (mod prefixes, unit codes).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from . import captioners
from .archives import unpack_ocgs, unpack_zips
from .filesource import FileSource, default_caption
from .gus import convert_patches
from .names import DRUM_EXPANSIONS
from .wad import unpack_wad_sounds

G = "usr/share/games"
NO_EXCLUDE = r"^$"  # music sources keep their music folders
LMMS_FOLDERS = ["drums", "instruments", "misc", "basses", "stringsnpads", "beats", "effects", "bassloops", "latin"]


def _hedgewars(rel: PurePosixPath, root: Path):
    if rel.parts[0] == "voices":
        return captioners.game_voice(rel, root)
    return default_caption(rel, {})


FILE_SOURCES = [
    FileSource("sonic-pi-samples", "sonic-pi-samples", ["usr/share/sonic-pi/samples"], extra=DRUM_EXPANSIONS),
    FileSource("hydrogen-drumkits", "hydrogen-drumkits", ["usr/share/hydrogen/data/drumkits"],
               captioner=captioners.drum_sample),
    FileSource("hydrogen-drumkits-effects", "hydrogen-drumkits-effects", ["usr/share/hydrogen/data/drumkits"],
               captioner=captioners.drum_sample),
    FileSource("bucklespring-data", "bucklespring-data", ["usr/share/buckle/wav"],
               captioner=captioners.keyboard_key),
    FileSource("klettres-data", "klettres-data", ["usr/share/klettres"], captioner=captioners.spoken_language),
    FileSource("ktuberling-data", "ktuberling-data", ["usr/share/ktuberling/sounds"],
               captioner=captioners.spoken_language),
    FileSource("wordwarvi-sound", "wordwarvi-sound", ["usr/share/wordwarvi/sounds"]),
    FileSource("minetest-data", "minetest-data", [f"{G}/minetest/games/minetest_game/mods/*/sounds"],
               extra={"env": "", "xpanes": "", "carts": "cart", "tnt": "explosive", "crumbly": "gravel",
                      "choppy": "wood", "cracky": "stone", "snappy": "leaves", "dug": "dug", "node": ""}),
    FileSource("lincity-ng-data", "lincity-ng-data", [f"{G}/lincity-ng/sounds"]),
    FileSource("wesnoth-1.16-data", "wesnoth-1.16-data",
               [f"{G}/wesnoth/1.16/data/core/sounds", f"{G}/wesnoth/1.16/sounds",
                f"{G}/wesnoth/1.16/data/campaigns/*/sounds"], license="GPL-2+"),
    FileSource("hedgewars-data", "hedgewars-data", [f"{G}/hedgewars/Data/Sounds"], captioner=_hedgewars),
    FileSource("supertux-data", "supertux-data", [f"{G}/supertux2/sounds", f"{G}/supertux2/speech"]),
    FileSource("teeworlds-data", "teeworlds-data", [f"{G}/teeworlds/data/audio"]),
    FileSource("megaglest-data", "megaglest-data", [f"{G}/megaglest"], extra={"dr": "dragon rider"}),
    FileSource("tuxfootball", "tuxfootball", [f"{G}/tuxfootball/sound"], license="GPL-2+"),
    FileSource("bzflag-data", "bzflag-data", [f"{G}/bzflag"]),
    FileSource("pingus-data", "pingus-data", [f"{G}/pingus/data/sounds"], license="GPL-2+"),
    FileSource("ufoai-sound", "ufoai-sound", ["_archives/0snd.pk3"], prepare=unpack_zips("*.pk3")),
    FileSource("warzone2100-data", "warzone2100-data", ["_archives/base.wz", "_archives/mp.wz"],
               prepare=unpack_zips("*.wz")),
    FileSource("openarena-data", "openarena-data", ["_archives/*/sound"], prepare=unpack_zips("*.pk3")),
    FileSource("trigger-rally-data", "trigger-rally-data", ["_archives/*"], prepare=unpack_zips("*.zip")),
    FileSource("nexuiz-data", "nexuiz-data", ["_archives/*/sound"], prepare=unpack_zips("*.pk3"), license="GPL-2+"),
    FileSource("openclonk-data", "openclonk-data", ["_archives/Sound.ocg"], prepare=unpack_ocgs("Sound.ocg"),
               license="CC-BY-3.0"),
    FileSource("0ad-data", "0ad-data", ["_archives/public.zip/audio"], prepare=unpack_zips("public.zip"),
               captioner=captioners.zero_ad),
    FileSource("freedoom", "freedoom", ["_archives/freedoom2.wad"], prepare=unpack_wad_sounds("freedoom2.wad"),
               captioner=captioners.freedoom),
    FileSource("torcs-data", "torcs-data", [f"{G}/torcs/data/sound"]),
    FileSource("naev-data", "naev-data", ["usr/share/naev/dat/snd/sounds"]),
    FileSource("widelands-data", "widelands-data", [f"{G}/widelands/data/sound"]),
    FileSource("supertuxkart-data", "supertuxkart-data", [f"{G}/supertuxkart/data"]),
    FileSource("redeclipse-data", "redeclipse-data", [f"{G}/redeclipse/data/sounds"]),
    FileSource("flightgear-data-base", "flightgear-data-base",
               [f"{G}/flightgear/Sounds", f"{G}/flightgear/Aircraft"], extra={"mk": "", "viii": "", "tcas": ""}),
    # issue 12's new sources
    FileSource("freepats", "freepats", ["_archives/freepats"], prepare=convert_patches,
               captioner=captioners.freepats_note, license="GPL-2+ with composition exception"),
    FileSource("lmms-common", "lmms-common", [f"usr/share/lmms/samples/{f}" for f in LMMS_FOLDERS],
               extra=DRUM_EXPANSIONS),
    FileSource("warmux-data", "warmux-data", [f"{G}/warmux/sound"]),
    FileSource("boswars-data", "boswars-data", [f"{G}/boswars/sounds", f"{G}/boswars/units"],
               extra={"artil": "artillery", "bazoo": "bazooka", "apcs": "armoured vehicle"}),
    FileSource("freedroidrpg-data", "freedroidrpg-data", ["usr/share/freedroidrpg/data/sound/effects"]),
    FileSource("ri-li-data", "ri-li-data", [f"{G}/ri-li/Ri-li/Sounds"], extra={"etire": "", "jeu": "", "reduit": ""}),
    # whole music tracks: "music" must be a concept the model knows
    FileSource("nexuiz-music", "nexuiz-music", ["_archives/music.pk3"], exclude=NO_EXCLUDE,
               prepare=unpack_zips("music.pk3"), captioner=captioners.music_track, license="GPL-2+"),
    FileSource("xmoto-data", "xmoto-data", [f"{G}/xmoto/Textures/Musics"], exclude=NO_EXCLUDE,
               captioner=captioners.music_track),
    FileSource("glob2-data", "glob2-data", [f"{G}/glob2/data/zik"], exclude=NO_EXCLUDE,
               captioner=captioners.music_track),
    FileSource("warmux-music", "warmux-data", [f"{G}/warmux/music"], exclude=NO_EXCLUDE,
               captioner=captioners.music_track),
]

BY_NAME = {source.name: source for source in FILE_SOURCES}
