"""MODEL_CARD.md for the exported default model, written from the recipe's measured report."""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

from clapsearch.models import aisfx

from .settings import AISFX_VERSION, ZERO_SHOT_TEMPLATE
from .study import FINAL_SUFFIX, LAST_BLOCK_SUFFIX


def data_summary(entries, splits, trained=("train",)) -> dict:
    """Clips per source: trained on (splits in `trained`) or held out (in-domain split and pool)."""
    by_source: dict[str, dict] = defaultdict(lambda: {"clips": 0, "train": 0, "val": 0, "licenses": Counter()})
    for entry, split in zip(entries, splits):
        row = by_source[entry.source]
        row["clips"] += 1
        row["train" if split in trained else "val"] += 1
        row["licenses"][entry.license or "unknown"] += 1
    return {s: {**r, "licenses": sorted(r["licenses"])} for s, r in sorted(by_source.items())}


def _pct(x) -> str:
    return f"{100 * x:.1f} %"


def _figures_table(validation: dict) -> list[str]:
    rows = ["| pipeline | text->audio R@1 | R@10 | zero-shot top-1 |", "|---|---|---|---|"]
    names = {"trained_heads": "trained heads (shipped)", "untrained_heads": "same, heads untrained (random init)",
             "nearest_caption_transfer": "nearest-caption transfer (no heads)"}
    for key, label in names.items():
        if key not in validation:
            continue
        m = validation[key]
        rows.append(f"| {label} | {_pct(m['text_to_audio']['R@1'])} | {_pct(m['text_to_audio']['R@10'])} | "
                    f"{_pct(m['zero_shot'].get('accuracy', 0))} |")
    t2a, zs = validation["trained_heads"]["text_to_audio"], validation["trained_heads"]["zero_shot"]
    rows.append(f"| chance | {_pct(t2a['chance_R@1'])} | {_pct(t2a['chance_R@10'])} | {_pct(zs.get('chance', 0))} |")
    return rows + ["", _versus_transfer(validation)]


def _versus_transfer(validation: dict) -> str:
    """Say plainly, from the numbers, where the trained heads beat the no-heads baseline."""
    ours, theirs = validation["trained_heads"], validation["nearest_caption_transfer"]
    figures = {"text->audio R@1": ("text_to_audio", "R@1"), "text->audio R@10": ("text_to_audio", "R@10"),
               "zero-shot accuracy": ("zero_shot", "accuracy")}
    better = [n for n, (a, b) in figures.items() if ours[a].get(b, 0) > theirs[a].get(b, 0)]
    worse = [n for n in figures if n not in better]
    parts = []
    if better:
        parts.append("The trained heads beat nearest-caption transfer on " + ", ".join(better))
    if worse:
        parts.append(("but not on " if better else "The trained heads do not beat nearest-caption transfer on ")
                     + ", ".join(worse))
    return ", ".join(parts) + ". Transfer needs the training clips and captions at search time; the heads do not."


def _per_source_table(validation: dict) -> list[str]:
    trained = validation["trained_heads"]["zero_shot"].get("by_source", {})
    untrained = validation.get("untrained_heads", {}).get("zero_shot", {}).get("by_source", {})
    rows = ["| source | val clips | zero-shot (trained) | (untrained heads) |", "|---|---|---|---|"]
    for source, m in trained.items():
        other = _pct(untrained[source]["accuracy"]) if source in untrained else "-"
        rows.append(f"| {source} | {m['clips']} | {_pct(m['accuracy'])} | {other} |")
    return rows


STUDY_NAMES = {
    "shipped_v1": "model shipped before this study (v1)",
    "nearest_caption_transfer": "nearest-caption transfer (no heads)",
    "knn_captions": "kNN captions (k = 10, no heads)",
    "two_heads": "two projection heads (paper)",
    "two_heads+knn": "two heads blended with kNN captions",
    "locked_text": "audio-only head into MiniLM's space (locked text)",
    "locked_text+knn": "locked text blended with kNN captions",
}


