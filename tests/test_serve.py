"""`clapsearch serve`'s web app through Starlette's TestClient: JSON API, Range audio, safety checks."""

import os

import pytest
from starlette.testclient import TestClient

from clapsearch.api import Library
from clapsearch.serve.app import build_app
from clapsearch.serve.hosts import host_name
from tests.audio_gen import tone, write_audio
from tests.sound_library import make_library

from tests.test_cli import HIT_KEYS  # the CLI's --json hit schema


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, tiny_model):
    """An index of the generated test library, built once for this module: (db, library paths)."""
    root = tmp_path_factory.mktemp("serve")
    paths = make_library(root / "lib")
    db = str(root / "index.db")
    Library(db, model=tiny_model).index([root / "lib"])
    return db, paths


@pytest.fixture
def server(indexed, tiny_model, tmp_path):
    db, _ = indexed
    library = Library(db, model=tiny_model)
    library.keep_open()
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    app = build_app(library, max_upload_bytes=200_000, cache_folder=str(tmp_path / "cache"),
                    upload_parent=str(uploads))
    os.makedirs(tmp_path / "cache")
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        client.uploads = uploads
        yield client
    library.close()


def ids_by_name(client) -> dict[str, int]:
    rows = client.get("/ui/query", params={"text": "tone", "k": 20}).json()
    return {row["name"]: row["id"] for row in rows}


def test_query_answers_with_the_cli_schema(server):
    rows = server.get("/api/query", params={"text": "a low tone", "k": 3}).json()
    assert len(rows) == 3 and all(list(row) == HIT_KEYS for row in rows)
    assert rows == sorted(rows, key=lambda r: -r["score"])


def test_page_rows_add_id_name_folder_and_tags(server, indexed):
    rows = server.get("/ui/query", params={"text": "siren", "k": 5}).json()
    assert len(rows) == 5
    for row in rows:
        assert os.path.join(row["folder"], row["name"]) == row["path"]
        assert isinstance(row["id"], int) and row["ext"] == row["name"].rsplit(".", 1)[1]
        assert len(row["tags"]) == 3 and all(set(t) == {"label", "score"} for t in row["tags"])


def test_filters_by_folder_format_and_duration(server, indexed):
    _, paths = indexed
    folder = str(paths["tones/a440.wav"].parent)
    rows = server.get("/ui/query", params={"text": "tone", "under": folder}).json()
    assert {r["name"] for r in rows} == {"a440.wav", "a880.flac"}
    rows = server.get("/ui/query", params={"text": "tone", "ext": "wav"}).json()
    assert {r["name"] for r in rows} == {"a440.wav", "up.wav"}
    rows = server.get("/ui/query", params={"text": "tone", "min_duration": 2.2}).json()
    assert {r["name"] for r in rows} == {"white.ogg", "up.wav"}
    facets = server.get("/ui/facets").json()
    assert facets["extensions"] == ["aiff", "flac", "ogg", "wav"] and folder in facets["folders"]


def test_mode_text_answers_only_by_words_and_says_which(server):
    rows = server.get("/ui/query", params={"text": "sweeps", "mode": "text"}).json()
    assert {r["name"] for r in rows} == {"up.wav", "short.aiff"}  # the two files in the folder "sweeps"
    assert all(r["text_rank"] is not None and "sweeps" in r["words"] and r["audio_rank"] is None for r in rows)
    hybrid = server.get("/api/query", params={"text": "sweeps"}).json()  # default mode: words and sound fused
    assert len(hybrid) == 5 and {r["path"].rsplit("/", 1)[1] for r in hybrid[:2]} == {"up.wav", "short.aiff"}
    audio = server.get("/api/query", params={"text": "sweeps", "mode": "audio"}).json()
    assert len(audio) == 5 and all(r["text_rank"] is None and r["audio_rank"] for r in audio)


def test_minus_word_in_the_text_is_passed_on_unchanged(server):
    rows = server.get("/ui/query", params={"text": "sweeps -short", "mode": "text"}).json()
    assert [r["name"] for r in rows] == ["up.wav"]


def test_not_pushes_passages_down(server):
    params = {"text": "a high tone", "mode": "audio"}
    before = {r["path"]: r["score"] for r in server.get("/api/query", params=params).json()}
    after = {r["path"]: r["score"] for r in server.get(
        "/api/query", params=[*params.items(), ("not", "a high tone"), ("not", " ")]).json()}
    best = max(before, key=before.get)
    assert after[best] < before[best] - 0.5 and sorted(after) == sorted(before)  # pushed down, not removed


