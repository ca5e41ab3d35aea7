"""The bundled default model (clapsearch/assets/default/): offline, no checkpoint to find.

Loading it is cheap: name, sizes, fingerprint and logit scale come from the config and the
fingerprint cache; each tower loads on first use. Text runs in ONNX Runtime (no torch, no
transformers). Audio runs in the runtime chosen (models/runtime/choice.py): ONNX Runtime int8 by
default on CPU (it holds the quality bar), ONNX Runtime fp32, or the torch audio encoder alone. `load_reference` is the plain torch
model everything here is tested against (and computes the cached values once).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ..errors import NoDefaultModelError
from .runtime.cache import export_somewhere

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets" / "default"


INT8_FILE, INT8_INFO = "audio-int8.onnx", "audio-int8.json"


def load(arg: str = "", name: str | None = None, device: str | None = None, runtime: str | None = None):
    _require_assets()
    return DefaultModel(name=name or "default", device=device, runtime=runtime)


def load_reference(name: str = "default", device: str | None = None):
    """The torch model (ClapAudioTextModel over the whole Clap module), as before the fast path."""
    _require_assets()
    from .exported import load as load_dir

    return load_dir(str(ASSET_DIR), name=name, device=device)


def _require_assets() -> None:
    if not (ASSET_DIR / "model.safetensors").is_file():
        raise NoDefaultModelError(
            "No bundled default model is installed yet; pass --model msclap-2022:PATH, "
            "hf:ORG/NAME (or hf:DIR) or the PATH of a model exported by training/."
        )


class DefaultModel:
    """The AudioTextModel of the bundled model, its towers loaded lazily (thread-safe)."""

    def __init__(self, name: str = "default", device: str | None = None, runtime: str | None = None):
        from .fingerprint_cache import cached_identity
        from .runtime.choice import DEFAULT_MODEL_RUNTIMES, DEFAULT_RUNTIME, asked_runtime, refuse_onnx
        from .text_source import resolve_text_source

        config = json.loads((ASSET_DIR / "config.json").read_text())
        self.name = name
        self.device = device
        self._asked_runtime = asked_runtime(runtime)
        refuse_onnx(self._asked_runtime, name, has=DEFAULT_MODEL_RUNTIMES)
        # Which engine embeds audio; every runtime holds the quality bar, so the fingerprint is shared.
        self.runtime = self._asked_runtime or DEFAULT_RUNTIME
        self.dim = int(config["embed_dim"])
        self.sample_rate = int(config["sample_rate"])
        self.window_seconds = float(config["window_seconds"])
        self._text_dir = Path(resolve_text_source(config["text"]["name_or_path"]))
        self._max_length = int(config["text"]["max_length"])
        self._lock = threading.Lock()
        self._reference = None
        self._text = None
        self._audio = None
        files = [ASSET_DIR / "config.json", ASSET_DIR / "model.safetensors", self._text_dir / "config.json",
                 self._text_dir / "model.safetensors", self._text_dir / "tokenizer.json"]
        identity = cached_identity("default", files, self._reference_identity)
        self.fingerprint = identity["fingerprint"]
        self.logit_scale = float(identity["logit_scale"])

    # ---- the torch reference, loaded only to compute what the caches lack ----------------------
    def reference(self):
        if self._reference is None:
            self._reference = load_reference(self.name, device="cpu")
        return self._reference

    def _reference_identity(self) -> dict:
        reference = self.reference()
        return {"fingerprint": reference.fingerprint, "logit_scale": reference.logit_scale}

    # ---- text: tokenizers + ONNX Runtime ---------------------------------------------------------
    def _text_tower(self):
        with self._lock:
            if self._text is None:
                from .runtime.text_onnx import OnnxTextTower, export_text_tower, onnx_path

                path = onnx_path(self.fingerprint)
                if not path.is_file():
                    path = export_somewhere(self.reference().module, path, export_text_tower)
                    self._reference = None  # exported: the torch text tower is not needed any more
                self._text = OnnxTextTower(path, self._text_dir / "tokenizer.json", self._max_length)
        return self._text

    def embed_text(self, texts: list[str]):
        """(B, dim) float32 numpy array, L2-normalised."""
        return self._text_tower().embed(list(texts))

    # ---- audio: ONNX Runtime (fp32 or int8) or the torch audio encoder ------------------------
    def _audio_encoder(self):
        with self._lock:
            if self._audio is None:
                self._audio = self._build_audio()
        return self._audio

    def _build_audio(self):
        import torch

        on_gpu = self.device != "cpu" if self.device else torch.cuda.is_available()
        if self._asked_runtime is None and on_gpu:
            self.runtime = "torch"  # a GPU beats the CPU-only ONNX towers; an explicit choice still wins
        if self.runtime == "torch":
            return _build_audio_encoder(self.device)
        from .aisfx import LogMelFrontEnd
        from .runtime.audio_onnx import OnnxAudioTower, export_audio_tower, fp32_path

        if self.runtime == "onnx-int8":
            path = self._int8_path()
        else:
            path = fp32_path(self.fingerprint)
            if not path.is_file():
                path = export_somewhere(_build_audio_encoder("cpu")[0], path, export_audio_tower)
        # The front end has no learned weights: the ONNX path needs none of the torch encoder's.
        return OnnxAudioTower(path, LogMelFrontEnd()), None

    def _int8_path(self) -> Path:
        """The shipped int8 tower, refused when it was quantised from other weights than these."""
        from ..errors import RuntimeChoiceError

        info_file = ASSET_DIR / INT8_INFO
        made_from = json.loads(info_file.read_text())["fingerprint"] if info_file.is_file() else None
        if made_from != self.fingerprint:
            raise RuntimeChoiceError(
                "The bundled int8 audio tower is missing or was quantised from other weights than this "
                "default model; run `python -m training.recipes.default.quantize` or use --runtime onnx.")
        return ASSET_DIR / INT8_FILE

    def embed_audio(self, waves):
        import torch
        from torch.nn import functional as F

        encoder, device = self._audio_encoder()
        if device is None:  # an ONNX tower
            return torch.from_numpy(encoder.embed(waves))
        with torch.inference_mode():
            waves = torch.as_tensor(waves, dtype=torch.float32).to(device)
            return F.normalize(encoder(waves).float(), dim=-1).cpu()

    def __repr__(self) -> str:
        return (f"<DefaultModel {self.name} dim={self.dim} {self.sample_rate} Hz {self.window_seconds} s "
                f"runtime={self.runtime}>")


def _build_audio_encoder(device: str | None):
    """The Clap module's audio_encoder alone, with the bundled weights, in eval mode."""
    from safetensors.torch import load_file

    from .checkpoint import clean_state_dict, load_into
    from .clap import AudioEncoder
    from .config import ClapConfig
    from .towers import build_audio_tower
    from .wrapper import pick_device

    config = ClapConfig.load(ASSET_DIR / "config.json")
    encoder = AudioEncoder(build_audio_tower(config.audio.kind, config.audio.params), config.embed_dim,
                           config.projection_dropout)
    prefix = "audio_encoder."
    state = {k[len(prefix):]: v for k, v in clean_state_dict(load_file(str(ASSET_DIR / "model.safetensors"))).items()
             if k.startswith(prefix)}
    load_into(encoder, state, source=str(ASSET_DIR / "model.safetensors"))
    device = pick_device(device)
    return encoder.eval().to(device), device
