"""CPU throughput of the model architectures (random weights: speed does not depend on their values).

    nice python -m benchmarks.model_speed --arch msclap-2022 --threads 2
    nice python -m benchmarks.model_speed --arch laion-htsat-tiny --threads 2
    nice python -m benchmarks.model_speed --arch laion-htsat-base --threads 2 --modes fp32   # laion-general/-music*
    nice python -m benchmarks.model_speed --arch msclap-2023 --threads 2 --modes fp32

For each mode (fp32, bf16 autocast, torch.compile) it prints audio windows/s, texts/s, and the
smallest cosine between that mode's audio embeddings and fp32's; at the end the process's peak
resident memory. Run one architecture per process so the peak memory is that architecture's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

TOY_WORDS = "a dog is barking rain falls on the roof engine idles bird sings".split()


def write_bert_base_dir(directory: Path) -> str:
    """bert-base-uncased's architecture (BertConfig defaults) with a toy WordPiece vocabulary."""
    from transformers import BertConfig, BertTokenizerFast

    BertConfig().save_pretrained(str(directory))
    (directory / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TOY_WORDS]) + "\n")
    BertTokenizerFast(vocab_file=str(directory / "vocab.txt")).save_pretrained(str(directory))
    return str(directory)


def build_msclap_2022(tmp: Path):
    from clapsearch.models.clap import Clap
    from clapsearch.models.msclap import config_2022
    from clapsearch.models.wrapper import ClapAudioTextModel

    module = Clap(config_2022(write_bert_base_dir(tmp)), load_pretrained_text=False)
    model = ClapAudioTextModel(module, name="msclap-2022 (random)", device="cpu")
    return model, module.audio_encoder


def build_laion_htsat_tiny(tmp: Path, audio_config: dict | None = None, name: str = "laion htsat-tiny (random)"):
    """transformers' ClapConfig defaults = HTSAT-tiny + RoBERTa-base, the laion/clap-htsat-unfused shape."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, RobertaTokenizer

    from clapsearch.models.laion import LaionClapModel

    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "Ġ", *letters, *("Ġ" + c for c in letters)]
    (tmp / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (tmp / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"Ġ {c}" for c in letters) + "\n")
    tokenizer = RobertaTokenizer.from_pretrained(str(tmp))
    config = ClapConfig(audio_config=audio_config) if audio_config else ClapConfig()
    model = LaionClapModel(ClapModel(config), ClapFeatureExtractor(), tokenizer, name=name, device="cpu", runtime="torch")
    return model, None


# config.json of laion/larger_clap_general, _music, _music_and_speech (HTSAT-base audio tower).
HTSAT_BASE = dict(patch_embeds_hidden_size=128, depths=[2, 2, 12, 2], hidden_size=1024)


def build_laion_htsat_base(tmp: Path):
    """The larger_clap_* shape: HTSAT-base + RoBERTa-base (random weights)."""
    return build_laion_htsat_tiny(tmp, audio_config=HTSAT_BASE, name="laion htsat-base (random)")


def build_msclap_2023(tmp: Path):
    """HTSAT-tiny + GPT-2 small (GPT2Config defaults) with a toy byte-level vocabulary, random weights."""
    from transformers import GPT2Config, GPT2Tokenizer

    from clapsearch.models.clap import Clap
    from clapsearch.models.msclap import config_2023
    from clapsearch.models.wrapper import ClapAudioTextModel

    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["!", "Ġ", *letters, *("Ġ" + c for c in letters), "<|endoftext|>"]
    (tmp / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (tmp / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"Ġ {c}" for c in letters) + "\n")
    GPT2Tokenizer.from_pretrained(str(tmp)).save_pretrained(str(tmp))
    GPT2Config(bos_token_id=len(vocab) - 1, eos_token_id=len(vocab) - 1).save_pretrained(str(tmp))
    module = Clap(config_2023(str(tmp)), load_pretrained_text=False)
    return ClapAudioTextModel(module, name="msclap-2023 (random)", device="cpu"), module.audio_encoder


BUILDERS = {"msclap-2022": build_msclap_2022, "msclap-2023": build_msclap_2023,
            "laion-htsat-tiny": build_laion_htsat_tiny, "laion-htsat-base": build_laion_htsat_base}


def timed(fn, reps: int) -> tuple[float, object]:
    out = fn()  # warm-up (and compilation, for torch.compile)
    start = time.perf_counter()
    for _ in range(reps):
        out = fn()
    return (time.perf_counter() - start) / reps, out


def run(arch: str, batch: int, reps: int, modes: list[str]) -> list[dict]:
    import torch
    from torch.nn import functional as F

    torch.manual_seed(0)
    tmp = Path(tempfile.mkdtemp())
    model, _ = BUILDERS[arch](tmp)
    waves = 0.1 * torch.randn(batch, int(model.window_seconds * model.sample_rate))
    texts = [" ".join(TOY_WORDS[i:] + TOY_WORDS[:i]) for i in range(batch * 4)]
    results, reference = [], None
    for mode in modes:
        if mode == "compile":
            target = model.module if hasattr(model, "module") else model.model
            compile_start = time.perf_counter()
            for sub in target.children():
                sub.compile()
        context = torch.autocast("cpu", dtype=torch.bfloat16) if mode == "bf16" else contextlib.nullcontext()
        with context:
            audio_s, audio = timed(lambda: model.embed_audio(waves), reps)
            text_s, _ = timed(lambda: model.embed_text(texts), reps)
        row = {"arch": arch, "mode": mode, "batch": batch, "window_s": model.window_seconds,
               "audio_windows_per_s": round(batch / audio_s, 3), "texts_per_s": round(len(texts) / text_s, 1)}
        if mode == "compile":
            row["first_call_incl_compile_s"] = round(time.perf_counter() - compile_start - reps * (audio_s + text_s), 1)
        if reference is None:
            reference = audio
        row["min_cosine_vs_fp32"] = round(float(F.cosine_similarity(audio, reference, dim=-1).min()), 6)
        results.append(row)
        print(json.dumps(row), flush=True)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(BUILDERS), required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--modes", default="fp32,bf16,compile", help="comma list: fp32 (first, the reference), bf16, compile")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    print(json.dumps({"threads": args.threads, "torch": torch.__version__, "cpus": os.cpu_count(),
                      "load_avg_1m": os.getloadavg()[0]}), flush=True)
    run(args.arch, args.batch, args.reps, args.modes.split(","))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(json.dumps({"peak_rss_mib": round(peak_mib), "load_avg_1m": os.getloadavg()[0]}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
