"""The default model's text tower (MiniLM, mean pooling, projection, L2 norm) in ONNX Runtime.

Running it needs only `tokenizers` (the MiniLM package's own tokenizer.json) and `onnxruntime`;
no torch, no transformers. The .onnx file is exported once from the torch module (the reference)
and cached under the user cache folder, named by the model fingerprint (which covers every weight).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .cache import atomic_write, cache_dir
from .session import open_session

OPSET = 17


def onnx_path(fingerprint: str) -> Path:
    return cache_dir() / "onnx" / f"text-{fingerprint}.onnx"


def export_text_tower(clap_module, path: Path) -> Path:
    """Write the torch text encoder of `clap_module` (a models.clap.Clap) as ONNX, atomically."""
    import torch
    from torch.nn import functional as F

    class _TextGraph(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            tokens = {"input_ids": input_ids, "attention_mask": attention_mask}
            return F.normalize(self.encoder(tokens), dim=-1)

    graph = _TextGraph(clap_module.caption_encoder).eval()
    example = clap_module.tokenize(["a dog barking in the rain", "rain"])
    args = (example["input_ids"], example["attention_mask"])
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
               "embedding": {0: "batch"}}

    def write(temp):
        # The tracer warns about shape checks inside transformers that are constant for this
        # graph; the parity test against torch is what guards the export, not these warnings.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, args, temp, input_names=["input_ids", "attention_mask"],
                              output_names=["embedding"], dynamic_axes=dynamic, opset_version=OPSET,
                              dynamo=False)

    return atomic_write(path, write)


class OnnxTextTower:
    """texts -> (B, dim) float32 L2-normalised embeddings, through tokenizers + ONNX Runtime."""

    def __init__(self, model_path: Path, tokenizer_json: Path, max_length: int, threads: int | None = None):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(tokenizer_json))
        # The file pads every text to 128 tokens; pad to the batch's longest instead, as the
        # transformers reference does (mean pooling ignores padding either way).
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.session = open_session(model_path, threads)

    def tokenize(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self.tokenizer.encode_batch(list(texts))
        return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)}

    def embed(self, texts: list[str]) -> np.ndarray:
        (vectors,) = self.session.run(["embedding"], self.tokenize(texts))
        # Normalise again in float32 so every row is unit length to the last bit the way numpy sees it.
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
