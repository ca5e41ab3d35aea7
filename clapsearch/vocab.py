"""Label lists: the built-in vocabularies and the `--labels` argument (A,B,C or a file)."""

from __future__ import annotations

import json
import os
from importlib import resources

from .errors import ClapsearchError

BUILTIN = {
    "audioset": "audioset_class_labels_indices.json",
    "fsd50k": "FSD50k_class_labels_indices.json",
    "vggsound": "VGGSound_class_labels_indices.json",
    "esc50": "ESC50_class_labels_indices_space.json",
    "urbansound8k": "UrbanSound8K_class_labels_indices.json",
    "gtzan": "GTZAN_class_labels.json",
}
DEFAULT_VOCABULARY = "audioset"


def builtin_labels(name: str = DEFAULT_VOCABULARY) -> list[str]:
    """The class names of a built-in vocabulary, in their index order (AudioSet: 527 names)."""
    if name not in BUILTIN:
        raise ClapsearchError(f"Unknown vocabulary {name!r}; choose one of {', '.join(BUILTIN)}.")
    text = resources.files("clapsearch").joinpath("assets", "labels", BUILTIN[name]).read_text("utf-8")
    return [label for label, _ in sorted(json.loads(text).items(), key=lambda item: item[1])]


def parse_labels(value: str) -> list[str]:
    """`--labels` as given: the path of a file with one label per line, else a comma-separated list."""
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            labels = [line.strip() for line in f]
    else:
        labels = [part.strip() for part in value.split(",")]
    labels = list(dict.fromkeys(label for label in labels if label))  # drop blanks and repeats, keep order
    if not labels:
        raise ClapsearchError(f"No labels found in {value!r}; give A,B,C or a file with one label per line.")
    return labels
