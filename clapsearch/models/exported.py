"""Model directories written by training/: config.json + model.safetensors.

The bundled default model uses the same format; its text-tower weights may come from the text
package instead of the safetensors file (config.text_weights_external).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError
from .checkpoint import clean_state_dict, load_into, read_state_dict
from .clap import Clap
from .config import ClapConfig
from .wrapper import ClapAudioTextModel

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
TEXT_DIR = "text"


def build_from_dir(path: str | Path) -> Clap:
    """The torch module stored in an exported model directory (weights loaded, eval not set)."""
    path = Path(path)
    config_path, weights_path = path / CONFIG_NAME, path / WEIGHTS_NAME
    if not config_path.is_file() or not weights_path.is_file():
        raise CheckpointError(
            f"{str(path)!r} is not a clapsearch model directory: it needs {CONFIG_NAME} and {WEIGHTS_NAME} "
            "(export one with `python -m training.export`)."
        )
    config = ClapConfig.load(config_path)
    if config.text.name_or_path.startswith("./"):  # tokenizer + text config stored alongside
        config.text.name_or_path = str(path / config.text.name_or_path[2:])
    # Text weights shipped by a package are loaded from it; otherwise they come from the file.
    module = Clap(config, load_pretrained_text=config.text_weights_external)
    state = clean_state_dict(read_state_dict(str(weights_path)))
    allowed_missing = ("caption_encoder.base.",) if config.text_weights_external else ()
    load_into(module, state, allowed_missing=allowed_missing, source=str(weights_path))
    return module


def load(arg: str, name: str | None = None, device: str | None = None) -> ClapAudioTextModel:
    module = build_from_dir(arg)
    return ClapAudioTextModel(module, name=name or arg, device=device)


def save_dir(module: Clap, path: str | Path, include_text_weights: bool = True) -> Path:
    """Write `module` as an exported model directory (the inverse of build_from_dir)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    if not include_text_weights:
        state = {k: v for k, v in state.items() if not k.startswith("caption_encoder.base.")}
    config = ClapConfig.from_json(module.config.to_json())
    config.text_weights_external = not include_text_weights
    if include_text_weights:
        # Self-contained: the tokenizer and text-model config travel with the weights.
        module.caption_encoder.tokenizer.save_pretrained(str(path / TEXT_DIR))
        module.caption_encoder.base.config.save_pretrained(str(path / TEXT_DIR))
        config.text.name_or_path = "./" + TEXT_DIR
    config.save(path / CONFIG_NAME)
    save_file(state, str(path / WEIGHTS_NAME))
    return path
