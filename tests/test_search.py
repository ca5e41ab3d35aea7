"""clapsearch.search: length-fair ranking, passages, words, hybrid fusion, composable queries."""

import numpy as np
import pytest

from clapsearch import api
from clapsearch.search import fts_query, parse_query, ranking
from clapsearch.search.fusion import rrf
from clapsearch.search.passages import audio_passages, pick_passages
from clapsearch.search.results import Result
from clapsearch.search.words import metadata_words, path_words, split_words
from clapsearch.store import Store
from tests.audio_gen import noise, tone, write_audio
from tests.store_helpers import bind, record, unit

SR = 16000


def write(path, samples):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_audio(path, samples, SR)


# ---- ranking ----------------------------------------------------------------------------------------

def test_a_long_file_needs_a_better_best_window_than_a_short_one():
    stats = (0.0, 0.1)
    for method in ("expected-max", "pvalue", "blend"):
        short, long = ranking.file_score(0.3, 1, stats, method), ranking.file_score(0.3, 500, stats, method)
        assert short > long
        # ... and the long file's score grows with its best window, as it must.
        assert ranking.file_score(0.5, 500, stats, method) > long
    assert ranking.file_score(0.3, 500, stats, "max") == ranking.file_score(0.3, 1, stats, "max") == 0.3


def test_null_stats_ignore_a_few_matching_windows():
    scores = np.r_[np.random.default_rng(0).normal(0.1, 0.05, 2000), np.full(20, 0.9)]
    mean, deviation = ranking.null_stats(scores)
    assert mean == pytest.approx(0.1, abs=0.01) and deviation == pytest.approx(0.05, abs=0.01)


def _store_with(tmp_path, files):
    """files: path -> window vectors (one-second windows)."""
    store = Store(tmp_path / "s.db")
    bind(store)
    for path, vectors in files.items():
        starts = np.arange(len(vectors), dtype=float)
        store.put_file(record(path, float(len(vectors))), starts, starts + 1.0, vectors, vectors.mean(axis=0))
    return store


def _near(query, cosine, rng):
    """A unit vector with the given cosine to `query`."""
    other = unit(rng, 1)[0]
    other -= (other @ query) * query
    other /= np.linalg.norm(other)
    return (cosine * query + np.sqrt(1 - cosine**2) * other).astype(np.float32)


def test_a_ten_minute_file_does_not_outrank_a_matching_two_second_file(tmp_path):
    rng = np.random.default_rng(3)
    query = unit(rng, 1)[0]
    background = {f"/lib/other{i}.wav": unit(rng, 3) for i in range(40)}
    long = unit(rng, 1200)  # ten minutes of half-second hops
    long[700] = _near(query, 0.62, rng)  # one lucky window, a little better than the short file's
    short = np.stack([_near(query, 0.6, rng), _near(query, 0.58, rng)])
    store = _store_with(tmp_path, {**background, "/lib/long.wav": long, "/lib/short.wav": short})
    with store:
        raw = store.search(query, k=2)
        assert raw[0].path == "/lib/long.wav"  # the raw best-window ranking favours the long file
        hits = audio_passages(store, query, k=50)
    paths = [h.path for h in hits]
    assert paths[0] == "/lib/short.wav" and paths.index("/lib/long.wav") > 0


def test_the_blend_ranks_a_file_that_matches_throughout_above_one_lucky_window(tmp_path):
    rng = np.random.default_rng(5)
    query = unit(rng, 1)[0]
    background = {f"/lib/other{i}.wav": unit(rng, 20) for i in range(40)}
    throughout = np.stack([_near(query, 0.8, rng) for _ in range(20)])
    lucky = unit(rng, 20)
    lucky[7] = _near(query, 0.82, rng)  # the same length, one window a little better than any of the other's
    store = _store_with(tmp_path, {**background, "/lib/throughout.wav": throughout, "/lib/lucky.wav": lucky})
    with store:
        by_passage = [h.path for h in audio_passages(store, query, k=2, method="expected-max")]
        blended = audio_passages(store, query, k=50)
    assert by_passage == ["/lib/lucky.wav", "/lib/throughout.wav"]
    assert blended[0].path == "/lib/throughout.wav"
    (lucky_hit,) = [h for h in blended if h.path == "/lib/lucky.wav"]
    assert lucky_hit.start == 7.0  # the lucky file's passage is still its best window


def test_pooled_vectors_come_back_by_file_and_as_an_even_sample(tmp_path):
    rng = np.random.default_rng(6)
    files = {f"/lib/f{i}.wav": unit(rng, 2) for i in range(10)}
    with _store_with(tmp_path, files) as store:
        ids = {r.path: r.id for r in store.iter_files(status="indexed")}
        pooled = store.pooled_vectors(ids.values())
        for path, vectors in files.items():
            mean = vectors.mean(axis=0)
            assert np.allclose(pooled[ids[path]], mean / np.linalg.norm(mean), atol=1e-6)
        assert store.sample_pooled_vectors(4).shape == (4, files["/lib/f0.wav"].shape[1])
        assert len(store.sample_pooled_vectors()) == 10 and len(store.sample_segment_vectors()) == 20
        more = unit(rng, 3)  # both samples are kept between queries, and read again once the index changes
        store.put_file(record("/lib/new.wav", 3.0), np.arange(3.0), np.arange(3.0) + 1, more, more.mean(axis=0))
        assert len(store.sample_pooled_vectors()) == 11 and len(store.sample_segment_vectors()) == 23


