"""Test-only access to the reference implementation (the `msclap` wheel), kept OUTSIDE the repo.

The wheels of msclap and torchlibrosa are fetched with `pip download --no-deps` into a cache
($CLAPSEARCH_TEST_CACHE, else clapsearch-tests in the XDG cache folder, which conftest.py points
at a temporary folder for each run: a fresh machine fetches them as CI does), unpacked there and
imported from there. None of their code is in this repository. When the package index cannot be reached
and the cache is empty, the tests that need it are skipped with the reason printed.

    python -m tests.msclap_reference    # regenerates tests/data/msclap2022_keys.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

WHEELS = ("msclap==1.3.4", "torchlibrosa==0.1.0")
KEYS_FILE = Path(__file__).parent / "data" / "msclap2022_keys.json"
# The released config_2022.yml of the msclap wheel, as CLAP(...) keyword arguments.
REFERENCE_2022 = dict(audioenc_name="Cnn14", sample_rate=44100, window_size=1024, hop_size=320, mel_bins=64,
                      fmin=50, fmax=14000, classes_num=527, out_emb=2048, transformer_embed_dim=768, d_proj=1024)


def cache_dir() -> Path:
    if os.environ.get("CLAPSEARCH_TEST_CACHE"):
        return Path(os.environ["CLAPSEARCH_TEST_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clapsearch-tests"


def fetch_reference_source() -> Path | str:
    """The unpacked wheels' directory, or a sentence saying why they could not be fetched."""
    src = cache_dir() / "src"
    if (src / "msclap" / "models" / "clap.py").is_file() and (src / "torchlibrosa" / "stft.py").is_file():
        return src
    wheels = cache_dir() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels), *WHEELS]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return f"cannot download the reference wheels {WHEELS} (package index unreachable?): {detail[-300:]!r}"
    for wheel in wheels.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(src)
    return src


def import_reference():
    """The reference `msclap.models.clap` module (imports librosa, torchlibrosa, transformers)."""
    src = fetch_reference_source()
    if isinstance(src, str):
        import pytest

        print(f"SKIP reason: {src}")
        pytest.skip(src)
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    import msclap.models.clap as reference

    return reference


# config_2023.yml of the same wheel (its HTSAT ignores these audio settings and uses its own config).
REFERENCE_2023 = dict(REFERENCE_2022, audioenc_name="HTSAT", fmax=8000, out_emb=768)


def reference_2022(text_dir: str, **overrides):
    """The reference CLAP class with random weights; its text model is built from `text_dir`'s config.

    The reference TextEncoder calls AutoModel.from_pretrained (weights from the hub); here it
    is given a config-only directory and random weights, which keeps every module and name.
    """
    from transformers import AutoConfig, AutoModel

    reference = import_reference()

    class ConfigOnlyAutoModel:
        @staticmethod
        def from_pretrained(source):
            return AutoModel.from_config(AutoConfig.from_pretrained(source))

    original = reference.AutoModel
    reference.AutoModel = ConfigOnlyAutoModel
    try:
        return reference.CLAP(text_model=str(text_dir), **{**REFERENCE_2022, **overrides})
    finally:
        reference.AutoModel = original


def write_bert_base_config(directory: Path) -> Path:
    """bert-base-uncased's architecture (BertConfig's defaults are exactly it) + a toy vocabulary."""
    from transformers import BertConfig, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    BertConfig().save_pretrained(str(directory))
    words = "[PAD] [UNK] [CLS] [SEP] [MASK] this is a sound of dog barking rain".split()
    (directory / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), do_lower_case=True).save_pretrained(str(directory))
    return directory


def state_shapes(module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in sorted(module.state_dict().items())}


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # (torchlibrosa cannot build on the meta device)
        shapes = state_shapes(reference_2022(str(write_bert_base_config(Path(tmp)))))
    # position_ids / token_type_ids are buffers whose persistence changed across transformers
    # versions; they are never loaded (clean_state_dict drops position_ids).
    shapes = {k: v for k, v in shapes.items() if not k.endswith(("position_ids", "token_type_ids"))}
    KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in shapes.items()]
    KEYS_FILE.write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one key per line: readable diffs
    print(f"wrote {len(shapes)} keys to {KEYS_FILE}")


if __name__ == "__main__":
    main()
