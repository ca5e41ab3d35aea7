"""Hand-written word tables for turning file names into captions.

EXPANSIONS maps a cryptic token (an abbreviation or a game-specific code seen
in the sources' file names) to plain words; an empty string drops the token.
STOPWORDS are tokens that say nothing about the sound (container words,
format words, game jargon). Both are applied after lower-casing.
"""

EXPANSIONS = {
    # unambiguous drum and instrument codes
    "bd": "bass drum", "kik": "kick drum", "sd": "snare drum", "snr": "snare drum", "hh": "hi-hat",
    "hihat": "hi-hat", "crsh": "crash cymbal", "cym": "cymbal", "perc": "percussion", "clp": "hand clap",
    "rimshot": "rim shot", "sidestick": "side stick", "tamb": "tambourine", "elec": "electronic",
    "ambi": "ambient", "guit": "guitar", "gtr": "guitar", "vox": "voice", "voxy": "voice-like", "misc": "",
    "tabla": "tabla", "woodblock": "wood block", "808": "808 drum machine", "loop": "loop",
    # weapons and games
    "wp": "weapon", "sfx": "", "snd": "", "vo": "voice", "foley": "", "expl": "explosion",
    "explo": "explosion", "explosn": "explosion", "shotty": "shotgun", "shotgn": "shotgun",
    "amb": "ambience", "env": "", "ftstep": "footstep", "ftsteps": "footsteps",
    "footstep": "footstep", "ack": "acknowledging", "dr": "dragon rider", "mg": "machine gun",
    "hmg": "heavy machine gun", "ricochet": "ricochet", "rico": "ricochet",
    # spelling seen in names
    "trafic": "traffic", "windmill": "windmill", "woosh": "whoosh", "refwhistle": "referee whistle",
    "ref": "referee", "crowdooh": "crowd ooh", "crowdboo": "crowd booing", "crowdcheer": "crowd cheering",
    "letsgo": "let's go", "goodidea": "good idea", "ohno": "oh no", "yipee": "yippee",
    "metalbang": "metal bang", "bodyslam": "body slam", "woohoo": "woohoo",
    # cryptic game names (ufoai, openarena, warzone2100, megaglest, openclonk)
    "civfemscream": "woman screaming", "civfemdeath": "woman dying", "civmaledeath": "man dying",
    "femaledeath": "woman dying", "maledeath": "man dying", "archmage": "wizard", "battlemage": "wizard",
    "pkup": "pickup", "radclik": "radio click", "machgf": "machine gun fire", "vulcanf": "gatling gun fire",
    "telein": "teleporter", "teleout": "teleporter", "tkethat": "take that", "wanadie": "wanna die",
    "hadenuf": "had enough", "cmgetit": "come get it", "gmeover": "game over", "surprse": "surprise",
    "nedpowr": "need power", "wntmore": "want more", "richet": "ricochet", "freroar": "fire roar",
    "hevlsr": "heavy laser", "plasflm": "plasma flamer", "watr": "water", "gurp": "gurgle",
    "mehackit": "", "clonk": "person", "steampunk": "", "adventurer": "", "wipf": "small animal",
    "teleport": "teleport", "megahealth": "health pickup", "ammoregen": "ammo regeneration",
    "gaussgun": "gauss gun", "mgheavy": "heavy machine gun", "hovmove": "hovercraft moving",
    "vtolland": "aircraft landing", "bldfall": "building collapse", "curnt": "water current",
    "hithi": "hit", "hitlo": "hit", "buletby": "bullet flyby", "fstatck": "fist attack", "noammo": "no ammo",
    "hmm": "hmm", "hm": "hmm", "ow": "ow", "ah": "ah", "uh": "uh", "oh": "oh",
}

# Adjacent tokens that name one thing once joined ("Hi","Hat" -> "hihat").
JOINS = {("hi", "hat"): "hihat", ("hi", "hats"): "hihat", ("high", "hat"): "hihat", ("wood", "block"): "woodblock",
         ("cow", "bell"): "cowbell", ("foot", "step"): "footstep", ("foot", "steps"): "footsteps"}

# Only where a source is known to be drum samples (Hydrogen kits, sonic-pi):
# there "kick" is a kick drum and "crash" a cymbal; in a game they are not.
DRUM_EXPANSIONS = {
    "kick": "kick drum", "sn": "snare drum", "oh": "open hi-hat", "ch": "closed hi-hat", "tm": "tom",
    "tom": "tom drum", "toms": "tom drums", "cb": "cowbell", "crash": "crash cymbal", "rd": "ride cymbal",
    "ride": "ride cymbal", "clap": "hand clap", "rim": "rim shot", "tomh": "high tom drum", "toml": "low tom drum",
    "bl": "ride cymbal bell",
}

STOPWORDS = {
    "sound", "sounds", "snd", "sfx", "fx", "audio", "data", "wav", "ogg", "flac", "sample",
    "samples", "usr", "share", "games", "game", "the", "of", "and", "mono", "stereo", "mix",
    "monomix", "final", "new", "old", "copy", "edit", "version", "ver", "mods", "mod", "default",
    "base", "common", "commondata", "techs", "megapack", "factions", "units", "unit", "tilesets",
    "core", "campaigns", "file", "files", "take", "alt", "var", "variant", "short", "long",
    "lo", "hi", "low", "high", "mid", "med", "left", "right", "teefault", "main", "test",
    "dtox", "tmp", "ocg", "ocd", "x", "y", "z", "lr", "rl", "st", "nd", "rd", "th", "ld", "v",
}

# "low"/"high" are stopwords on their own but are kept when they qualify a
# pitch-bearing word, because they then describe the sound ("low tom").
PITCH_WORDS = {"tom", "tom drum", "kick drum", "bass drum", "conga", "bongo", "timbale",
               "agogo", "wood block", "drone", "hum", "beep", "bell", "whistle"}

# Non-speech vocal sounds: a voice clip whose name holds one of these is a person
# making that sound, not saying the word ("Laugh.ogg" is laughter).
VOCALISATIONS = {
    "laugh": "laughing", "laughter": "laughing", "laughing": "laughing", "cough": "coughing",
    "coughing": "coughing", "scream": "screaming", "screaming": "screaming", "yawn": "yawning",
    "snore": "snoring", "snoring": "snoring", "sneeze": "sneezing", "sigh": "sighing", "grunt": "grunting",
    "gasp": "gasping", "groan": "groaning", "moan": "moaning", "cry": "crying", "burp": "burping",
    "hiccup": "hiccuping", "kiss": "kissing", "whistle": "whistling", "hum": "humming", "pain": "crying out in pain",
    "hurt": "crying out in pain", "ouch": "crying out in pain", "ooff": "crying out in pain",
    "die": "crying out as they die", "death": "crying out as they die", "drown": "choking under water",
}
