"""The `clapsearch` command: thin Click commands that parse, call clapsearch.api and render.

Nothing heavy is imported at module level (the API, torch, faiss load inside the commands), so
`clapsearch --help` is instant. Every ClapsearchError is caught in one place (ClapsearchGroup) and
printed as its one sentence, exit code 1; Click's usage errors exit with 2.
"""

from __future__ import annotations

import click

from . import __version__
from .errors import ClapsearchError


class ClapsearchGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ClapsearchError as error:
            # A path in the message may hold undecodable name bytes: show them as U+FFFD, never crash.
            message = str(error).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            click.echo(f"Error: {message}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted: the finished work is saved; run the same command again to resume.", err=True)
            ctx.exit(130)


# ---- shared options: one meaning and one environment variable each ------------------------------

def db_option(f):
    return click.option("--db", envvar="CLAPSEARCH_DB", type=click.Path(dir_okay=False), default=None,
                        help="Index database file [env CLAPSEARCH_DB; default: in the user data folder].")(f)


def model_option(f):
    return click.option("-m", "--model", envvar="CLAPSEARCH_MODEL", default=None,
                        help="Model name (see `clapsearch models`) [env CLAPSEARCH_MODEL; default: "
                             "the index's model, else `default`].")(f)


def device_option(f):
    return click.option("--device", default=None, help="Torch device, e.g. cpu or cuda [default: best available].")(f)


def runtime_option(f):
    # Literal choices (not imported from models.runtime.choice): `clapsearch --help` stays import-free.
    return click.option("--runtime", type=click.Choice(["torch", "onnx", "onnx-int8", "torch-bf16"]),
                        envvar="CLAPSEARCH_RUNTIME", default=None,
                        help="Engine for the audio tower: torch (the reference), onnx (fp32; the default model "
                             "and hf: models), onnx-int8 (the default model) or torch-bf16 (hf: models) "
                             "[default on a CPU: onnx-int8 for the default model; torch-bf16 for hf: models where the "
                             "CPU has bf16 instructions, else onnx; torch otherwise].")(f)


def json_option(f):
    return click.option("--json", "json_", is_flag=True,
                        help="Print JSON (its schema: `clapsearch schema COMMAND`).")(f)


def wait_option(f):
    return click.option("--wait", "wait_seconds", type=click.FloatRange(min=0), default=0.0, show_default=True,
                        help="Seconds to wait for another run writing to the same index, then give up.")(f)


def filter_options(f):
    f = click.option("--channels", "channels", multiple=True, type=click.IntRange(min=1),
                     help="Only files with this many channels, e.g. 1 (repeatable).")(f)
    f = click.option("--sample-rate", multiple=True, type=click.IntRange(min=1),
                     help="Only files at this sample rate in Hz, e.g. 48000 (repeatable).")(f)
    f = click.option("--format", "format_", multiple=True,
                     help="Only files in this container format, e.g. wav, flac, ogg, mp3 (repeatable).")(f)
    f = click.option("--ext", multiple=True, help="Only files with this extension, e.g. wav (repeatable).")(f)
    f = click.option("--max-duration", type=click.FloatRange(min=0), default=None,
                     help="Only files at most this many seconds long.")(f)
    f = click.option("--min-duration", type=click.FloatRange(min=0), default=None,
                     help="Only files at least this many seconds long.")(f)
    f = click.option("--under", type=click.Path(file_okay=False), default=None,
                     help="Only files under this folder.")(f)
    return click.option("-k", "k", type=click.IntRange(min=1), default=10, show_default=True,
                        help="How many results.")(f)


def label_options(f):
    f = click.option("--template", default="This is a sound of {}.", show_default=True,
                     help="Prompt for each label; {} is replaced by the label.")(f)
    return click.option("--multi-label", is_flag=True,
                        help="Score each label on its own (sigmoid) instead of a softmax across labels.")(f)


def _library(db, model, device, runtime=None):
    from .api import Library

    return Library(db=db, model=model, device=device, runtime=runtime)


def _filters(under, min_duration, max_duration, ext, format_=(), sample_rate=(), channels=()):
    from .api import make_filters

    return make_filters(under=under, min_duration=min_duration, max_duration=max_duration, ext=ext,
                        format=format_, sample_rate=sample_rate, channels=channels)


def _print(json_, value, table):
    from . import render

    click.echo(render.to_json(value) if json_ else table)


# ---- commands -------------------------------------------------------------------------------------