def _study_name(key: str) -> str:
    if key.endswith(LAST_BLOCK_SUFFIX):  # finetune.py
        return _study_name(key[: -len(LAST_BLOCK_SUFFIX)]) + ", then the last aisfx block fine-tuned with its heads"
    if key.endswith(FINAL_SUFFIX):  # the second stage
        return _study_name(key[: -len(FINAL_SUFFIX)]) + "; final: + the pool sources' train items, as v1"
    for suffix, words in (("-no_wordnet", ", no WordNet expansion"), ("-no_synthetic", ", no synthetic sources"),
                          ("-cap300", ", at most 300 clips per source")):
        if key.endswith(suffix):
            return STUDY_NAMES[key[: -len(suffix)]] + words
    return STUDY_NAMES.get(key, key)


def _firsts(row: dict) -> str:
    ranks = row.get("walk_through")
    return f"{sum(r == 1 for r in ranks.values())} of {len(ranks)}" if ranks else "n/a"


def _study_lines(report: dict) -> list[str]:
    """The cross-source pool table, the in-domain column and the decision, from report["study"]."""
    study = report.get("study")
    if not study:
        return ["No cross-source study recorded."]
    from .evaluate import macro_zero_shot

    results = study["results"]
    pool_sources = ", ".join(f"{s} {n}" for s, n in study["pool_by_source"].items())
    final = study.get("final")
    final_clips = f" (stage 1; the final row: {results[final]['train_clips']})" if final in results else ""
    rows = [f"Pool: {study['pool_clips']} clips ({pool_sources}); training: {study['train_clips']} clips"
            f"{final_clips}; in-domain split: {study['val_clips']} clips.", "",
            "| candidate | pool R@1 | pool R@10 | pool zero-shot | per-source zero-shot | pool score | "
            "in-domain R@10 | in-domain zero-shot | walk-through firsts |",
            "|---|---|---|---|---|---|---|---|---|"]
    ordered = sorted(results, key=lambda k: -results[k]["pool_score"])
    for key in ordered:
        r = results[key]
        pool, dom = r["pool"], r["in_domain"]
        rows.append(f"| {_study_name(key)} | {_pct(pool['text_to_audio']['R@1'])} | {_pct(pool['text_to_audio']['R@10'])} | "
                    f"{_pct(pool['zero_shot'].get('accuracy', 0))} | {_pct(macro_zero_shot(pool))} | "
                    f"{r['pool_score']:.3f} | {_pct(dom['text_to_audio']['R@10'])} | "
                    f"{_pct(dom['zero_shot'].get('accuracy', 0))} | {_firsts(r)} |")
    zs = results[ordered[0]]["pool"]["zero_shot"]
    rows += ["", f"Pool zero-shot: {zs.get('classes', 0)} classes (the pool's labels), chance "
             f"{_pct(zs.get('chance', 0))}. Pool score = mean of pool R@10 and per-source zero-shot.", ""]
    rows += _pool_by_source(results, [k for k in ("shipped_v1", study.get("final"), study["best_exportable"])
                                      if k in results])
    rows += [""] + _walk_through_by_candidate(results, [k for k in ordered if results[k].get("walk_through")])
    rows += _fine_tune_lines(results)
    rows += ["", f"Decision: {'shipped' if study['decision']['ship'] else 'not shipped'} ({study['decision']['why']})."]
    return rows + ["", _timing_line(study)]


