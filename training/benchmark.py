"""Run the paper's benchmarks on any model clapsearch loads, and print ours beside the published figures.

    python -m training.benchmark --model M --task esc50 --data DIR [--protocol zero-shot,probe-l1]
    python -m training.benchmark --model M --suite --data-root ROOT --out results.md
    python -m training.benchmark --list

`--suite` looks under ROOT for each task's usual directory name (ESC-50/, UrbanSound8K/, FSD50K/,
...; see `--list`), runs every task it finds and writes one Markdown table. A task that fails
(a wrong layout, say) gets an error row; the others still run. Figures are percentages.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clapsearch.errors import ClapsearchError


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m training.benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model name as clapsearch loads it (default: the bundled model)")
    parser.add_argument("--task", help="one task, e.g. esc50 (see --list)")
    parser.add_argument("--data", help="the task's dataset directory, as distributed")
    parser.add_argument("--suite", action="store_true", help="run every task whose data is under --data-root")
    parser.add_argument("--data-root", help="directory holding the datasets (for --suite)")
    parser.add_argument("--protocol", default="zero-shot",
                        help="comma-separated: zero-shot, probe-l1, probe-l3, finetune (default zero-shot)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs for probes/fine-tuning (default: the paper's 30)")
    parser.add_argument("--cache-dir", default=None, help="embedding cache directory")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: best available)")
    parser.add_argument("--workers", type=int, default=2, help="decoding threads")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    parser.add_argument("--json", dest="json_", action="store_true", help="print the results as JSON")
    parser.add_argument("--list", action="store_true", help="list the tasks, their directories and prompts")
    args = parser.parse_args(argv)
    if not args.list and not args.suite and not (args.task and args.data):
        parser.error("give --task and --data, or --suite and --data-root, or --list")
    if args.suite and not args.data_root:
        parser.error("--suite needs --data-root")
    return args


def options_from(args):
    from .evaluate import EvalOptions
    from .probe import EPOCHS

    return EvalOptions(cache_dir=args.cache_dir, epochs=args.epochs or EPOCHS, workers=args.workers)


def run_one(model, task, data_dir, protocols, options) -> dict:
    from .evaluate import evaluate_task

    try:
        return evaluate_task(model, task, data_dir, protocols, options)
    except (ClapsearchError, ValueError) as exc:  # one broken dataset must not stop a --suite
        return {"task": task.name, "title": task.title, "model": model.name, "data": str(data_dir), "error": str(exc)}


def list_tasks() -> str:
    from .benchmarks.registry import get_task, task_names

    lines = ["| task | title | kind | prompt | folds / split | directory names (--suite) |", "|---|---|---|---|---|---|"]
    for name in task_names():
        task = get_task(name)
        prompt = task.prompt.format("[class label]") if task.classes else ""
        lines.append(f"| {name} | {task.title} | {task.kind} | {prompt} | {task.folds_note} | {', '.join(task.default_dirs)} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list:
        print(list_tasks())
        return 0
    from clapsearch.models import load_model

    from .benchmarks.registry import find_present, get_task
    from .report import markdown_table

    protocols = [p.strip() for p in args.protocol.split(",") if p.strip()]
    try:
        if args.suite:
            jobs = find_present(args.data_root)
            if not jobs:
                raise ClapsearchError(f"No benchmark dataset found under {args.data_root}; see --list for the directory names.")
        else:
            jobs = [(get_task(args.task), Path(args.data))]
        model = load_model(args.model, device=args.device)
        options = options_from(args)
        runs = [run_one(model, task, directory, protocols, options) for task, directory in jobs]
    except (ClapsearchError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    table = markdown_table(runs)
    if args.out:
        Path(args.out).write_text(table + "\n", encoding="utf-8")
    print(json.dumps(runs, indent=2) if args.json_ else table)
    return 1 if all("error" in run for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