@click.group(cls=ClapsearchGroup)
@click.version_option(version=__version__, prog_name="clapsearch")
def cli():
    """Search and label a local audio library by meaning, offline, with CLAP models."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=False))
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Decoding threads beside the model [default: auto, from the free cores]; with "
                   "--engine ray, model workers [default: one per GPU, else one per CPU left beside the decoders].")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Windows per model call.")
@click.option("--hop", "hop_seconds", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds between window starts [default: half a window, or the index's hop].")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where decoding and embedding run: on this machine, or on a Ray cluster (pip install "
                   "'clapsearch[ray]').")
@click.option("--address", default=None,
              help="With --engine ray: the cluster's address, e.g. ray://head:10001 or auto [env RAY_ADDRESS; "
                   "default: a private Ray instance on this machine].")
@wait_option
@db_option
@model_option
@device_option
@runtime_option
@json_option
def index(paths, workers, batch_size, hop_seconds, engine, address, wait_seconds, db, model, device, runtime,
          json_):
    """Index the audio files under PATHS (incremental: only new or changed files are embedded)."""
    from . import render

    if address and engine != "ray":
        raise click.UsageError("--address is for --engine ray.")
    summary = _library(db, model, device, runtime).index(
        paths, hop_seconds=hop_seconds, batch_size=batch_size, workers=workers,
        wait_seconds=wait_seconds, progress=True, engine=engine, address=address)
    _print(json_, summary.as_dict(), render.summary_text(summary))


def export_options(f):
    f = click.option("--csv", "csv_out", type=click.Path(dir_okay=False), default=None,
                     help="Also write the results to this CSV file.")(f)
    return click.option("--m3u", "m3u_out", type=click.Path(dir_okay=False), default=None,
                        help="Also write the results' files to this M3U playlist.")(f)


def _export(hits, m3u_out, csv_out):
    from pathlib import Path

    from . import render

    if m3u_out:
        Path(m3u_out).write_text(render.hits_m3u(hits), encoding="utf-8")
    if csv_out:
        Path(csv_out).write_text(render.hits_csv(hits), encoding="utf-8")


def per_file_option(f):
    return click.option("--per-file", type=click.IntRange(min=0), default=1, show_default=True,
                        help="Passages per file (never overlapping); 0 = every window.")(f)


@cli.command()
@click.argument("text")
@filter_options
@per_file_option
@click.option("--mode", type=click.Choice(["hybrid", "audio", "text"]), default="hybrid", show_default=True,
              help="Rank by sound and words fused, by sound only, or by words (names, tags, labels) only.")
@click.option("--not", "not_", multiple=True, metavar="TEXT",
              help="Push down passages that sound like this description (repeatable).")
@click.option("--like", multiple=True, metavar="FILE[@S-E]",
              help="Also search near this example sound or excerpt (repeatable).")
@click.option("--no-ensemble", is_flag=True, help="Embed the text as written, not averaged over prompt templates.")
@export_options
@db_option
@model_option
@device_option
@runtime_option
@json_option
def query(text, k, under, min_duration, max_duration, ext, format_, sample_rate, channels, per_file, mode, not_, like,
          no_ensemble, m3u_out, csv_out, db, model, device, runtime, json_):
    """Find the passages that best match a description, e.g. "dog barking" (-word leaves out files named so)."""
    from . import render

    if not text.strip() and not like:
        raise click.UsageError('The query is empty; describe the sound, e.g. clapsearch query "dog barking".')

    library = _library(db, model, device, runtime)
    hits = library.search(
        text, k=k, filters=_filters(under, min_duration, max_duration, ext, format_, sample_rate, channels),
        per_file=per_file, mode=mode,
        ensemble=not no_ensemble, not_=not_, like=like)
    _export(hits, m3u_out, csv_out)
    _print(json_, render.hit_rows(hits), render.hits_table(hits, library.indexed_roots()))


@cli.command()
@click.argument("targets", nargs=-1, required=True, metavar="FILE[@START-END]...")
@filter_options
@per_file_option
@click.option("--include-self", is_flag=True, help="Also list passages of the example files themselves.")
@export_options
@db_option
@model_option
@device_option
@runtime_option
@json_option
def similar(targets, k, under, min_duration, max_duration, ext, format_, sample_rate, channels, per_file, include_self,
            m3u_out, csv_out, db, model, device, runtime, json_):
    """Find passages that sound like FILE, like FILE from START to END seconds (FILE@12.5-15), or like several."""
    from . import render

    library = _library(db, model, device, runtime)
    hits = library.similar(
        list(targets), k=k, filters=_filters(under, min_duration, max_duration, ext, format_, sample_rate, channels),
        exclude_self=not include_self,
        per_file=per_file)
    _export(hits, m3u_out, csv_out)
    _print(json_, render.hit_rows(hits), render.hits_table(hits, library.indexed_roots()))


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--labels", "labels_arg", default=None,
              help="Labels as A,B,C or a file with one label per line [default: the 527 AudioSet classes].")
@click.option("--top", type=click.IntRange(min=0), default=5, show_default=True,
              help="How many labels per file; 0 = every label.")
@label_options
@db_option
@model_option
@device_option
@runtime_option
@json_option
def tag(files, labels_arg, top, multi_label, template, db, model, device, runtime, json_):
    """Score FILES against labels, zero-shot (no index needed)."""
    from . import api, render, vocab

    labels = vocab.parse_labels(labels_arg) if labels_arg else None
    rows = api.tag(files, labels=labels, model=model, top=top, multi_label=multi_label, template=template,
                   db=db, device=device, runtime=runtime)
    _print(json_, rows, render.tags_table(rows))


@cli.command()
@click.option("--labels", "labels_arg", required=True, help="Labels as A,B,C or a file with one label per line.")
@click.option("--top", type=click.IntRange(min=0), default=1, show_default=True,
              help="How many labels to keep per file; 0 = every label.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Also write the results to this .csv or .json file.")
@click.option("--name", "label_set", default=None,
              help="Name the label set is stored under in the index [default: derived from the labels].")
@label_options
@wait_option
@db_option
@model_option
@device_option
@runtime_option
@json_option
def label(labels_arg, top, out, label_set, multi_label, template, wait_seconds, db, model, device, runtime, json_):
    """Label every indexed file zero-shot; results are stored in the index (and --out)."""
    from . import api, render, vocab

    if out:
        api.check_label_out(out)  # before the work, not after it
    rows = _library(db, model, device, runtime).label(
        vocab.parse_labels(labels_arg), template=template, multi_label=multi_label, top=top,
        label_set=label_set, wait_seconds=wait_seconds, progress=True)
    if out:
        api.write_label_rows(rows, out)
    if out and not json_:
        click.echo(render.label_summary(rows, out))  # the rows are in the file
    else:
        _print(json_, rows, render.tags_table(rows))


@cli.command()
@click.option("--failed", "show_failed", is_flag=True, help="List the files that could not be indexed, with why.")
@click.option("--warnings", "show_warnings", is_flag=True,
              help="List the files indexed with a warning (cut short, damaged, NaN samples), with what.")
@db_option
@json_option
def info(show_failed, show_warnings, db, json_):
    """Show what the index holds: model, files, segments, audio, size, failures and warnings."""
    from . import render

    details = _library(db, None, None).info()
    _print(json_, details, render.info_text(details, failed=show_failed, warnings=show_warnings))


@cli.group(invoke_without_command=True)
@json_option
@click.pass_context
def models(ctx, json_):
    """List the models --model accepts (presets, whether downloaded, and name forms); pull or rm presets."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(models_list, json_=json_)