def test_per_file_gives_several_passages_of_a_file(server):
    one = server.get("/ui/query", params={"text": "sweep", "k": 50, "mode": "audio"}).json()
    every = server.get("/ui/query", params={"text": "sweep", "k": 50, "mode": "audio", "per_file": 0}).json()
    assert len({r["id"] for r in one}) == len(one) == 5
    assert len(every) > len(one) and {r["id"] for r in every} == {r["id"] for r in one}
    up = [r for r in every if r["name"] == "up.wav"]
    assert len(up) >= 2 and len(server.get("/ui/query", params={"text": "sweep", "k": 50, "per_file": 2,
                                                                  "mode": "audio"}).json()) <= 10
    similar = server.get("/ui/similar", params={"id": up[0]["id"], "k": 50, "per_file": 0}).json()
    assert len(similar) > len({r["id"] for r in similar}) == 4  # several passages of each other file


@pytest.mark.parametrize("params, word", [({"mode": "loud"}, "mode"), ({"per_file": "-1"}, "per_file"),
                                          ({"per_file": "all"}, "per_file")])
def test_bad_search_options_are_json_sentences(server, params, word):
    for route in ("/api/query", "/ui/query"):
        answer = server.get(route, params={"text": "tone", **params})
        assert answer.status_code == 400 and list(answer.json()) == ["error"]
        assert word in answer.json()["error"] and answer.json()["error"].endswith(".")


def test_similar_by_id_leaves_out_the_file_itself(server):
    ids = ids_by_name(server)
    rows = server.get("/api/similar", params={"id": ids["a440.wav"], "k": 3}).json()
    assert len(rows) == 3 and not any(r["path"].endswith("a440.wav") for r in rows)
    excerpt = server.get("/ui/similar", params={"id": ids["up.wav"], "start": 0.5, "end": 1.5}).json()
    assert excerpt and all(r["name"] != "up.wav" for r in excerpt)


def test_tag_and_info_use_the_cli_schemas(server, indexed):
    db, _ = indexed
    ids = ids_by_name(server)
    rows = server.get("/api/tag", params={"id": ids["a440.wav"], "labels": "tone,dog,rain", "top": 2}).json()
    assert [list(r) for r in rows] == [["path", "labels"]] and len(rows[0]["labels"]) == 2
    info = server.get("/api/info").json()
    assert info["db"] == db and info["files_indexed"] == 5


def test_audio_honours_range_requests(server, indexed):
    _, paths = indexed
    data = paths["tones/a440.wav"].read_bytes()
    file_id = ids_by_name(server)["a440.wav"]
    whole = server.get(f"/audio/{file_id}")
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "audio/wav"
    part = server.get(f"/audio/{file_id}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = server.get(f"/audio/{file_id}", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    open_end = server.get(f"/audio/{file_id}", headers={"Range": f"bytes={len(data) - 10}-"})
    assert open_end.content == data[-10:] and open_end.headers["content-range"].endswith(f"/{len(data)}")
    beyond = server.get(f"/audio/{file_id}", headers={"Range": f"bytes={len(data)}-{len(data) + 100}"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"


def test_formats_a_browser_cannot_play_are_served_as_wav(server):
    import io

    import soundfile

    file_id = ids_by_name(server)["short.aiff"]
    answer = server.get(f"/audio/{file_id}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/wav"
    samples, rate = soundfile.read(io.BytesIO(answer.content))
    assert rate == 8000 and abs(len(samples) / rate - 0.4) < 0.01
    part = server.get(f"/audio/{file_id}", headers={"Range": "bytes=0-43"})
    assert part.status_code == 206 and part.content[:4] == b"RIFF"


def test_download_is_an_attachment_named_after_the_file(server):
    file_id = ids_by_name(server)["a880.flac"]
    answer = server.get(f"/audio/{file_id}", params={"download": 1})
    assert answer.headers["content-type"] == "audio/flac"
    assert answer.headers["content-disposition"].startswith("attachment") and "a880.flac" in answer.headers["content-disposition"]


def test_waveform_peaks_mark_loud_and_quiet(server):
    answer = server.get(f"/ui/peaks/{ids_by_name(server)['a440.wav']}").json()
    assert len(answer["peaks"]) == 160 and answer["duration"] == pytest.approx(2.0)
    assert 0.45 < max(answer["peaks"]) <= 0.51  # the tone's amplitude is 0.5


@pytest.mark.parametrize("bad", ["999999", "-1", "abc", "..%2F..%2Fetc%2Fpasswd", "1%2F..%2F..", "%2Fetc%2Fpasswd"])
def test_only_indexed_files_are_ever_served(server, bad):
    for url in (f"/audio/{bad}", f"/ui/peaks/{bad}"):
        answer = server.get(url)
        assert answer.status_code == 404 and set(answer.json()) == {"error"}
    assert server.get("/api/similar", params={"id": "/etc/passwd"}).status_code == 404
    assert server.get("/static/../api.py").status_code == 404
    assert server.get("/static/%2e%2e/app.py").status_code == 404


def test_a_file_gone_from_disk_is_not_served(server, indexed, tmp_path):
    _, paths = indexed
    file_id = ids_by_name(server)["up.wav"]
    moved = tmp_path / "up.wav"
    os.rename(paths["sweeps/up.wav"], moved)
    try:
        answer = server.get(f"/audio/{file_id}")
        assert answer.status_code == 404 and "no longer on disk" in answer.json()["error"]
    finally:
        os.rename(moved, paths["sweeps/up.wav"])


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "", "localhost.:8765"])
def test_requests_for_another_host_are_refused(server, host):
    answer = server.get("/api/info", headers={"Host": host})
    assert answer.status_code == 403 and "only answers" in answer.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "LOCALHOST"])
