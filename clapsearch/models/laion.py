"""LAION-CLAP through transformers' ClapModel: `hf:laion/clap-htsat-unfused` or `hf:/local/dir`.

Fixes the reference pipeline's non-determinism: the caller hands over exactly one 10 s window
per item, so nothing is ever cropped at random; the truncation mode follows the model (fusion
models get their 4-channel input, unfused ones the single mel) instead of the preprocessor's
default; and `is_longer` is always False, where the extractor would flag a random clip in a
batch of short ones. The log-mel input is computed in torch for the whole batch
(laion_features.py), matching the feature extractor's within 1e-4 dB at a fraction of its cost.

The audio path runs in torch float32 (the reference, and the default on a GPU); or in torch with
its Linear layers in bf16 and the rest in float32, the shifted-window blocks run with less data
moved (`torch-bf16`, runtime/bf16_linear.py and runtime/window_blocks.py: the default on a CPU with
bf16 instructions); or in ONNX Runtime float32 (`onnx`, the default on other CPUs), exported once
per model fingerprint into the user cache (runtime/laion_onnx.py) and equal to torch's within float
rounding. runtime/choice.py gives the measurements behind the choice. All share the fingerprint.
Text always runs in torch, in float32.
"""

from __future__ import annotations

import os
import threading

from ..errors import CheckpointError
from .laion_features import ClapLogMel


def load_transformers_clap(source: str):
    """(ClapModel, feature extractor, tokenizer) from a hub id or a directory."""
    from transformers import AutoFeatureExtractor, AutoTokenizer, ClapModel

    from .quiet import quiet_transformers

    quiet_transformers()

    try:
        model = ClapModel.from_pretrained(source)
        extractor = AutoFeatureExtractor.from_pretrained(source)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except OSError as exc:
        where = "the directory holds no saved ClapModel and processor" if os.path.isdir(source) else (
            "the hub is not reachable and the model is not cached; download it once with network or pass a local directory")
        raise CheckpointError(f"Cannot load hf:{source}: {where}.") from exc
    return model, extractor, tokenizer


def features_of(output):
    """transformers 4.x returns the (B, dim) tensor; 5.x an output object holding it in .pooler_output."""
    import torch

    return output if isinstance(output, torch.Tensor) else output.pooler_output


def text_token_limit(tokenizer, model) -> int:
    # RoBERTa positions start after the padding index, so two of them can never hold a token.
    positions = int(model.config.text_config.max_position_embeddings) - 2
    return min(int(tokenizer.model_max_length), positions)


def has_bf16(device) -> bool:
    """Whether bf16 products run natively here: any GPU torch supports, or a CPU with avx512_bf16 or AMX."""
    import torch

    return device.type != "cpu" or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def to_torch_bf16(audio_model):
    """Make a ClapAudioModel the torch-bf16 runtime, in place: bf16 Linear layers, WindowBlocks."""
    from .runtime.bf16_linear import bf16_linears
    from .runtime.window_blocks import window_blocks

    bf16_linears(audio_model)
    window_blocks(audio_model)  # after: their stacked query/key/value product is then bf16 too
    return audio_model


def require_bf16(device) -> None:
    """On a CPU without bf16 instructions (avx512_bf16, AMX) bf16 products are emulated: slower than float32."""
    from ..errors import RuntimeChoiceError

    if not has_bf16(device):
        raise RuntimeChoiceError("This CPU has no bf16 instructions, so torch-bf16 would run slower than "
                                 "float32; use --runtime onnx or torch.")


def default_runtime(device) -> str:
    """torch on a GPU; on a CPU, torch-bf16 where bf16 runs natively, else ONNX Runtime fp32.

    Both CPU runtimes hold the cosine bar on real clips (runtime/choice.py); torch-bf16 indexed
    1.44x faster end to end than onnx on the full-size HTSAT (benchmarks/README.md).
    """
    if device.type != "cpu":
        return "torch"
    return "torch-bf16" if has_bf16(device) else "onnx"