# ---- passages --------------------------------------------------------------------------------------

def _window(start, score):
    return Result("/a.wav", score, score, start, start + 2.0, 60.0, 1, int(start * 10))


def test_passages_of_a_file_never_overlap_and_come_best_first():
    windows = [_window(0.0, 0.5), _window(1.0, 0.9), _window(2.0, 0.8), _window(3.0, 0.7), _window(6.0, 0.1)]
    kept = pick_passages(windows, 3)
    assert [w.start for w in kept] == [1.0, 3.0, 6.0]
    assert [w.start for w in pick_passages(windows, 0)] == [1.0, 2.0, 3.0, 0.0, 6.0]  # 0: every window


def test_per_file_zero_returns_every_passage_once_and_per_file_n_non_overlapping(tmp_path, tiny_model):
    write(tmp_path / "lib" / "long.wav", noise(12.0, SR, seed=4))
    write(tmp_path / "lib" / "beep.wav", tone(1000, 2.0, SR))
    library = api.Library(model=tiny_model)
    library.index([tmp_path / "lib"])
    every = library.search("noise", k=5000, per_file=0, mode="audio")
    with Store(library.db, readonly=True) as store:
        total = store.stats()["segments"]
    assert len(every) == total and len({(h.path, h.start) for h in every}) == total
    assert [h.score for h in every] == sorted((h.score for h in every), reverse=True)
    three = [h for h in library.search("noise", k=50, per_file=3, mode="audio") if h.path.endswith("long.wav")]
    assert len(three) == 3
    spans = sorted((h.start, h.end) for h in three)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_a_loud_event_in_a_long_silent_file_is_found_at_its_time(tmp_path, tiny_model):
    quiet = np.zeros(int(40 * SR), np.float32)
    event = noise(1.0, SR, amplitude=0.8, seed=9)
    quiet[int(27 * SR):int(28 * SR)] = event
    write(tmp_path / "lib" / "field.wav", quiet)
    write(tmp_path / "example.wav", noise(1.0, SR, amplitude=0.8, seed=10))
    library = api.Library(model=tiny_model)
    library.index([tmp_path / "lib"])
    (hit,) = library.similar(tmp_path / "example.wav", k=1)
    assert hit.start <= 27.5 and hit.end >= 27.5  # the passage covers the event


# ---- words --------------------------------------------------------------------------------------------

def test_names_split_into_words():
    assert split_words("HCGameOver_2") == ["hc", "game", "over", "2"]
    assert split_words("laser-blaster1") == ["laser", "blaster", "1"]
    assert split_words("EXPLBomb_Large") == ["explosion", "expl", "bomb", "large"]  # a UCS category code
    assert path_words("/lib/sfx/animals/dogBark.wav") == "lib sfx animals dog bark"


def test_embedded_tags_are_read(tmp_path):
    import soundfile

    path = tmp_path / "t.wav"
    write(path, tone(440, 0.5, SR))
    with soundfile.SoundFile(path, "r+") as handle:
        handle.title = "Thunder rolling"
        handle.comment = "distant storm"
    words = metadata_words(str(path)).split()
    assert {"thunder", "rolling", "distant", "storm"} <= set(words)
    assert metadata_words(str(tmp_path / "missing.wav")) == ""


def test_query_parsing_and_fts_query():
    query = parse_query("dog barking -puppy -toy")
    assert query.text == "dog barking" and query.words == ("dog", "barking") and query.excluded == ("puppy", "toy")
    assert fts_query(["dog", "bark", "dog"]) == '"dog"* OR "bark"*'


def test_rrf_rewards_agreement():
    fused = rrf([[1, 2, 3], [3, 1]], [1.0, 1.0])
    assert max(fused, key=fused.get) == 1 and fused[3] > fused[2]


# ---- hybrid and composable queries, end to end ----------------------------------------------------------

@pytest.fixture
def named_library(tmp_path, tiny_model):
    root = tmp_path / "lib"
    write(root / "animals" / "dog_bark.wav", noise(1.5, SR, seed=1))
    write(root / "animals" / "puppy_dog.wav", noise(1.5, SR, seed=2))
    write(root / "music" / "pianoLoop.wav", tone(262, 3.0, SR))
    write(root / "misc" / "take7.wav", tone(3000, 1.0, SR))
    library = api.Library(model=tiny_model)
    library.index([root])
    return library, root


def test_text_and_hybrid_modes_find_files_by_their_names(named_library):
    library, root = named_library
    text = library.search("dog", k=10, mode="text")
    assert {h.path for h in text} == {str(root / "animals" / "dog_bark.wav"), str(root / "animals" / "puppy_dog.wav")}
    assert all(h.text_rank is not None and "dog" in h.words for h in text)
    hybrid = library.search("piano", k=10)
    assert hybrid[0].path == str(root / "music" / "pianoLoop.wav") and hybrid[0].text_rank == 1
    assert hybrid[0].audio_rank is not None and len(hybrid) == 4  # every file has an audio rank