@models.command("list")
@json_option
def models_list(json_):
    """List the presets (downloaded or not) and the name forms --model accepts."""
    from . import hub, render

    rows = hub.model_rows()
    _print(json_, rows, render.models_table(rows))


@models.command("pull")
@click.argument("name")
@json_option
def models_pull(name, json_):
    """Download preset NAME (or hf:ORG/NAME) into the hub cache, verified; then it works offline."""
    from . import hub, render

    result = hub.pull(name, progress=not json_)
    _print(json_, result, render.pull_text(result))


@models.command("rm")
@click.argument("name")
@json_option
def models_rm(name, json_):
    """Delete the downloaded files of preset NAME (or hf:ORG/NAME) from the hub cache."""
    from . import hub, render

    result = hub.remove(name)
    _print(json_, result, render.removed_text(result))


@cli.command()
@click.option("--dry-run", is_flag=True, help="Only list the entries that would be removed.")
@wait_option
@db_option
@json_option
def prune(dry_run, wait_seconds, db, json_):
    """Remove index entries of files that no longer exist."""
    from . import render

    removed = _library(db, None, None).prune(wait_seconds=wait_seconds, dry_run=dry_run)
    _print(json_, {"removed": removed, "dry_run": dry_run}, render.prune_text(removed, dry_run))


@cli.command()
@click.argument("command", nargs=-1)
def schema(command):
    """Print the documented JSON schemas of --json output (of one COMMAND, e.g. `models pull`, or all)."""
    from .schemas import schema_text

    click.echo(schema_text(" ".join(command) or None))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address lets other machines in (with a warning).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8765, show_default=True,
              help="Port to listen on.")
@click.option("--max-upload", "max_upload_mb", type=click.FloatRange(min=0, min_open=True), default=100.0,
              show_default=True, help="Largest file, in MB, accepted for search by example.")
@db_option
@model_option
@device_option
@runtime_option
def serve(host, port, max_upload_mb, db, model, device, runtime):
    """Search and listen in the browser: a local web page and JSON API over the index."""
    from .serve.server import serve as run_server

    run_server(_library(db, model, device, runtime), host=host, port=port, max_upload_mb=max_upload_mb)
