"""Commands load only what they need: unchanged `index` loads no model, queries reuse cached texts,
and a `query` process with the default model never imports torch or transformers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from clapsearch import api
from clapsearch.errors import ModelMismatchError
from clapsearch.models import register, unregister
from clapsearch.store import Store
from tests.sound_library import CountingModel, make_library


@pytest.fixture
def counted_loads(tiny_text_dir):
    """A hidden backend `counted` (the tiny model) that records each load."""
    from tests.tiny_model import load_tiny

    loads = []

    def loader(arg, name=None, device=None):
        loads.append(name)
        return load_tiny(tiny_text_dir, name="counted")

    register("counted", loader, "tiny model, loads counted", "counted", hidden=True)
    yield loads
    unregister("counted")


def test_index_with_nothing_new_loads_no_model(tmp_path, counted_loads):
    make_library(tmp_path / "lib")
    api.Library(model="counted").index([tmp_path / "lib"])
    assert len(counted_loads) == 1
    summary = api.Library().index([tmp_path / "lib"])  # the index's model, nothing changed
    assert (summary.indexed, summary.skipped, len(counted_loads)) == (0, 5, 1)
    summary = api.Library(model="counted").index([tmp_path / "lib"])  # the same name, named
    assert len(counted_loads) == 1


def test_index_still_refuses_another_model_when_nothing_changed(tmp_path, counted_loads, tiny_model):
    make_library(tmp_path / "lib")
    api.Library(model="counted").index([tmp_path / "lib"])
    other = CountingModel(tiny_model)
    other.fingerprint = "another-model"
    with pytest.raises(ModelMismatchError, match="built with model"):
        api.Library(model=other).index([tmp_path / "lib"])


def test_a_repeated_query_text_comes_from_the_index_cache(tmp_path, tiny_model):
    make_library(tmp_path / "lib")
    counting = CountingModel(tiny_model)
    library = api.Library(model=counting)
    library.index([tmp_path / "lib"])
    first = library.search("a pure tone", k=3)
    assert counting.text_calls == 1
    again = library.search("a pure tone", k=3)
    assert counting.text_calls == 1  # served by the text cache
    assert [(h.path, h.score) for h in again] == [(h.path, h.score) for h in first]
    library.search("white noise", k=3)
    assert counting.text_calls == 2


def test_a_query_while_another_process_writes_skips_the_cache_instead_of_waiting(tmp_path, tiny_model):
    make_library(tmp_path / "lib")
    counting = CountingModel(tiny_model)
    library = api.Library(model=counting)
    library.index([tmp_path / "lib"])
    with Store(library.db) as writer, writer.batch():  # an open write transaction holds SQLite's lock
        writer.put_text_vectors("someone-else", {"x": np.ones(tiny_model.dim, np.float32)})
        hits = library.search("a busy index", k=2)
    assert len(hits) == 2
    library.search("a busy index", k=2)
    assert counting.text_calls == 2  # the first answer was not cached, and nothing broke


def write_default_index(db: str, library) -> None:
    """A small index bound to the real default-model fingerprint (random vectors, no embedding)."""
    from clapsearch.models import load_model

    model = load_model("default")
    rng = np.random.default_rng(0)
    with Store(db) as store, store.writer():
        store.bind_model(model.name, model.fingerprint, model.dim, model.sample_rate, model.window_seconds, 1.15)
        for n, path in enumerate(sorted(library.values())):
            vectors = rng.standard_normal((3, model.dim)).astype(np.float32)
            record = {"path": str(path), "size": 1, "mtime": 0.0, "content_hash": f"h{n}", "duration": 5.0}
            store.put_file(record, [0.0, 1.15, 2.3], [2.3, 3.45, 4.6], vectors, vectors.mean(axis=0))


@pytest.mark.slow
def test_a_query_process_with_the_default_model_imports_neither_torch_nor_transformers(tmp_path):
    from clapsearch.models.default import DefaultModel

    DefaultModel().embed_text(["warm"])  # the one-time ONNX export (torch) happens here, not in the child
    db = str(tmp_path / "default.db")
    write_default_index(db, make_library(tmp_path / "lib"))
    code = ("import sys, json; from clapsearch.cli import cli\n"
            "try:\n    cli(['query', 'dog barking', '--json', '-k', '2'])\n"
            "except SystemExit:\n    pass\n"
            "print(json.dumps([m for m in ('torch', 'torchaudio', 'transformers') if m in sys.modules]))")
    env = dict(os.environ, CLAPSEARCH_DB=db)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    hits, imported = out.stdout.rsplit("\n", 2)[0], out.stdout.splitlines()[-1]
    assert len(json.loads(hits)) == 2, out.stdout
    assert json.loads(imported) == [], out.stderr
