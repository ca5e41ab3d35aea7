"""General MIDI names (from the GM 1 specification), in plain caption words."""

# Program numbers 0-127; names reworded only where the spec's name is jargon.
PROGRAMS = [
    "acoustic grand piano", "bright acoustic piano", "electric grand piano", "honky-tonk piano",
    "electric piano", "electric piano", "harpsichord", "clavinet",
    "celesta", "glockenspiel", "music box", "vibraphone", "marimba", "xylophone", "tubular bells", "dulcimer",
    "drawbar organ", "percussive organ", "rock organ", "church organ", "reed organ", "accordion", "harmonica",
    "tango accordion",
    "nylon string acoustic guitar", "steel string acoustic guitar", "jazz electric guitar",
    "clean electric guitar", "muted electric guitar", "overdriven electric guitar",
    "distorted electric guitar", "electric guitar harmonics",
    "acoustic bass", "fingered electric bass", "picked electric bass", "fretless bass", "slap bass",
    "slap bass", "synth bass", "synth bass",
    "violin", "viola", "cello", "contrabass", "tremolo strings", "pizzicato strings", "orchestral harp",
    "timpani",
    "string ensemble", "slow string ensemble", "synth strings", "synth strings", "choir singing aah",
    "voices singing ooh", "synth voice", "orchestra hit",
    "trumpet", "trombone", "tuba", "muted trumpet", "french horn", "brass section", "synth brass",
    "synth brass",
    "soprano saxophone", "alto saxophone", "tenor saxophone", "baritone saxophone", "oboe", "english horn",
    "bassoon", "clarinet",
    "piccolo", "flute", "recorder", "pan flute", "blown bottle", "shakuhachi", "whistling", "ocarina",
    "square wave synth lead", "sawtooth synth lead", "calliope synth lead", "chiff synth lead",
    "charang synth lead", "synth voice lead", "fifths synth lead", "bass and lead synth",
    "new age synth pad", "warm synth pad", "polysynth pad", "choir synth pad", "bowed synth pad",
    "metallic synth pad", "halo synth pad", "sweep synth pad",
    "synth rain effect", "synth soundtrack effect", "synth crystal effect", "synth atmosphere effect",
    "synth brightness effect", "synth goblins effect", "synth echoes effect", "synth sci-fi effect",
    "sitar", "banjo", "shamisen", "koto", "kalimba", "bagpipe", "fiddle", "shanai",
    "tinkle bell", "agogo bells", "steel drums", "wood block", "taiko drum", "melodic tom", "synth drum",
    "reverse cymbal",
    "guitar fret noise", "breath noise", "seashore waves", "bird tweet", "telephone ring", "helicopter",
    "applause", "gunshot",
]

FAMILIES = [
    "piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble", "brass",
    "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic instrument", "percussion",
    "sound effects",
]

# Key numbers 35-81 of the GM percussion map (channel 10).
DRUMS = {
    35: "acoustic bass drum", 36: "bass drum", 37: "side stick", 38: "acoustic snare drum",
    39: "hand clap", 40: "electric snare drum", 41: "low floor tom", 42: "closed hi-hat",
    43: "high floor tom", 44: "pedal hi-hat", 45: "low tom", 46: "open hi-hat", 47: "low-mid tom",
    48: "high-mid tom", 49: "crash cymbal", 50: "high tom", 51: "ride cymbal", 52: "chinese cymbal",
    53: "ride bell", 54: "tambourine", 55: "splash cymbal", 56: "cowbell", 57: "crash cymbal",
    58: "vibraslap", 59: "ride cymbal", 60: "high bongo", 61: "low bongo", 62: "muted high conga",
    63: "open high conga", 64: "low conga", 65: "high timbale", 66: "low timbale", 67: "high agogo",
    68: "low agogo", 69: "cabasa", 70: "maracas", 71: "short whistle", 72: "long whistle",
    73: "short guiro", 74: "long guiro", 75: "claves", 76: "high wood block", 77: "low wood block",
    78: "muted cuica", 79: "open cuica", 80: "muted triangle", 81: "open triangle",
}

NOTE_NAMES = ["C", "C sharp", "D", "E flat", "E", "F", "F sharp", "G", "A flat", "A", "B flat", "B"]


def note_name(key: int) -> str:
    """MIDI key -> 'C4' style name in words ('F sharp 3')."""
    name, octave = NOTE_NAMES[key % 12], key // 12 - 1
    return f"{name}{octave}" if len(name) == 1 else f"{name} {octave}"


def register(key: int) -> str:
    """Words for how high a note is."""
    if key < 40:
        return "very low"
    if key < 55:
        return "low"
    if key < 72:
        return "middle"
    if key < 84:
        return "high"
    return "very high"


def loudness(velocity: int) -> str:
    return "soft" if velocity < 50 else "medium" if velocity < 96 else "loud"


# GS sound-effect preset names (as FluidR3_GS.sf2 spells them) -> caption words.
SFX_PRESETS = {
    "Gtr. Cut Noise": "guitar string cut noise", "Fl. Key Click": "flute key clicks", "Rain": "rain",
    "Dog": "a dog barking", "Telephone 2": "a telephone ringing", "Car-Engine": "a car engine",
    "Laughs": "people laughing", "Machine Gun": "machine gun fire", "String Slap": "a string slap",
    "Thunder": "thunder", "Horse Gallop": "a horse galloping", "Door Creaking": "a creaking door",
    "Car-Stop": "a car braking", "Screaming": "someone screaming", "Lazergun": "a laser gun",
    "Wind": "wind blowing", "Bird  2": "birds chirping", "Bird 2": "birds chirping", "Door Slam": "a door slamming",
    "Car-Pass": "a car passing by", "Punch": "a punch", "Explosion": "an explosion",
    "Stream/River": "a flowing stream", "Scratch": "a record scratch", "Car-Crash": "a car crash",
    "Heart Beat": "a heartbeat", "Bubble": "bubbling water", "Wind Chimes": "wind chimes", "Siren": "a siren",
    "Footsteps": "footsteps", "Train": "a train", "Jet Plane": "a jet plane", "StarShip": "a science-fiction starship",
    "Burst Noise": "a burst of noise",
}
