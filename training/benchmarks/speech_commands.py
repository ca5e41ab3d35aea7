"""Speech Commands v2 (Warden 2018): 105,829 one-second utterances of 35 keywords.

Layout as distributed (speech_commands_v0.02.tar.gz): `<keyword>/<speaker hash>_nohash_<n>.wav`,
`validation_list.txt` and `testing_list.txt` (one `<keyword>/<file>.wav` per line; every other file
is training), and `_background_noise_/` (not a keyword; ignored). The prompt is the keyword itself.
"""

from __future__ import annotations

from pathlib import Path

from .base import KEYWORD_PROMPT, SINGLE_LABEL, DatasetLayoutError, Example, Task, audio_files, check_split

WHAT = "Speech Commands v2"
KEYWORDS = ("backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow", "forward", "four", "go",
            "happy", "house", "learn", "left", "marvin", "nine", "no", "off", "on", "one", "right", "seven",
            "sheila", "six", "stop", "three", "tree", "two", "up", "visual", "wow", "yes", "zero")
SPLITS = ("train", "validation", "test")


def read_list(path: Path) -> set[str]:
    if not path.is_file():
        raise DatasetLayoutError(f"{WHAT}: no {path.name} in {path.parent}; point --data at the extracted speech_commands_v0.02.")
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def load(data_dir, split: str | None = None) -> list[Example]:
    check_split(split, SPLITS, WHAT)
    root = Path(data_dir)
    validation, testing = read_list(root / "validation_list.txt"), read_list(root / "testing_list.txt")
    present = [word for word in KEYWORDS if (root / word).is_dir()]
    if not present:
        raise DatasetLayoutError(f"{WHAT}: no keyword folders (yes/, no/, ...) under {root}.")
    examples = []
    for word in present:
        for path in audio_files(root / word):
            relative = f"{word}/{path.name}"
            name = "test" if relative in testing else "validation" if relative in validation else "train"
            examples.append(Example(str(path.resolve()), (word,), name))
    return [e for e in examples if split is None or e.fold == split]


TASK = Task(
    name="speech-commands",
    title="Speech Commands V2",
    kind=SINGLE_LABEL,
    load=load,
    classes=KEYWORDS,
    prompt=KEYWORD_PROMPT,
    protocol="splits",
    train_split="train",
    test_split="test",
    folds_note="the dataset's split (validation_list.txt, testing_list.txt; the rest trains)",
    default_dirs=("speech_commands_v0.02", "speech_commands", "SpeechCommands"),
)
