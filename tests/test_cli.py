"""The clapsearch command end to end (CliRunner) on generated audio with the test-only tiny model."""

import csv
import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from clapsearch.cli import cli
from clapsearch.store import Store
from tests.sound_library import LIBRARY, make_library

HIT_KEYS = ["path", "score", "similarity", "start", "end", "duration", "audio_rank", "text_rank", "words"]


@pytest.fixture(autouse=True)
def quiet_transformers():
    """transformers is imported before the CLI runs here, so the CLI cannot silence its loading bars."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    yield
    logging.enable_progress_bar()


@pytest.fixture
def lib(tmp_path):
    return make_library(tmp_path / "lib")


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "index.db")


def run(*args, code=0):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def run_json(*args):
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture
def indexed(lib, db, tmp_path):
    run("index", tmp_path / "lib", "--db", db, "--model", "tiny")
    return lib


def test_help_lists_every_command():
    out = run("--help").stdout
    for command in ("index", "query", "similar", "tag", "label", "info", "models", "prune"):
        assert command in out


def test_importing_the_cli_imports_no_heavy_module():
    code = "import sys, clapsearch.cli; print(sorted(m for m in ('torch', 'transformers', 'faiss', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_index_prints_a_summary_and_json(lib, db, tmp_path):
    out = run("index", tmp_path / "lib", "--db", db, "--model", "tiny").stdout
    assert out.startswith(f"Indexed {len(LIBRARY)}, unchanged 0; 0:")
    summary = run_json("index", tmp_path / "lib", "--db", db, "--model", "tiny")
    assert list(summary) == ["indexed", "skipped", "moved", "copied", "removed", "failed", "warnings",
                             "audio_seconds", "wall_seconds"]
    assert (summary["indexed"], summary["skipped"]) == (0, len(LIBRARY))


def test_index_without_a_model_says_there_is_no_default(lib, db, tmp_path, monkeypatch):
    # An install without the bundled weights (e.g. a slimmed package) must say so in one sentence.
    monkeypatch.setattr("clapsearch.models.default.ASSET_DIR", tmp_path / "no-assets")
    result = run("index", tmp_path / "lib", "--db", db, code=1)
    assert result.stderr.startswith("Error: No bundled default model is installed yet; pass --model")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not os.path.exists(db)  # nothing is created before the model loads


def test_tables_show_paths_relative_to_the_indexed_root_and_json_keeps_them_absolute(tmp_path, db):
    make_library(tmp_path / "lib", ["tones/a440.wav", "tones/a880.flac"])
    make_library(tmp_path / "other", ["noise/white.ogg"])
    run("index", tmp_path / "lib", "--db", db, "--model", "tiny")
    run("index", tmp_path / "other" / "noise" / "white.ogg", "--db", db, "--model", "tiny")  # a file, not a root
    shown = {line.split()[-1] for line in run("query", "tone", "--db", db, "-k", "3").stdout.splitlines()[1:]}
    assert shown == {os.path.join("tones", "a440.wav"), os.path.join("tones", "a880.flac"),
                     str(tmp_path / "other" / "noise" / "white.ogg")}
    shown = {line.split()[-1] for line in
             run("similar", tmp_path / "lib" / "tones" / "a440.wav", "--db", db, "-k", "3").stdout.splitlines()[1:]}
    assert os.path.join("tones", "a880.flac") in shown
    paths = {hit["path"] for hit in run_json("query", "tone", "--db", db, "-k", "3")}
    assert paths == {str(tmp_path / "lib" / "tones" / "a440.wav"), str(tmp_path / "lib" / "tones" / "a880.flac"),
                     str(tmp_path / "other" / "noise" / "white.ogg")}
    run("index", tmp_path / "other", "--db", db, "--model", "tiny")  # now a root: shortened too
    shown = {line.split()[-1] for line in run("query", "tone", "--db", db, "-k", "3").stdout.splitlines()[1:]}
    assert os.path.join("noise", "white.ogg") in shown


def test_query_json_schema_and_table(indexed, db):
    hits = run_json("query", "a high tone", "--db", db, "-k", "3")
    assert len(hits) == 3 and all(list(h) == HIT_KEYS for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert len({h["path"] for h in hits}) == 3  # best passage per file
    table = run("query", "a high tone", "--db", db, "-k", "2").stdout.splitlines()
    assert table[0].split() == ["score", "cosine", "start", "end", "length", "path"] and len(table) == 3


def test_query_uses_the_model_recorded_in_the_index(indexed, db):
    assert len(run_json("query", "noise", "--db", db)) == len(LIBRARY)  # no --model given


def test_query_filters(indexed, db, tmp_path):
    under = run_json("query", "tone", "--db", db, "--under", tmp_path / "lib" / "tones")
    assert sorted(os.path.basename(h["path"]) for h in under) == ["a440.wav", "a880.flac"]
    by_ext = run_json("query", "tone", "--db", db, "--ext", "wav", "--ext", ".AIFF")
    assert sorted(os.path.basename(h["path"]) for h in by_ext) == ["a440.wav", "short.aiff", "up.wav"]
    long_ones = run_json("query", "tone", "--db", db, "--min-duration", "2.0", "--max-duration", "2.6")
    assert sorted(os.path.basename(h["path"]) for h in long_ones) == ["a440.wav", "white.ogg"]


def test_similar_excludes_the_file_itself_unless_asked(indexed, db):
    target = str(indexed["sweeps/up.wav"])
    hits = run_json("similar", target, "--db", db, "-k", "10")
    assert target not in [h["path"] for h in hits] and len(hits) == len(LIBRARY) - 1
    with_self = run_json("similar", target, "--db", db, "--include-self")
    # The query is the file's pooled vector (the mean of its windows), so its own best window comes first.
    assert with_self[0]["path"] == target and with_self[0]["score"] > max(h["score"] for h in hits)


def test_similar_to_an_excerpt(indexed, db):
    target = str(indexed["sweeps/up.wav"])
    hits = run_json("similar", f"{target}@1.0-2.0", "--db", db, "--include-self", "-k", "1")
    # The excerpt is exactly the indexed window 1.0-2.0 of the same file: that passage is the best match.
    assert (hits[0]["path"], hits[0]["start"], hits[0]["end"]) == (target, 1.0, 2.0)
    assert hits[0]["similarity"] == pytest.approx(1.0, abs=1e-4)
    bad = run("similar", f"{target}@2.0-1.0", "--db", db, code=1)
    assert "ends before it starts" in bad.stderr


def test_tag_with_a_label_list_json_schema(lib, db):
    rows = run_json("tag", lib["tones/a440.wav"], lib["noise/white.ogg"], "--model", "tiny", "--db", db,
                    "--labels", "dog,rain,siren", "--top", "2")
    assert [r["path"] for r in rows] == [str(lib["tones/a440.wav"]), str(lib["noise/white.ogg"])]
    for row in rows:
        assert list(row) == ["path", "labels"] and len(row["labels"]) == 2
        assert all(list(item) == ["label", "score"] for item in row["labels"])
        scores = [item["score"] for item in row["labels"]]
        assert scores == sorted(scores, reverse=True)


def test_tag_top_zero_gives_every_label_summing_to_one(lib, db, tmp_path):
    labels_file = tmp_path / "labels.txt"
    labels_file.write_text("dog\ncat\nrain\n\nsiren\n")
    (row,) = run_json("tag", lib["tones/a440.wav"], "--model", "tiny", "--db", db, "--labels", labels_file, "--top", "0")
    assert sorted(item["label"] for item in row["labels"]) == ["cat", "dog", "rain", "siren"]
    assert sum(item["score"] for item in row["labels"]) == pytest.approx(1.0, abs=1e-5)


def test_tag_multi_label_scores_do_not_sum_to_one(lib, db):
    (row,) = run_json("tag", lib["tones/a440.wav"], "--model", "tiny", "--db", db, "--labels", "dog,cat,rain",
                      "--top", "0", "--multi-label", "--template", "{} sounds")
    assert all(0 < item["score"] < 1 for item in row["labels"])
    assert sum(item["score"] for item in row["labels"]) > 1.0


def test_tag_without_labels_uses_the_audioset_vocabulary(lib, db):
    (row,) = run_json("tag", lib["tones/a440.wav"], "--model", "tiny", "--db", db, "--top", "0")
    assert len(row["labels"]) == 527


def test_tag_reports_an_unreadable_file_and_goes_on(lib, db, tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\0" * 100)
    rows = run_json("tag", bad, lib["tones/a440.wav"], "--model", "tiny", "--db", db, "--labels", "dog,cat")
    assert rows[0]["labels"] == [] and rows[0]["error"].startswith("not an audio file")
    assert len(rows[1]["labels"]) == 2


def test_label_writes_csv_and_json_and_stores_labels(indexed, db, tmp_path):
    out_csv, out_json = tmp_path / "labels.csv", tmp_path / "labels.json"
    printed = run("label", "--labels", "dog,rain,tone", "--db", db, "--out", out_csv, "--top", "2",
                  "--name", "demo").stdout
    assert printed.startswith(f"Labelled {len(LIBRARY)} files; wrote {out_csv}. Most common first labels: ")
    assert len(printed.splitlines()) == 1  # the rows are in the file, not on the terminal
    with open(out_csv, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["path", "rank", "label", "score"] and len(rows) == 1 + 2 * len(LIBRARY)
    printed = run_json("label", "--labels", "dog,rain,tone", "--db", db, "--out", out_json, "--multi-label")
    assert json.loads(out_json.read_text()) == printed
    assert all(list(r) == ["path", "labels"] and len(r["labels"]) == 1 for r in printed)
    with Store(db, readonly=True) as store:
        stored = list(store.iter_labels("demo"))
    assert len(stored) == 2 * len(LIBRARY) and {r["label"] for r in stored} <= {"dog", "rain", "tone"}
    assert run("label", "--labels", "dog", "--db", db, "--out", tmp_path / "x.txt", code=1).stderr.startswith("Error:")


def test_info_json(indexed, db):
    info = run_json("info", "--db", db)
    assert (info["model"], info["files_indexed"], info["files_failed"]) == ("tiny", len(LIBRARY), 0)
    assert info["segments"] > len(LIBRARY) and info["failures"] == [] and info["warnings"] == []
    assert isinstance(info["db_bytes"], int) and info["files_with_warnings"] == 0
    text = run("info", "--db", db).stdout
    assert "files: 5 indexed, 0 failed, 0 with warnings" in text
    assert re.search(r"size on disk: \d+\.\d (kB|MB) database", text), text
    assert info["index_kind"] == "flat" and info["index_memory_bytes"] > info["faiss_bytes"] > 0
    assert re.search(r"search: flat, about \d+\.\d kB in memory", text), text


def test_info_lists_failures_and_warnings_only_when_asked(lib, db, tmp_path):
    from tests.audio_gen import tone, write_audio

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "notes.wav").write_text("not audio\n" * 50)
    whole = write_audio(folder / "whole.wav", tone(440, 3.0, 16000), 16000).read_bytes()
    (folder / "cut.wav").write_bytes(whole[: len(whole) // 3])
    summary = run("index", str(folder), "--db", db).stdout
    assert "failed 1, with warnings 1;" in summary and "  warning: " + str(folder / "cut.wav") in summary
    text = run("info", "--db", db).stdout
    assert "(list them with `clapsearch info --failed --warnings`)" in text and "notes.wav" not in text
    both = run("info", "--db", db, "--failed", "--warnings").stdout
    assert f"  failed: {folder / 'notes.wav'}: not an audio file" in both
    assert f"  warning: {folder / 'cut.wav'}: the file is cut short: its header promises 3.000 s" in both
    info = run_json("info", "--db", db)
    assert [w["path"] for w in info["warnings"]] == [str(folder / "cut.wav")]
    assert info["files_with_warnings"] == 1


def test_models_lists_user_backends_and_never_the_hidden_test_model():
    out = run("models").stdout
    assert "hf:laion/clap-htsat-unfused" in out and "msclap-2022:PATH" in out
    names = [row["name"] for row in run_json("models")]
    assert "tiny" not in names and "default" in names


def test_prune_removes_missing_files(indexed, db):
    os.remove(indexed["tones/a880.flac"])
    gone = str(indexed["tones/a880.flac"])
    assert run("prune", "--db", db, "--dry-run").stdout == f"Would remove 1 entries of missing files:\n  {gone}\n"
    assert run_json("info", "--db", db)["files_indexed"] == len(LIBRARY)
    assert run_json("prune", "--db", db) == {"removed": [gone], "dry_run": False}
    assert run_json("info", "--db", db)["files_indexed"] == len(LIBRARY) - 1
    assert run("prune", "--db", db).stdout.startswith("Nothing to remove")


def test_query_on_a_missing_index_is_one_sentence_and_exit_1(db):
    result = run("query", "dog", "--db", db, code=1)
    assert result.stderr == f"Error: There is no index at {db}; run `clapsearch index FOLDER` first.\n"
    assert len(result.stderr.strip().splitlines()) == 1
    assert run("info", "--db", db, code=1).stderr.startswith("Error: There is no index")


def test_query_on_an_index_without_audio(db, tmp_path):
    (tmp_path / "empty").mkdir()
    run("index", tmp_path / "empty", "--db", db, "--model", "tiny")
    assert "holds no audio yet" in run("query", "dog", "--db", db, code=1).stderr


def test_index_built_with_another_model_is_refused(indexed, db, tmp_path):
    from clapsearch.models import register, unregister
    from tests.tiny_model import load_tiny

    text_dir = tmp_path / "other-text"
    register("tiny-other", lambda arg, name=None, device=None: load_tiny(text_dir, name="tiny-other", seed=1),
             "another test model", hidden=True)
    try:
        for args in (("query", "dog"), ("similar", indexed["tones/a440.wav"]), ("index", tmp_path / "lib")):
            result = run(*args, "--db", db, "--model", "tiny-other", code=1)
            assert "was built with model 'tiny'" in result.stderr or "built with model tiny" in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1
    finally:
        unregister("tiny-other")


def test_usage_errors_exit_2(db):
    assert run("query", code=2).exit_code == 2
    assert run("tag", "x.wav", "--top", "-1", code=2).exit_code == 2
    for empty in ("", "   "):
        assert "The query is empty" in run("query", empty, "--db", db, code=2).stderr


def test_second_index_run_refuses_or_waits(lib, db, tmp_path):
    run("index", tmp_path / "lib", "--db", db, "--model", "tiny")
    holder = Store(db)
    with holder.writer():
        refused = run("index", tmp_path / "lib", "--db", db, "--model", "tiny", code=1)
    holder.close()
    assert refused.stderr.startswith("Error: Another clapsearch process")
    assert len(refused.stderr.strip().splitlines()) == 1

    holder = Store(db)
    lock = holder.writer()
    lock.__enter__()
    threading.Timer(1.0, lambda: (lock.__exit__(None, None, None), holder.close())).start()
    started = time.monotonic()
    waited = run_json("index", tmp_path / "lib", "--db", db, "--model", "tiny", "--wait", "30")
    assert waited["skipped"] == len(LIBRARY) and time.monotonic() - started >= 0.9


def test_a_path_is_shortened_against_the_deepest_root_that_holds_it():
    from clapsearch.render import shortened

    roots = ["/music", "/music/drums", "/mus"]
    assert shortened("/music/drums/kick.wav", roots) == "kick.wav"
    assert shortened("/music/bass/low.wav", roots) == os.path.join("bass", "low.wav")
    assert shortened("/musical/x.wav", roots) == "/musical/x.wav"  # a name prefix is not a folder
    assert shortened("/other/x.wav", []) == "/other/x.wav"
