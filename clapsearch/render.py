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
    """query / similar: [{"path", "score", "similarity", "start", "end", "duration", "audio_rank",
    "text_rank", "words"}], best first (docs/json.md)."""
    rows = []
    for h in hits:
        similarity = getattr(h, "similarity", h.score)
        rows.append({"path": h.path, "score": round(float(h.score), 6),
                     "similarity": None if similarity is None else round(float(similarity), 6),
                     "start": round(float(h.start), 3), "end": round(float(h.end), 3),
                     "duration": round(float(h.duration or 0.0), 3), "audio_rank": getattr(h, "audio_rank", None),
                     "text_rank": getattr(h, "text_rank", None), "words": list(getattr(h, "words", ()))})
    return rows


def shortened(path: str, roots=()) -> str:
    """`path` relative to the deepest indexed root that holds it; the full path when none does."""
    holders = [root for root in roots if path.startswith(root.rstrip(os.sep) + os.sep)]
    return os.path.relpath(path, max(holders, key=len)) if holders else path


def hits_table(hits, roots=()) -> str:
    """The readable table; paths are shortened relative to the indexed roots (JSON keeps them absolute)."""
    rows = hit_rows(hits)
    if not rows:
        return "No matches."
    lines = [f"{'score':>8}  {'cosine':>6}  {'start':>9}  {'end':>9}  {'length':>9}  path"]
    for row in rows:
        cosine = "" if row["similarity"] is None else f"{row['similarity']:6.3f}"
        lines.append(f"{row['score']:8.3f}  {cosine:>6}  {_clock(row['start']):>9}  {_clock(row['end']):>9}  "
                     f"{_clock(row['duration']):>9}  {printable(shortened(row['path'], roots))}")
    return "\n".join(lines)


def hits_m3u(hits) -> str:
    """An extended M3U playlist of the hits' files, best first (each file once; players and DAW
    browsers open it). The passage is noted in the title, since M3U has no start time."""
    lines, seen = ["#EXTM3U"], set()
    for row in hit_rows(hits):
        if row["path"] in seen:
            continue
        seen.add(row["path"])
        title = f"{os.path.basename(printable(row['path']))} @ {_clock(row['start'])}-{_clock(row['end'])}"
        lines += [f"#EXTINF:{int(round(row['duration']))},{title}", printable(row["path"])]
    return "\n".join(lines) + "\n"


def hits_csv(hits) -> str:
    """One CSV line per hit, with the JSON keys as columns (words joined by spaces)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    keys = ["rank", "path", "score", "similarity", "start", "end", "duration", "audio_rank", "text_rank", "words"]
    writer.writerow(keys)
    for rank, row in enumerate(hit_rows(hits), 1):
        row = {**row, "rank": rank, "path": printable(row["path"]), "words": " ".join(row["words"])}
        writer.writerow(["" if row[key] is None else row[key] for key in keys])
    return out.getvalue()


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
        f"model: {info['model']} (fingerprint {info['fingerprint']})"
        + (f", audio embedded with {' + '.join(info['audio_runtimes'])}" if info.get("audio_runtimes") else ""),
        f"windows: {_seconds(info['window_seconds'])} long, every {_seconds(info['hop_seconds'])}",
        f"files: {info['files_indexed']:,} indexed, {info['files_failed']:,} failed, "
        f"{info['files_with_warnings']:,} with warnings",
        f"audio: {clock(info['audio_hours'] * 3600)} in {info['segments']:,} segments",
        f"search: {info['index_kind'] or 'not built yet'}"
        + (f", about {human_bytes(info['index_memory_bytes'])} in memory" if info.get("index_memory_bytes") else ""),
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
