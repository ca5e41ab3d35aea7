"""`clapsearch serve` in a real browser: Debian's Chromium, headless, driven by Playwright.

The server is the real one (uvicorn on 127.0.0.1, a free port) over an index of generated audio
built with the tiny test model. Set CLAPSEARCH_SCREENSHOTS=DIR to keep the page's screenshots.
"""

import os
import shutil
import socket
import threading
import time

import pytest

from clapsearch.api import Library
from clapsearch.serve.server import prepared_server
from tests.audio_gen import tone, write_audio
from tests.sound_library import make_library

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium package (apt-get install chromium)"),
]


@pytest.fixture
def live_server(tmp_path, tiny_model):
    """The URL of a running server over a freshly indexed library; stopped afterwards."""
    make_library(tmp_path / "library")
    db = str(tmp_path / "index.db")
    library = Library(db, model=tiny_model)
    library.index([tmp_path / "library"])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
    sock.bind(("127.0.0.1", 0))  # our own socket: a free port, with no race for it
    port = sock.getsockname()[1]
    with prepared_server(library, port=port, max_upload_mb=5) as server:
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "the server did not start"
        yield f"http://127.0.0.1:{port}/"
        server.should_exit = True
        thread.join(10)
    sock.close()


@pytest.fixture
def page():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            page.set_default_timeout(8000)  # everything here answers in well under a second
            yield page
        finally:
            browser.close()


def keep_screenshot(page, tmp_path, name):
    path = tmp_path / f"serve-{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("CLAPSEARCH_SCREENSHOTS"):
        shutil.copy(path, os.path.join(os.environ["CLAPSEARCH_SCREENSHOTS"], path.name))


def test_search_play_similar_upload_and_filter(live_server, page, tmp_path):
    audio_requests = []
    page.on("response", lambda r: "/audio/" in r.url and audio_requests.append((r.status, r.request.headers.get("range"))))
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(live_server)
    page.wait_for_selector("text=Find a sound by describing it")
    page.wait_for_function("() => document.querySelector('#q').placeholder.includes('5 files')")
    keep_screenshot(page, tmp_path, "empty")

    page.fill("#q", "a high tone")  # typing fires the debounced search
    page.wait_for_selector(".row >> nth=4")
    assert page.locator(".row").count() == 5
    assert "Results for “a high tone”" in page.inner_text("#status")
    page.wait_for_function("() => document.querySelectorAll('.tag').length >= 5")

    page.locator("#results").focus()
    page.keyboard.press("ArrowDown")
    assert page.get_attribute(".row >> nth=1", "aria-selected") == "true"
    page.keyboard.press("Space")
    page.wait_for_function("() => { const a = document.querySelector('#player');"
                           " return !a.paused && a.currentTime > 0; }", timeout=8000)
    assert page.locator(".row.playing").count() == 1
    assert any(status == 206 and (rng or "").startswith("bytes=") for status, rng in audio_requests), audio_requests
    time.sleep(0.3)
    keep_screenshot(page, tmp_path, "results")
    page.keyboard.press("Space")  # pauses
    page.wait_for_function("() => document.querySelector('#player').paused")

    first = page.inner_text(".row >> nth=0 >> .name")
    button = page.locator(".row").first.get_by_role("button", name="Similar")
    button.click()
    page.wait_for_selector(f"#status >> text=Sounds like {first}")  # shown when the answer is in
    assert first not in page.locator(".row .name").all_inner_texts()

    mine = write_audio(tmp_path / "mine.wav", tone(440, 1.0, 16000), 16000)
    page.set_input_files("#example-file", str(mine))
    page.wait_for_selector("#status >> text=Sounds like mine.wav ·")
    assert page.locator(".row").count() == 5

    page.fill("#q", "tone")
    page.wait_for_selector("#status >> text=Results for “tone”")
    page.select_option("#f-ext", "wav")
    page.wait_for_function("() => document.querySelectorAll('.row .name').length === 2")
    assert sorted(page.locator(".row .name").all_inner_texts()) == ["a440.wav", "up.wav"]

    drag = page.evaluate_handle("() => new DataTransfer()")  # dragging a row out carries the file's URL
    page.dispatch_event(".row >> nth=0", "dragstart", {"dataTransfer": drag})
    carried = drag.evaluate("(d) => d.getData('DownloadURL')")
    assert carried.startswith("audio/wav:a440.wav:http://127.0.0.1:") or carried.startswith("audio/wav:up.wav:http")

    with page.expect_download() as download:  # the result list as a playlist of the files' paths
        page.click("#export")
    playlist = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert playlist[0] == "#EXTM3U" and sorted(os.path.basename(p) for p in playlist[2::2]) == ["a440.wav", "up.wav"]
    assert all(os.path.isfile(p) for p in playlist[2::2])

    page.select_option("#f-ext", "")
    page.click(".modes >> text=Words")  # by words only: the two files in the folder "sweeps"
    page.fill("#q", "sweeps")
    page.wait_for_selector("#status >> text=Results for “sweeps” · words only ·")
    assert sorted(page.locator(".row .name").all_inner_texts()) == ["short.aiff", "up.wav"]
    assert page.locator(".row >> nth=0 >> .why .word").all_inner_texts() == ["sweeps"]
    assert "words #1" in page.inner_text(".row >> nth=0 >> .why")

    page.click(".modes >> text=Hybrid")
    page.fill("#f-not", "noise, hiss")  # typed negatives rerun the search, debounced
    page.wait_for_selector("#status >> text=not like noise, hiss ·")
    assert page.locator(".row").count() == 5
    page.select_option("#f-per-file", "0")  # every passage: more rows than files
    page.wait_for_selector("#status >> text=passages")
    assert page.locator(".row").count() > 5

    page.fill("#f-min", "100")  # nothing is that long: the "nothing matches" state
    page.wait_for_selector("text=Nothing matches")
    assert problems == []