def _fine_tune_lines(results: dict) -> list[str]:
    """finetune.py's rows: the pool score by epoch, from the start (epoch 0, the row it started from)."""
    lines = []
    for key, row in results.items():
        if key.endswith(LAST_BLOCK_SUFFIX) and row.get("history"):
            scores = ", ".join(f"{h['val_score']:.3f}" for h in row["history"])
            lines += ["", f"Last aisfx block fine-tuned (`python -m training.recipes.default.finetune`; block "
                      f"{row['block_lr']:g}, heads {row['heads_lr']:g}, {row['train_clips']} clips, "
                      f"{row['seconds'] / 60:.0f} min): pool score by epoch from its start "
                      f"({_study_name(row['starts_from'])}) {scores}; epoch {row['best_epoch']} kept."]
            for other in row.get("other_runs", ()):  # earlier runs of the same step, recorded by hand from their logs
                lines[-1] += (f" A run at block {other['block_lr']:g}, heads {other['heads_lr']:g} ({other['note']}): "
                              + ", ".join(f"{v:.3f}" for v in other["scores"]) + ".")
    return lines


def _timing_line(study: dict) -> str:
    data = study.get("data_seconds")
    data_text = f"data {data / 60:.0f} min" if data is not None else "data: already in the cache (not timed here)"
    line = (f"Time of this run: {data_text}; audio and text features {study['features_seconds'] / 60:.0f} min "
            f"({'only clips already cached' if study['cached_only'] else 'every chosen clip'}); "
            f"whole run after the data {study['seconds'] / 60:.0f} min.")
    timed = study.get("timed_from_empty")
    if timed:  # these weights, reproduced byte for byte by the one command from an empty cache
        line += (f" From an empty cache, in one command (`{timed['command']}`, {timed['date']}): data "
                 f"{timed['data_seconds'] / 60:.0f} min, audio and text features {timed['features_seconds'] / 60:.0f} min, "
                 f"{timed['wall']} in all, peak memory {timed['peak_rss']}; {timed['same_weights']}.")
    parts = study.get("measured_parts")
    if parts:  # steps timed one by one when the whole command was not run end to end
        line += " Not run end to end in one command; the parts, timed separately: " + "; ".join(
            f"{name} {minutes:.0f} min" for name, minutes in parts["minutes"].items()) + f" ({parts['conditions']})."
    return line


def _walk_through_by_candidate(results: dict, keys: list[str]) -> list[str]:
    """Rank of each walk-through query's example (of 7) for every exportable candidate."""
    if not keys:
        return []
    queries = list(results[keys[0]]["walk_through"])
    rows = ["| walk-through query | " + " | ".join(_study_name(k) for k in keys) + " |",
            "|---|" + "---|" * len(keys)]
    for query in queries:
        rows.append(f"| {query} | " + " | ".join(str(results[k]["walk_through"].get(query, "-")) for k in keys) + " |")
    return rows


def _pool_by_source(results: dict, keys: list[str]) -> list[str]:
    rows = ["| pool source | clips | " + " | ".join(_study_name(k) for k in keys) + " |",
            "|---|---|" + "---|" * len(keys)]
    first = results[keys[0]]["pool"]["zero_shot"]["by_source"]
    for source, m in first.items():
        cells = [_pct(results[k]["pool"]["zero_shot"]["by_source"][source]["accuracy"]) for k in keys]
        rows.append(f"| {source} | {m['clips']} | " + " | ".join(cells) + " |")
    return rows


def _data_table(data: dict) -> list[str]:
    rows = ["| source | clips | train | held out | licenses |", "|---|---|---|---|---|"]
    for source, r in data.items():
        rows.append(f"| {source} | {r['clips']} | {r['train']} | {r['val']} | {', '.join(r['licenses'])} |")
    return rows


