"""Save a random-weight, full-size LAION CLAP (`ClapModel(ClapConfig())`) with its processor to a folder.

    python benchmarks/make_random_laion.py /work/cache/laion-random [--fusion]

The folder loads as `--model hf:FOLDER` in clapsearch and as a model name in anything that calls
transformers' `from_pretrained` (echo-vector's `ClapBackend(model_name=FOLDER)`), so speed can be
measured on the real architecture without downloading the weights. The tokenizer is a toy (26
letters); the audio tower, which indexing runs, is the real HTSAT shape.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--fusion", action="store_true", help="the fused variant (laion/clap-htsat-fused's shape)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from transformers import ClapConfig

    from tests.laion_model import write_laion

    write_laion(args.folder, ClapConfig(audio_config=dict(enable_fusion=args.fusion)), seed=args.seed)
    print(f"wrote a random-weight ClapModel(ClapConfig()) to {args.folder}")


if __name__ == "__main__":
    main()