class LaionClapModel:
    """AudioTextModel over a transformers ClapModel (eval mode, no grad, normalised CPU float32).

    `call_rows` is 1 on a CPU: a 10 s window is 4096 patch tokens, so one window per call already
    keeps the matrix kernels busy; the indexing pipeline then runs calls side by side and pads
    nothing. A GPU wants whole batches (None: one call per batch). ONNX Runtime runs on the CPU.
    """

    def __init__(self, model, extractor, tokenizer, name: str, device: str | None = None,
                 runtime: str | None = None):
        from .runtime.choice import HF_RUNTIMES, asked_runtime, refuse_onnx
        from .wrapper import fingerprint_module, pick_device

        runtime = asked_runtime(runtime)
        refuse_onnx(runtime, name, has=HF_RUNTIMES)
        self.device = pick_device(device)
        self.runtime = runtime or default_runtime(self.device)  # an explicit choice always wins
        if self.runtime == "torch-bf16":
            require_bf16(self.device)
        self._onnx, self._onnx_lock = None, threading.Lock()
        self.model = model.eval().to(self.device)
        self.extractor, self.tokenizer = extractor, tokenizer
        self.name = name
        self.dim = int(model.config.projection_dim)
        self.sample_rate = int(extractor.sampling_rate)
        self.window_samples = int(extractor.nb_max_samples)
        self.window_seconds = self.window_samples / self.sample_rate
        self.logit_scale = float(model.logit_scale_a.detach().exp().item())  # audio-to-text scale
        self.truncation = "fusion" if model.config.audio_config.enable_fusion else "rand_trunc"
        self.log_mel = ClapLogMel(extractor, fusion=self.truncation == "fusion")
        self.max_tokens = text_token_limit(tokenizer, model)
        extra = {"backend": "transformers-clap", "truncation": self.truncation, "max_tokens": self.max_tokens,
                 "front_end": {k: getattr(extractor, k, None) for k in (
                     "sampling_rate", "nb_max_samples", "hop_length", "fft_window_size", "feature_size",
                     "frequency_min", "frequency_max", "padding")}}
        self.fingerprint = fingerprint_module(model, extra)  # of the float32 weights: runtimes share it
        if self.runtime == "torch-bf16":
            to_torch_bf16(model.audio_model)

    @property
    def call_rows(self) -> int | None:
        return 1 if self.device.type == "cpu" or self.runtime == "onnx" else None

    def features(self, waves):
        """(B, T) windows -> (B, C, frames, mels) CPU log-mel features."""
        import torch

        waves = torch.as_tensor(waves, dtype=torch.float32).cpu()
        if waves.ndim != 2 or waves.shape[1] > self.window_samples:
            raise ValueError(f"embed_audio takes (B, T) windows of at most {self.window_samples} samples; "
                             f"got shape {tuple(waves.shape)}.")
        return self.log_mel(waves)

    def audio_inputs(self, waves):
        """(B, T) windows -> ClapModel audio inputs, with no random crop and no random is_longer."""
        import torch

        features = self.features(waves)
        is_longer = torch.zeros(features.shape[0], 1, dtype=torch.bool)
        return {"input_features": features.to(self.device), "is_longer": is_longer.to(self.device)}

    def onnx_audio(self):
        """The ONNX Runtime audio path, exported into the cache on first use (thread-safe)."""
        import torch

        from .runtime.laion_onnx import load_audio

        with self._onnx_lock:
            if self._onnx is None:
                with torch.inference_mode():
                    example = self.log_mel(torch.zeros(2, self.window_samples)).to(self.device)
                self._onnx = load_audio(self.model, self.fingerprint, example)
        return self._onnx

    def embed_audio(self, waves):
        import torch
        from torch.nn import functional as F

        if self.runtime == "onnx":
            with torch.inference_mode():
                features = self.features(waves).numpy()
            return torch.from_numpy(self.onnx_audio().embed_features(features))
        with torch.inference_mode():
            out = features_of(self.model.get_audio_features(**self.audio_inputs(waves)))
        return F.normalize(out.float(), dim=-1).cpu()

    def embed_text(self, texts: list[str]):
        import torch
        from torch.nn import functional as F

        tokens = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_tokens,
                                return_tensors="pt")
        with torch.inference_mode():
            out = features_of(self.model.get_text_features(
                input_ids=tokens["input_ids"].to(self.device), attention_mask=tokens["attention_mask"].to(self.device)))
            return F.normalize(out.float(), dim=-1).cpu()

    def __repr__(self) -> str:
        return (f"<LaionClapModel {self.name} dim={self.dim} {self.sample_rate} Hz {self.window_seconds} s "
                f"runtime={self.runtime}>")


def load(arg: str, name: str | None = None, device: str | None = None, runtime: str | None = None) -> LaionClapModel:
    """`hf:MODEL_ID_OR_DIR` -> an AudioTextModel."""
    if not arg:
        raise CheckpointError("hf: needs a model, e.g. hf:laion/clap-htsat-unfused or hf:/path/to/saved/model.")
    model, extractor, tokenizer = load_transformers_clap(arg)
    return LaionClapModel(model, extractor, tokenizer, name=name or f"hf:{arg}", device=device, runtime=runtime)
