"""The bundled default model (clapsearch/assets/default/): offline, no checkpoint to find."""

from __future__ import annotations

from pathlib import Path

from ..errors import NoDefaultModelError

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets" / "default"


def load(arg: str = "", name: str | None = None, device: str | None = None):
    if not (ASSET_DIR / "model.safetensors").is_file():
        raise NoDefaultModelError(
            "No bundled default model is installed yet; pass --model msclap-2022:PATH, "
            "hf:ORG/NAME (or hf:DIR) or the PATH of a model exported by training/."
        )
    from .exported import load as load_dir

    return load_dir(str(ASSET_DIR), name=name or "default", device=device)
