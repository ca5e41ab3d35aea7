"""The Python API: clapsearch.Library / tag / load_model, defaults, model choice, caches."""

import os

import numpy as np
import pytest

import clapsearch
from clapsearch import api
from clapsearch.errors import ClapsearchError, EmptyIndexError, ModelMismatchError
from clapsearch.store import Store
from tests.sound_library import LIBRARY, CountingModel, make_library


@pytest.fixture
def lib(tmp_path):
    return make_library(tmp_path / "lib")


def test_package_exports_the_api():
    assert clapsearch.Library is api.Library and clapsearch.tag is api.tag
    assert clapsearch.load_model("tiny").name == "tiny"


def test_default_db_comes_from_the_environment_then_the_user_data_folder(monkeypatch, tmp_path):
    assert api.Library().db == os.environ["CLAPSEARCH_DB"]
    monkeypatch.delenv("CLAPSEARCH_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert api.default_db_path() == str(tmp_path / "data" / "clapsearch" / "index.db")


def test_model_choice_given_then_env_then_index_then_default(lib, tmp_path, monkeypatch):
    library = api.Library(model="tiny")
    library.index([tmp_path / "lib"])
    assert api.Library().model_for("tiny").name == "tiny"  # the index's model
    monkeypatch.setenv("CLAPSEARCH_MODEL", "nonsense-model")
    with pytest.raises(ClapsearchError, match="Unknown model 'nonsense-model'"):
        api.Library().search("dog")
    monkeypatch.delenv("CLAPSEARCH_MODEL")
    # With no bundled model installed, the fallback is `default`, which says so plainly.
    monkeypatch.setattr("clapsearch.models.default.ASSET_DIR", tmp_path / "no-assets")
    with pytest.raises(clapsearch.errors.NoDefaultModelError):
        api.Library().model_for(None)
    assert len(api.Library().search("dog", k=2)) == 2


def test_search_results_carry_path_score_times_and_duration(lib, tmp_path, tiny_model):
    library = api.Library(model=tiny_model)
    library.index([tmp_path / "lib"])
    hits = library.search("tone", k=10)
    assert len(hits) == len(LIBRARY)
    for hit in hits:
        assert 0 <= hit.start < hit.end <= hit.duration + 1e-6 and -1 <= hit.score <= 1 + 1e-6


def test_similar_to_a_file_outside_the_index_embeds_it(lib, tmp_path, tiny_model):
    library = api.Library(model=tiny_model)
    library.index([tmp_path / "lib" / "tones"])
    outside = lib["sweeps/up.wav"]
    hits = library.similar(outside, k=5)
    assert {h.path for h in hits} == {str(lib["tones/a440.wav"]), str(lib["tones/a880.flac"])}


def test_similar_to_an_indexed_file_needs_no_model_work(lib, tmp_path, tiny_model):
    model = CountingModel(tiny_model)
    library = api.Library(model=model)
    library.index([tmp_path / "lib"])
    model.audio_calls = 0
    library.similar(lib["noise/white.ogg"])
    assert model.audio_calls == 0


def test_parse_excerpt(tmp_path):
    assert api.parse_excerpt("a.wav@1.5-3") == (os.path.abspath("a.wav"), 1.5, 3.0)
    assert api.parse_excerpt("a.wav") == (os.path.abspath("a.wav"), None, None)
    odd = tmp_path / "take@1-2.wav"
    odd.write_bytes(b"")
    assert api.parse_excerpt(str(odd)) == (str(odd), None, None)  # an existing name wins
    with pytest.raises(ClapsearchError, match="ends before it starts"):
        api.parse_excerpt("a.wav@3-1")


def test_excerpt_outside_the_file_is_one_sentence(lib, tmp_path, tiny_model):
    library = api.Library(model=tiny_model)
    library.index([tmp_path / "lib"])
    with pytest.raises(ClapsearchError, match="outside the file"):
        library.similar(f"{lib['tones/a440.wav']}@10-12")


def test_tag_without_an_index_uses_no_database(lib, tmp_path, tiny_model):
    rows = api.tag([lib["tones/a440.wav"]], ["dog", "cat"], model=tiny_model, top=0)
    assert [r["label"] for r in rows[0]["labels"]] and not os.path.exists(os.environ["CLAPSEARCH_DB"])


def test_tag_uses_the_index_caches_when_the_model_matches(lib, tmp_path, tiny_model):
    model = CountingModel(tiny_model)
    api.Library(model=model).index([tmp_path / "lib"])
    first = api.tag([lib["tones/a440.wav"]], ["dog", "cat"], model=model)
    model.audio_calls = model.text_calls = 0
    again = api.tag([lib["tones/a440.wav"]], ["dog", "cat"], model=model)
    assert again == first and (model.audio_calls, model.text_calls) == (0, 0)  # stored vectors, cached labels
    with Store(os.environ["CLAPSEARCH_DB"], readonly=True) as store:
        assert set(store.cached_text_vectors(model.fingerprint, ["This is a sound of dog."])) == {
            "This is a sound of dog."}


def test_tag_scores_equal_scoring_the_pooled_vector(lib, tiny_model):
    (row,) = api.tag([lib["sweeps/up.wav"]], ["dog", "rain", "siren"], model=tiny_model, top=0)
    from clapsearch.audio.pipeline import embed_files

    (result,) = list(embed_files(tiny_model, [lib["sweeps/up.wav"]]))
    text = tiny_model.embed_text([f"This is a sound of {x}." for x in ("dog", "rain", "siren")]).numpy()
    logits = tiny_model.logit_scale * (result.pooled.astype(np.float64) @ text.T.astype(np.float64))
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    got = {item["label"]: item["score"] for item in row["labels"]}
    np.testing.assert_allclose([got[x] for x in ("dog", "rain", "siren")], expected, atol=2e-6)


def test_label_stores_rows_and_returns_them(lib, tmp_path, tiny_model):
    library = api.Library(model=tiny_model)
    library.index([tmp_path / "lib"])
    rows = library.label(["dog", "rain"], top=0, label_set="weather")
    assert len(rows) == len(LIBRARY) and all(len(r["labels"]) == 2 for r in rows)
    with Store(library.db, readonly=True) as store:
        stored = {(r["path"], r["label"]): r["score"] for r in store.iter_labels("weather")}
    assert stored == {(r["path"], x["label"]): x["score"] for r in rows for x in r["labels"]}


def test_empty_and_missing_index_errors(tmp_path, tiny_model):
    with pytest.raises(EmptyIndexError):
        api.Library(model=tiny_model).search("dog")
    with pytest.raises(EmptyIndexError):
        api.Library().info()
    with pytest.raises(EmptyIndexError):
        api.Library().label(["dog"])


def test_model_mismatch(lib, tmp_path, tiny_model, tiny_text_dir):
    from tests.tiny_model import load_tiny

    api.Library(model=tiny_model).index([tmp_path / "lib"])
    other = load_tiny(tiny_text_dir, name="other", seed=3)
    with pytest.raises(ModelMismatchError, match="built with model 'tiny'"):
        api.Library(model=other).search("dog")
    with pytest.raises(ModelMismatchError):
        api.Library(model=other).index([tmp_path / "lib"])


def test_similar_to_an_unreadable_or_missing_file_is_one_sentence(lib, tmp_path, tiny_model):
    library = api.Library(model=tiny_model)
    library.index([tmp_path / "lib"])
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    with pytest.raises(ClapsearchError, match=r"^Cannot read '.*notes.wav': not an audio file .*\.$"):
        library.similar(bad)
    with pytest.raises(ClapsearchError, match="does not exist"):
        library.similar(tmp_path / "missing.wav")
