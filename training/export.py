"""Export a training run as a clapsearch model directory (`clapsearch ... --model DIR`).

    python -m training.export runs/tones --out models/tones          # newest checkpoint of the run
    python -m training.export runs/tones/checkpoints/step_00000120 --out models/tones-120

The directory is config.json + model.safetensors (+ text/ with the tokenizer and text-model
config), the format clapsearch.models.exported reads. With --external-text the text-tower
weights are left out and loaded from the text model named in the config at load time (as the
bundled model does with its pip-installed MiniLM); use it only when the text tower was frozen.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .checkpoints import load_checkpoint, resolve_checkpoint
from .config import TrainConfig


def trained_module(run_or_checkpoint: str | Path):
    """The Clap module of a run's newest checkpoint (or of the checkpoint given), in eval mode."""
    from clapsearch.models import towers
    from clapsearch.models.clap import Clap

    state, _ = load_checkpoint(resolve_checkpoint(run_or_checkpoint))
    config = TrainConfig.from_dict(state["config"])
    for kind, target in config.audio_towers.items():
        towers.AUDIO_TOWERS[kind] = target
    module = Clap(config.model, load_pretrained_text=False)  # every weight comes from the checkpoint
    module.load_state_dict(state["model"])
    return module.eval()


def export_run(run_or_checkpoint: str | Path, out: str | Path, external_text: bool = False) -> Path:
    from clapsearch.models.exported import save_dir

    return save_dir(trained_module(run_or_checkpoint), out, include_text_weights=not external_text)


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a run directory (its newest checkpoint) or a checkpoints/step_* folder")
    parser.add_argument("--out", required=True, help="the model directory to write")
    parser.add_argument("--external-text", action="store_true",
                        help="leave the (frozen) text-tower weights out; they load from the text package")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    path = export_run(args.run, args.out, external_text=args.external_text)
    print(f"Exported {args.run} to {path}; use it with --model {path}")
    return path


if __name__ == "__main__":
    main()
