"""Silence the libraries' own progress bars and chatter: clapsearch shows its own progress.

transformers prints a "Loading weights" bar for every from_pretrained, and huggingface_hub one per
downloaded file; from the CLI and the Python API alike they are noise around our own output.
"""

from __future__ import annotations

import os


def quiet_transformers() -> None:
    """Call before loading anything with transformers (cheap after the first call)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()