def test_requests_for_a_local_name_are_answered(server, host):
    assert server.get("/api/info", headers={"Host": host}).status_code == 200


def test_host_name_parsing():
    assert host_name("[::1]:80") == "::1" and host_name("Example.org:1") == "example.org"
    assert host_name(None) is None and host_name("::1") == "::1"


def test_search_by_upload_and_the_temp_folder_is_emptied(server, tmp_path):
    sample = write_audio(tmp_path / "mine.wav", tone(440, 1.0, 16000), 16000)
    answer = server.post("/ui/similar", content=sample.read_bytes(), headers={"X-Filename": "mine.wav"},
                         params={"k": 2})
    assert answer.status_code == 200 and len(answer.json()) == 2
    tagged = server.post("/api/tag", content=sample.read_bytes(), headers={"X-Filename": "mine.wav"},
                         params={"labels": "tone,dog", "name": "mine.wav"}).json()
    assert tagged[0]["path"] == "mine.wav" and len(tagged[0]["labels"]) == 2
    assert os.listdir(server.uploads) == []


def test_oversized_or_bad_uploads_are_refused_and_cleaned_up(server):
    big = b"\0" * 200_001
    answer = server.post("/ui/similar", content=big, headers={"X-Filename": "big.wav"})
    assert answer.status_code == 413 and "upload limit" in answer.json()["error"]

    def chunks():  # no Content-Length: the cap must hold while streaming
        for _ in range(30):
            yield b"\0" * 10_000
    answer = server.post("/ui/similar", content=chunks(), headers={"X-Filename": "big.wav"})
    assert answer.status_code == 413
    not_audio = server.post("/ui/similar", content=b"hello", headers={"X-Filename": "x.wav"})
    assert not_audio.status_code == 400 and "Cannot read" in not_audio.json()["error"]
    no_name = server.post("/ui/similar", content=b"hello")
    assert no_name.status_code == 400 and "X-Filename" in no_name.json()["error"]
    assert os.listdir(server.uploads) == []


def test_errors_are_json_sentences(server):
    for url, status in (("/nowhere", 404), ("/ui/query?text=x&k=0", 400), ("/ui/query?text=x&min_duration=abc", 400)):
        answer = server.get(url)
        assert answer.status_code == status and list(answer.json()) == ["error"]
        assert answer.json()["error"].endswith(".")
    assert server.delete("/api/info").status_code == 405


def test_page_and_static_files_load_nothing_from_elsewhere(server):
    page = server.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "app.css"):
        text = server.get(f"/static/{name}").text
        assert "http://" not in text and "https://" not in text
    assert "http" not in page.text.replace('http-equiv', '')


def test_serve_refuses_a_missing_index(tmp_path, tiny_model):
    from clapsearch.errors import EmptyIndexError

    with pytest.raises(EmptyIndexError):
        Library(str(tmp_path / "none.db"), model=tiny_model).keep_open()


def test_the_serve_command_loads_everything_then_runs_uvicorn(indexed, monkeypatch):
    import uvicorn
    from click.testing import CliRunner

    from clapsearch.cli import cli

    db, _ = indexed
    ran = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: ran.append(self.config))
    result = CliRunner().invoke(cli, ["serve", "--db", db, "--model", "tiny", "--port", "9999"])
    assert result.exit_code == 0, result.output
    assert ran[0].host == "127.0.0.1" and ran[0].port == 9999
    assert "http://127.0.0.1:9999/ (only this machine can connect)" in result.stderr
    result = CliRunner().invoke(cli, ["serve", "--db", db, "--model", "tiny", "--host", "0.0.0.0"])
    assert result.exit_code == 0 and result.stderr.startswith("Warning: listening on 0.0.0.0")


def test_the_serve_command_needs_an_index(tmp_path):
    from click.testing import CliRunner

    from clapsearch.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "none.db"), "--model", "tiny"])
    assert result.exit_code == 1 and "There is no index at" in result.stderr


def test_rows_show_stored_labels_when_the_library_was_labelled(tmp_path, tiny_model):
    make_library(tmp_path / "lib", ["tones/a440.wav", "sweeps/up.wav"])
    library = Library(str(tmp_path / "index.db"), model=tiny_model)
    library.index([tmp_path / "lib"])
    library.label(["dog", "siren", "rain"], top=2)
    library.keep_open()
    try:
        tags = library.file_tags([hit.file_id for hit in library.search("siren", k=2)])
    finally:
        library.close()
    assert len(tags) == 2 and all(len(t) == 2 and {x["label"] for x in t} <= {"dog", "siren", "rain"} for t in tags.values())
