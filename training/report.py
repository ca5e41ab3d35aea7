"""Benchmark results -> one Markdown table: our figure beside each published figure and its source."""

from __future__ import annotations

from .benchmarks.reference import references_for

HEADER = ("| task | protocol | metric | ours (%) | clips | reference (%) | source |",
          "|---|---|---|---:|---:|---:|---|")


def _rows_for_metric(task: str, title: str, protocol: str, metric: str, value: float, clips: int) -> list[str]:
    ours = f"{100 * value:.1f}"
    references = references_for(task, protocol) if metric in ("accuracy", "mAP") else []
    if not references:
        return [f"| {title} | {protocol} | {metric} | {ours} | {clips} |  |  |"]
    return [f"| {title} | {protocol} | {metric} | {ours} | {clips} | {ref.value:.1f} | {ref.source} ({ref.protocol}) |"
            for ref in references]


def run_rows(run: dict) -> list[str]:
    if "error" in run:
        return [f"| {run['title']} | - | - | error |  |  | {run['error']} |"]
    rows = []
    for protocol, result in run["results"].items():
        if "error" in result:
            rows.append(f"| {run['title']} | {protocol} | - | n/a |  |  | {result['error']} |")
            continue
        metrics = result.get("metrics") or {result["metric"]: result["value"]}
        for metric, value in metrics.items():
            rows += _rows_for_metric(run["task"], run["title"], protocol, metric, value, result["clips"])
    return rows


def markdown_table(runs: list[dict]) -> str:
    lines = list(HEADER)
    for run in runs:
        lines += run_rows(run)
    models = sorted({run["model"] for run in runs})
    lines.append("")
    lines.append(f"Model: {', '.join(models)}. Figures are percentages; a blank reference means no published figure we can source.")
    return "\n".join(lines)
