"""One experiment = one recipe file (YAML or JSON) that fills these dataclasses.

    model:    a clapsearch ClapConfig (towers, joint dimension, sample rate, window length)
    init:     where starting weights come from (pretrained text model, a PANNs CNN14 file, ...)
    freeze:   which parts train (audio tower, text tower, each projection, the temperature)
    data:     manifests (or a generated synthetic set), workers, augmentations
    optim:    Adam/AdamW, learning rate, warm-up + schedule, clipping
    the rest: batch size, epochs/steps, accumulation, precision, checkpoint and log cadence

`--set key.sub=value` on the command line overrides any field (value parsed as YAML).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from clapsearch.models.config import ClapConfig


@dataclass
class InitConfig:
    load_pretrained_text: bool = True  # text weights from the text model (else random init)
    audio_tower: str | None = None  # a state-dict file for the audio tower (e.g. PANNs Cnn14.pth)
    audio_tower_key: str | None = None  # sub-dict inside that file ("model" for PANNs)
    model_dir: str | None = None  # an exported clapsearch model directory to start from


@dataclass
class FreezeConfig:
    audio_tower: bool = False
    text_tower: bool = False
    audio_projection: bool = False
    text_projection: bool = False
    logit_scale: bool = False


@dataclass
class AugmentConfig:
    gain_db: float = 0.0  # random gain in [-gain_db, +gain_db]
    noise_snr_db: list[float] | None = None  # [low, high]: white noise mixed at a random SNR
    time_shift: float = 0.0  # circular shift by up to this fraction of the window
    probability: float = 1.0  # chance each augmentation is applied to a clip


@dataclass
class SyntheticConfig:
    """Generated tones (see data/synthetic.py), written under the run directory."""

    train_per_class: int = 24
    val_per_class: int = 4
    seconds_min: float = 0.5
    seconds_max: float = 2.0
    seed: int = 0


@dataclass
class DataConfig:
    train: list[str] = field(default_factory=list)  # manifest files (JSONL)
    val: list[str] = field(default_factory=list)  # manifests; entries with split "val" in train files count too
    synthetic: SyntheticConfig | None = None  # generate a synthetic set instead of reading manifests
    num_workers: int = 0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    zero_shot_prompt: str = "This is a sound of {}"  # validation zero-shot over the val labels
    val_all_captions: bool = True  # every caption is a retrieval query (else the first only)


@dataclass
class OptimConfig:
    name: str = "adam"  # "adam" | "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8
    warmup_steps: int = 0
    schedule: str = "constant"  # "constant" | "cosine" (after warm-up, to 0 at the last step)
    grad_clip: float | None = None


@dataclass
class TrainConfig:
    model: ClapConfig
    init: InitConfig = field(default_factory=InitConfig)
    freeze: FreezeConfig = field(default_factory=FreezeConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    batch_size: int = 32  # per process; the optimiser sees batch_size * world_size * grad_accum
    grad_accum: int = 1
    epochs: int = 1
    max_steps: int | None = None  # optimiser steps; stops early when reached
    precision: str = "fp32"  # "fp32" | "bf16" (autocast on CPU or CUDA)
    dropout: bool = True  # False turns every dropout off (exactly comparable runs in tests)
    sync_batchnorm: bool = True  # under DDP on CUDA, batch statistics over the global batch
    seed: int = 0
    checkpoint_every_steps: int | None = None  # besides the end of every epoch
    keep_checkpoints: int = 2
    log_every_steps: int = 10  # stdout; log.jsonl gets every step
    validate: bool = True
    validate_at_start: bool = True  # also log the untrained model's validation (step 0)
    text_cache_size: int = 100_000  # captions whose frozen-text-tower output is kept (0: none)
    # Extra tower builders, kind -> "module:function", registered before the model is built.
    audio_towers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return _build(cls, data)


def _build(cls, data):
    """Fill dataclass `cls` from nested dicts, refusing unknown keys (typos fail loudly)."""
    if cls is ClapConfig:
        return ClapConfig.from_dict(data)
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} expects a mapping, got {data!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"Unknown {cls.__name__} option(s) {unknown}; known: {sorted(fields)}.")
    kwargs = {}
    for name, value in data.items():
        nested = _dataclass_of(fields[name].type)
        if nested is not None and value is not None:
            value = _build(nested, value)
        kwargs[name] = _coerce_number(fields[name].type, value, name)
    return cls(**kwargs)


def _coerce_number(annotation, value, name: str):
    """YAML reads `3e-4` as a string (it wants `3.0e-4`): accept it where a number is expected."""
    wanted = str(annotation).replace(" ", "").split("|")
    if isinstance(value, str) and ("float" in wanted or "int" in wanted):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"Option {name!r} must be a number, got {value!r}.") from None
        return int(number) if "float" not in wanted and number.is_integer() else number
    return value


_NESTED = {c.__name__: c for c in (ClapConfig, InitConfig, FreezeConfig, AugmentConfig, SyntheticConfig,
                                    DataConfig, OptimConfig)}


def _dataclass_of(annotation):
    """The dataclass named by a field annotation ('SyntheticConfig | None' -> SyntheticConfig)."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    for part in text.replace(" ", "").split("|"):
        if part in _NESTED:
            return _NESTED[part]
    return None


def expand(path) -> str:
    """${VAR} in a recipe path comes from the environment; an unset one is an error, not a path."""
    import os

    expanded = os.path.expandvars(str(path))
    if "${" in expanded or expanded.startswith("$"):
        raise ValueError(f"The recipe path {str(path)!r} names an environment variable that is not set; "
                         "set it or override the path with --set.")
    return expanded


def read_recipe(path: str | Path) -> dict:
    path = Path(path)
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text) or {}
    return json.loads(text)


def apply_override(data: dict, assignment: str) -> None:
    """'optim.lr=3e-4' sets data['optim']['lr'] = 3e-4 (the value is parsed as YAML)."""
    import yaml

    key, sep, raw = assignment.partition("=")
    if not sep:
        raise ValueError(f"Override {assignment!r} must look like key.sub=value.")
    *parents, leaf = key.strip().split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if node is None:
            raise ValueError(f"Cannot set {key!r}: {part!r} is empty in the recipe.")
    node[leaf] = yaml.safe_load(raw)


def load_config(path: str | Path, overrides: list[str] = ()) -> TrainConfig:
    data = read_recipe(path)
    for assignment in overrides:
        apply_override(data, assignment)
    return TrainConfig.from_dict(data)


def save_config(config: TrainConfig, path: str | Path) -> None:
    Path(path).write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")