def test_minus_word_excludes_lexical_matches(named_library):
    library, root = named_library
    hits = library.search("dog -puppy", k=10)
    assert str(root / "animals" / "puppy_dog.wav") not in {h.path for h in hits}
    assert hits[0].path == str(root / "animals" / "dog_bark.wav")


def test_not_pushes_down_passages_close_to_a_negative(named_library, tiny_model):
    library, root = named_library
    before = {h.path: h.score for h in library.search("tone", k=10, mode="audio")}
    after = {h.path: h.score for h in library.search("tone", k=10, mode="audio", not_=["tone"])}
    # The negative is the query itself: every passage above the null loses what it had gained.
    target = max(before, key=before.get)
    assert after[target] < before[target] - 0.5
    assert sorted(after) == sorted(before)  # pushed down, not removed


def test_similar_to_several_examples_and_like(named_library):
    library, root = named_library
    a, b = root / "animals" / "dog_bark.wav", root / "misc" / "take7.wav"
    hits = library.similar([a, b], k=10)
    assert {h.path for h in hits}.isdisjoint({str(a), str(b)}) and len(hits) == 2
    liked = library.search("", k=1, like=[str(b)], mode="audio")
    assert liked[0].path == str(b)


def test_labels_become_searchable_words(named_library):
    library, root = named_library
    library.label(["siren", "bell"], top=1)
    hits = library.search("siren", k=10, mode="text") + library.search("bell", k=10, mode="text")
    assert len({h.path for h in hits}) == 4 and all(h.words for h in hits)


def test_an_index_from_before_the_word_table_gets_words_on_the_next_run(named_library):
    library, root = named_library
    import sqlite3

    with sqlite3.connect(library.db) as db:
        db.execute("DELETE FROM file_words")
    with Store(library.db, readonly=True) as store:
        assert len(store.files_without_words()) == 4
    assert library.search("piano", k=10, mode="text") == []
    summary = library.index([root])
    assert summary.indexed == 0  # nothing re-embedded: the words come from the paths
    assert library.search("piano", k=10, mode="text")[0].path == str(root / "music" / "pianoLoop.wav")


def test_cli_query_options(named_library):
    from click.testing import CliRunner

    from clapsearch.cli import cli
    import json

    library, root = named_library
    result = CliRunner().invoke(cli, ["query", "dog", "--db", library.db, "--model", "tiny", "--mode", "text",
                                      "--per-file", "2", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(r["text_rank"] and r["words"] == ["dog"] for r in rows)
    result = CliRunner().invoke(cli, ["similar", str(root / "misc" / "take7.wav"), str(root / "animals" / "dog_bark.wav"),
                                      "--db", library.db, "--model", "tiny", "--json"])
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 2


def test_format_rate_and_channel_filters_apply_inside_the_search(tmp_path, tiny_model):
    root = tmp_path / "lib"
    for i in range(6):
        write(root / "many" / f"n{i}.wav", noise(1.0, SR, seed=20 + i))
    (root / "few").mkdir(parents=True)
    write_audio(root / "few" / "stereo.flac", tone(500, 1.0, 22050, channels=2), 22050)
    library = api.Library(model=tiny_model)
    library.index([root])
    only = {"format": ["flac"]}, {"sample_rate": [22050]}, {"channels": [2]}, {"under": str(root / "few")}
    for kwargs in only:
        for mode in ("audio", "hybrid"):
            hits = library.search("noise", k=1, filters=api.make_filters(**kwargs), mode=mode)
            assert [h.path for h in hits] == [str(root / "few" / "stereo.flac")], (kwargs, mode)
    assert library.search("noise", k=10, filters=api.make_filters(format=["wav"]), mode="audio")[0].path.endswith(".wav")


def test_query_writes_a_playlist_and_a_csv(named_library, tmp_path):
    from click.testing import CliRunner

    from clapsearch.cli import cli

    library, root = named_library
    m3u, table = tmp_path / "hits.m3u", tmp_path / "hits.csv"
    result = CliRunner().invoke(cli, ["query", "dog", "--db", library.db, "--model", "tiny", "--per-file", "0",
                                      "--m3u", str(m3u), "--csv", str(table)])
    assert result.exit_code == 0, result.output
    lines = m3u.read_text().splitlines()
    assert lines[0] == "#EXTM3U" and lines[1].startswith("#EXTINF:")
    files = [line for line in lines[1:] if not line.startswith("#")]
    assert len(files) == len(set(files)) == 4  # each file once, though several passages matched
    rows = table.read_text().splitlines()
    assert rows[0].startswith("rank,path,score,similarity") and len(rows) == 1 + len(result.stdout.splitlines()) - 1


def test_articles_and_filler_words_of_a_description_match_no_file_names():
    from clapsearch.search.query import parse_query

    query = parse_query("a sound of the rain -thunder")
    assert (query.text, query.words, query.excluded) == ("a sound of the rain", ("rain",), ("thunder",))