def _speed_lines(out: Path) -> list[str]:
    path = out / "speed.json"
    if not path.is_file():
        return ["Not measured yet: run `python -m training.recipes.default.speed`."]
    speed = json.loads(path.read_text())
    lines = [f"- {k}: {v}" for k, v in speed.items()]
    torch_forward = speed.get("default forward (x real time, pre-decoded windows)")
    torch_e2e = speed.get("default end to end (x real time, embed_files, 50 % hop)")
    for runtime in ("onnx", "onnx-int8"):  # ratios within one run hold however loaded the machine was
        forward = speed.get(f"default forward, {runtime} runtime (x real time)")
        e2e = speed.get(f"default end to end, {runtime} runtime (x real time)")
        if forward and e2e and torch_forward and torch_e2e:
            lines.append(f"- {runtime} / torch, same run: forward {forward / torch_forward:.1f}x, "
                         f"end to end {e2e / torch_e2e:.1f}x")
    load = speed.get("machine", "").rpartition("load average at start ")[2]
    if load.replace(".", "", 1).isdigit() and float(load) > 2 * (os.cpu_count() or 1):
        lines += ["", f"Measured under load (load average {load}): the ratios within the run hold, the absolute "
                  "figures do not; rerun the command on a quiet machine, then `python -m training.recipes.default.card`."]
    return lines


def _runtime_lines(out: Path) -> list[str]:
    """How the int8 tower was calibrated (audio-int8.json) and how close both ONNX towers are to torch."""
    lines = []
    int8 = out / "audio-int8.json"
    if int8.is_file():
        c = json.loads(int8.read_text())["calibration"]
        lines.append(f"Calibration (`{json.loads(int8.read_text())['command']}`): {c['windows']} windows of "
                     f"{c['clips']} real clips ({c['clips_per_folder']} per source, up to {c['windows_per_clip']} "
                     f"each) from {', '.join(c['sources'])}; {c['method']} ranges ({c['percentile']}).")
    quality = out / "runtime_quality.json"
    if not quality.is_file():
        return lines + ["", "Quality not measured yet: run `python benchmarks/runtime_quality.py --write`."]
    q = json.loads(quality.read_text())
    lines += ["", f"Cosine to torch fp32 on {q['windows']} windows of {q['clips']} real clips held out of the "
              f"calibration (`{q['command']}`):", "",
              "| runtime | window median | p5 | min | clip (mean vector) median | min |", "|---|---|---|---|---|---|"]
    for runtime in ("onnx", "onnx-int8"):
        w, f = q[runtime]["window cosine"], q[runtime]["clip cosine"]
        lines.append(f"| {runtime} | {w['median']:.4f} | {w['p5']:.4f} | {w['min']:.4f} | {f['median']:.4f} "
                     f"| {f['min']:.4f} |")
    return lines + ["", "Quality bar: median window cosine >= 0.999."]


def _runtime_validation_lines(report: dict) -> list[str]:
    """The recipe's in-domain and pool figures per runtime (report["runtimes"], runtime_check.py)."""
    measured = report.get("runtimes")
    if not measured:
        return ["Validation figures per runtime not measured yet: run "
                "`python -m training.recipes.default.runtime_check --cache CACHE --write`."]
    from .runtime_check import table_lines

    torch_row = measured["results"]["torch"]
    clips = ", ".join(f"{name} {torch_row[split]['clips']} clips / {measured['windows'][split]} windows"
                      for name, split in (("in-domain split", "in_domain"), ("pool", "pool")))
    return [f"Validation retrieval and zero-shot per runtime, the same clips and windows (up to "
            f"{measured['windows_per_clip']} per clip) as the cross-source study ({clips}), the text side "
            f"the shipped model's own (`{measured['command']}`); in brackets the difference to torch "
            f"fp32 in points (bar: within {measured['bar_points']}):", ""] + table_lines(measured) + [
            "", "Resolution: " + "; ".join(
                f"{name}: one query moves R@k by {100 / torch_row[split]['queries']:.2f} points, one clip "
                f"moves zero-shot by {100 / torch_row[split]['clips']:.2f}"
                for name, split in (("in-domain", "in_domain"), ("pool", "pool"))) + "."] + _noise_floor_lines(measured)


