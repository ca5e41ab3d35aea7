"""Turn API results into what the CLI prints: readable tables by default, JSON with --json.

The JSON shapes are the documented schemas (clapsearch/docs/json.md, printed by `clapsearch schema`); tests check their exact keys.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re

_LONE_SURROGATE = re.compile("[\udc80-\udcff]")  # bytes of a non-UTF-8 file name, as Python decodes them


def printable(path: str) -> str:
    """A file name that any terminal can show: undecodable bytes become U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace") if _LONE_SURROGATE.search(path) else path


def to_json(value) -> str:
    """JSON text that stays valid UTF-8: undecodable name bytes are written as \\udcXX escapes,
    which json.loads turns back into the exact str Python uses to open the file."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def hit_rows(hits) -> list[dict]:
    """query / similar: [{"path", "score", "start", "end", "duration"}], best first."""
    return [
        {"path": h.path, "score": round(float(h.score), 6), "start": round(float(h.start), 3),
         "end": round(float(h.end), 3), "duration": round(float(h.duration), 3)}
        for h in hits
    ]


def hits_table(hits) -> str:
    rows = hit_rows(hits)
    if not rows:
        return "No matches."
    lines = [f"{'score':>7}  {'start':>9}  {'end':>9}  path"]
    for row in rows:
        lines.append(f"{row['score']:7.3f}  {_clock(row['start']):>9}  {_clock(row['end']):>9}  {printable(row['path'])}")
    return "\n".join(lines)


def tags_table(rows: list[dict]) -> str:
    """tag / label rows ({"path", "labels": [{"label", "score"}]}) as indented blocks."""
    lines = []
    for row in rows:
        lines.append(printable(row["path"]))
        if row.get("error"):
            lines.append(f"  failed: {row['error']}")
        for item in row["labels"]:
            lines.append(f"  {item['score']:7.3f}  {item['label']}")
    return "\n".join(lines) if lines else "Nothing to label."


def labels_csv(rows: list[dict]) -> str:
    """One CSV line per (file, label): path,rank,label,score."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "rank", "label", "score"])
    for row in rows:
        for rank, item in enumerate(row["labels"], 1):
            writer.writerow([printable(row["path"]), rank, item["label"], item["score"]])
    return out.getvalue()


def summary_text(summary) -> str:
    counts = [("moved", summary.moved), ("copied", summary.copied), ("removed", summary.removed),
              ("failed", len(summary.failed)), ("with warnings", len({path for path, _ in summary.warned}))]
    parts = [f"Indexed {summary.indexed}", f"unchanged {summary.skipped}"] + [f"{w} {n}" for w, n in counts if n]
    lines = [f"{', '.join(parts)}; {clock(summary.audio_seconds)} of audio in {summary.wall_seconds:.1f} s."]
    for path, reason in summary.failed:
        lines.append(f"  failed: {printable(path)}: {reason}")
    for path, warning in summary.warned:
        lines.append(f"  warning: {printable(path)}: {warning}")
    return "\n".join(lines)


def info_text(info: dict, failed: bool = False, warnings: bool = False) -> str:
    """The index's details in human units; the failures and warnings listed only when asked for."""
    lines = [
        f"index: {printable(info['db'])}",
        f"model: {info['model']} (fingerprint {info['fingerprint']})",
        f"windows: {_seconds(info['window_seconds'])} long, every {_seconds(info['hop_seconds'])}",
        f"files: {info['files_indexed']:,} indexed, {info['files_failed']:,} failed, "
        f"{info['files_with_warnings']:,} with warnings",
        f"audio: {clock(info['audio_hours'] * 3600)} in {info['segments']:,} segments",
        f"search: {info['index_kind'] or 'not built yet'}",
        f"size on disk: {human_bytes(info['db_bytes'])} database, {human_bytes(info['faiss_bytes'])} vectors",
    ]
    hints = [f"--{flag}" for flag, count, shown in (("failed", info["files_failed"], failed),
                                                    ("warnings", info["files_with_warnings"], warnings))
             if count and not shown]
    if hints:
        lines.append(f"(list them with `clapsearch info {' '.join(hints)}`)")
    if failed:
        lines += [f"  failed: {printable(f['path'])}: {f['error']}" for f in info["failures"]]
    if warnings:
        lines += [f"  warning: {printable(w['path'])}: {w['warning']}" for w in info["warnings"]]
    return "\n".join(lines)


def label_summary(rows: list[dict], out) -> str:
    """What `label --out` says instead of printing every row."""
    counts: dict[str, int] = {}
    for row in rows:
        if row["labels"]:
            counts[row["labels"][0]["label"]] = counts.get(row["labels"][0]["label"], 0) + 1
    common = ", ".join(f"{label} ({n})" for label, n in sorted(counts.items(), key=lambda kv: -kv[1])[:5])
    return (f"Labelled {len(rows):,} files; wrote {printable(os.fspath(out))}."
            + (f" Most common first labels: {common}." if common else ""))


def prune_text(removed: list[str], dry_run: bool) -> str:
    if not removed:
        return "Nothing to remove: every indexed file still exists."
    head = f"Would remove {len(removed)} entries" if dry_run else f"Removed {len(removed)} entries"
    return "\n".join([f"{head} of missing files:"] + [f"  {printable(path)}" for path in removed])


def human_bytes(count: int | None) -> str:
    value = float(count or 0)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def clock(seconds: float) -> str:
    """A duration as h:mm:ss (or m:ss under an hour)."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _seconds(value) -> str:
    return "?" if value is None else f"{value:g} s"


def models_table(rows: list[dict]) -> str:
    """Presets (status, size, window, license, what for), then the name forms, as two blocks."""
    presets = [r for r in rows if r["kind"] == "preset"]
    others = [r for r in rows if r["kind"] != "preset"]
    width = max(len(r["name"]) for r in rows)
    lines = ["Models (--model NAME):"]
    for r in presets:
        status = "downloaded" if r["downloaded"] else f"pull: {r['download_mb']} MB"
        lines.append(f"  {r['name']:<{width}}  {status:<15} {r['window_seconds']:>4g} s  {r['license']}")
        lines.append(f"  {'':<{width}}  {r['description']}; for {r['good_for']}")
    lines += ["", "Forms (--model FORM):"]
    lines += [f"  {r['name']:<{width}}  {r['description']}" for r in others]
    lines += ["", "Download a model once with `clapsearch models pull NAME`; docs/models.md compares them."]
    return "\n".join(lines)


def pull_text(result: dict) -> str:
    if not result["repos"]:
        return f"{result['name']} ships with clapsearch; there is nothing to download."
    files = sum(len(r["files"]) for r in result["repos"])
    return (f"{result['name']}: {files} files, {result['bytes'] / 1e6:.1f} MB, checked against the hub's checksums, "
            f"in {result.get('cache', 'the hub cache')}; it now works offline (--model {result['name']}).")


def removed_text(result: dict) -> str:
    if not result["removed"]:
        return f"{result['name']}: nothing to remove (not downloaded, or its files are shared with a downloaded model)."
    return f"{result['name']}: removed {len(result['removed'])} files, freed {result['bytes'] / 1e6:.1f} MB."


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:06.3f}"
