"""Microsoft CLAP checkpoints (`msclap-2022:PATH`, `msclap-2023:PATH`) loaded into our own Clap module.

The checkpoint holds every weight, the text tower's included, so only the text model's
*config and tokenizer* are needed besides it. They come from, in this order:

    msclap-2022:/ckpt/CLAP_weights_2022.pth?text=/models/bert-base-uncased   (a suffix)
    CLAPSEARCH_TEXT_MODEL=/models/bert-base-uncased                           (an env var)
    the hub name "bert-base-uncased"                            (needs network or the hub cache)

The file is read with torch.load(weights_only=True); one that needs arbitrary unpickling is
refused. Differences from the reference wrapper, on purpose: fixed 5 s (2022) / 7 s (2023)
windows (the caller windows the audio; no random crops), texts truncated to 100 / 77 tokens
(keeping GPT-2's end-of-text token), CPU or CUDA.
"""

from __future__ import annotations

import logging
import os
import re

from ..errors import CheckpointError
from .config import AudioTowerConfig, ClapConfig, TextTowerConfig

log = logging.getLogger(__name__)

TEXT_ENV = "CLAPSEARCH_TEXT_MODEL"
TEXT_SUFFIX = "?text="

# Keys the checkpoint may hold that our module does not: transformers versions disagree on
# these buffers, and the values are recomputed anyway.
ALLOWED_UNEXPECTED = ("caption_encoder.base.embeddings.position_ids", "caption_encoder.base.embeddings.token_type_ids")
# Older transformers saved GPT-2's causal-mask buffers (h.N.attn.bias / masked_bias) in the state dict.
GPT2_MASK_BUFFER = re.compile(r"^caption_encoder\.base\.h\.\d+\.attn\.(bias|masked_bias)$")


def config_2022(text_source: str = "bert-base-uncased") -> ClapConfig:
    """The released 2022 model: CNN14 (44.1 kHz, 1024/320, 64 mels, 50-14000 Hz) + BERT [CLS], d = 1024."""
    return ClapConfig(
        audio=AudioTowerConfig(kind="cnn14", params={}),  # the paper's defaults
        text=TextTowerConfig(kind="hf", name_or_path=text_source, pooling="cls", max_length=100),
        embed_dim=1024,
        sample_rate=44100,
        window_seconds=5.0,
        projection_dropout=0.5,
        name="msclap-2022",
    )


def config_2023(text_source: str = "gpt2") -> ClapConfig:
    """The released 2023 model: HTSAT-tiny (768-d) + GPT-2 end-of-text token, 7 s at 44.1 kHz, d = 1024."""
    return ClapConfig(
        audio=AudioTowerConfig(kind="htsat", params={}),  # the reference's HTSAT-tiny defaults
        text=TextTowerConfig(kind="hf", name_or_path=text_source, pooling="eos", max_length=77,
                             # as the reference: pad with '!' (id 0), append " <|endoftext|>"
                             params={"pad_token": "!", "append_eos": True, "eos_separator": " "}),
        embed_dim=1024,
        sample_rate=44100,
        window_seconds=7.0,
        projection_dropout=0.5,
        name="msclap-2023",
    )


def split_text_source(arg: str, default: str) -> tuple[str, str]:
    """'CKPT?text=DIR' -> (CKPT, DIR); otherwise (arg, $CLAPSEARCH_TEXT_MODEL or default)."""
    if TEXT_SUFFIX in arg:
        path, _, text = arg.rpartition(TEXT_SUFFIX)
        return path, text
    return arg, os.environ.get(TEXT_ENV) or default


def read_ms_state_dict(path: str) -> dict:
    """The model weights of an MS checkpoint ({'model': state_dict, ...}) or of a bare state dict."""
    from .checkpoint import clean_state_dict, read_state_dict

    state = read_state_dict(path)
    if "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    return clean_state_dict(state)


def build_module(config: ClapConfig, variant: str):
    """Our Clap module for `config`, with the text tower built from config + tokenizer only."""
    from .clap import Clap

    try:
        return Clap(config, load_pretrained_text=False)  # the checkpoint carries the text weights
    except CheckpointError as exc:
        raise CheckpointError(
            f"The {variant} text tokenizer and config {config.text.name_or_path!r} cannot be loaded "
            f"(offline?); pass a local copy as {variant}:CHECKPOINT{TEXT_SUFFIX}DIR or set {TEXT_ENV}=DIR."
        ) from exc


def load_state_into(module, state: dict, path: str):
    from .checkpoint import load_into

    report = load_into(module, state, allowed_unexpected=ALLOWED_UNEXPECTED, source=repr(path))
    if report.missing or report.unexpected:
        log.info("Loaded %s with %s: missing %s, unexpected %s", path, report, report.missing, report.unexpected)
    return report


def load_2022(arg: str, name: str | None = None, device: str | None = None):
    """`msclap-2022:PATH[?text=DIR]` -> an AudioTextModel (ClapAudioTextModel)."""
    from .wrapper import ClapAudioTextModel

    path, text_source = split_text_source(arg, "bert-base-uncased")
    if not os.path.isfile(path):
        raise CheckpointError(f"MS CLAP checkpoint {path!r} does not exist; give the path of CLAP_weights_2022.pth.")
    state = read_ms_state_dict(path)  # first: a refused or damaged file fails before any model is built
    module = build_module(config_2022(text_source), "msclap-2022")
    report = load_state_into(module, state, path)
    model = ClapAudioTextModel(module, name=name or f"msclap-2022:{arg}", device=device)
    model.load_report = report  # missing / unexpected keys, for `clapsearch models` and tests
    return model


def load_2023(arg: str, name: str | None = None, device: str | None = None):
    """`msclap-2023:PATH[?text=DIR]` -> an AudioTextModel; HTSAT names are remapped to transformers'."""
    from .htsat import remap_ms_htsat
    from .wrapper import ClapAudioTextModel

    path, text_source = split_text_source(arg, "gpt2")
    if not os.path.isfile(path):
        raise CheckpointError(f"MS CLAP checkpoint {path!r} does not exist; give the path of CLAP_weights_2023.pth.")
    state = remap_ms_htsat(read_ms_state_dict(path))
    state = {k: v for k, v in state.items() if not GPT2_MASK_BUFFER.match(k)}
    module = build_module(config_2023(text_source), "msclap-2023")
    report = load_state_into(module, state, path)
    model = ClapAudioTextModel(module, name=name or f"msclap-2023:{arg}", device=device)
    model.load_report = report
    return model