def _noise_floor_lines(measured: dict) -> list[str]:
    from .runtime_check import METRICS as METRICS_OF_FLOOR

    floor = measured.get("noise_floor")
    if not floor:
        return []
    moves = ", ".join(f"{name} {v['median |move|']:.2f} (max {v['max |move|']:.2f})"
                      for name, v in floor["points"].items())
    int8 = measured["results"].get("onnx-int8", {})
    inside = [abs(int8[split]["points_vs_torch"][metric]) <= floor["points"][f"{split} {metric}"]["max |move|"]
              for split in int8 for metric, _ in METRICS_OF_FLOOR if f"{split} {metric}" in floor["points"]]
    verdict = (f" int8's own moves are within the noise's largest on {sum(inside)} of {len(inside)} figures."
               if inside else "")
    return ["", f"Noise floor (`--noise-floor {floor['cosine']}`): torch's window vectors moved by random "
            f"noise of int8's size (median cosine {floor['cosine']}), {floor['seeds']} seeds, move the figures "
            f"by (median |points|) {moves}.{verdict}"]


def _walk_through_lines(report: dict) -> list[str]:
    ranks = report.get("walk_through_rank_of_example", {})
    rows = ["| query | rank of its example (of 7) |", "|---|---|"]
    rows += [f"| {q} | {r} |" for q, r in ranks.items()]
    firsts = sum(r == 1 for r in ranks.values())
    return rows + ["", f"{firsts} of {len(ranks)} queries rank their example first."]


def _command(report: dict) -> str:
    command = "python -m training.recipes.default"
    if report["training"].get("cached_only"):
        command += " --skip-data --cached-only"
    return command


STUDY_COMMAND = ("`python -m training.recipes.default` from an empty cache (the figures here: "
                 "`python -m training.recipes.default --skip-data --cached-only` on the cache it built)")


def write_card(out: Path, report: dict) -> Path:
    template = (Path(__file__).with_name("MODEL_CARD.template.md")).read_text()
    v, t = report["validation"], report["training"]
    zs = v["trained_heads"]["zero_shot"]
    text = template.format(
        aisfx_version=AISFX_VERSION,
        window=aisfx.BLOCK_SECONDS,
        figures="\n".join(_figures_table(v)),
        per_source="\n".join(_per_source_table(v)),
        data="\n".join(_data_table(report["data"])),
        queries=v["trained_heads"]["text_to_audio"]["queries"],
        val_clips=t["val_clips"], train_clips=t["train_clips"],
        classes=zs.get("classes", 0), zs_clips=zs.get("clips", 0), template=ZERO_SHOT_TEMPLATE,
        settings=json.dumps(t["settings"], indent=2), best_epoch=t["best_epoch"], seconds=t["seconds"],
        speed="\n".join(_speed_lines(out)),
        runtimes="\n".join(_runtime_lines(out) + [""] + _runtime_validation_lines(report)),
        walk_through="\n".join(_walk_through_lines(report)),
        command=_command(report),
        study="\n".join(_study_lines(report)),
        study_command=STUDY_COMMAND,
        windows=t["settings"].get("max_windows_per_clip", 4),
        selection=("model selection on the cross-source pool only (the mean of pool text->audio R@10 and "
                   "per-source zero-shot accuracy; the epoch is stage 1's, kept when the chosen recipe was "
                   "trained again with the pool sources' train items)" if t["settings"].get("head_kind") else
                   "model selection on the validation split only (the mean of text->audio R@10 and zero-shot "
                   "accuracy)"),
    )
    path = out / "MODEL_CARD.md"
    path.write_text(text)
    return path


def rewrite_card(out: Path) -> Path:
    """The card again from the validation.json beside the model (after speed or runtime figures change)."""
    return write_card(out, json.loads((out / "validation.json").read_text()))


if __name__ == "__main__":  # python -m training.recipes.default.card: rewrite the bundled model's card
    from .__main__ import DEFAULT_OUT

    print(rewrite_card(DEFAULT_OUT))
