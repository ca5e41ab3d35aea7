"""The web app of `clapsearch serve`: the page, its data, a JSON API and the audio, over clapsearch.api.

Routes (all answers JSON except the page and the audio; an error is {"error": "one sentence."}):
  GET  /                         the page (static/index.html; static/ holds its CSS and JS)
  GET  /api/info | /api/query | /api/similar?id= | /api/tag?id=     the CLI's --json schemas
  POST /api/similar | /api/tag   the same, for an uploaded audio file (the raw request body)
  GET  /ui/query | /ui/similar?id= , POST /ui/similar               result rows for the page
  GET  /ui/facets | /ui/peaks/{id}                                  filter choices, waveform
  GET  /audio/{id}               an indexed file's audio, honouring Range (206 / 416)

Safety: requests must name an allowed host (hosts.py); audio and files are chosen only by the id of
an indexed file, never by a path from the request; uploads are capped and deleted after use. Library
calls run one at a time (one model, one open index), in a worker thread so the server stays responsive.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import api, render
from ..errors import ClapsearchError, EmptyIndexError, ModelMismatchError
from ..search import MODES
from .hosts import HostCheck, allowed_host_names
from .media import WavCache, browser_type
from .uploads import UploadTooLarge, received_upload

STATIC = Path(__file__).resolve().parent / "static"
MAX_K = 200
MAX_PER_FILE = 50
PEAK_BINS = 160
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


class NotFound(ClapsearchError):
    """A file id that is not an indexed file, or whose file has gone from disk."""


def json_response(value, status: int = 200) -> Response:
    # render.to_json keeps non-UTF-8 file names valid (as \udcXX escapes), which plain json.dumps does not.
    return Response(render.to_json(value), status_code=status, media_type="application/json")


def error_status(error: ClapsearchError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, UploadTooLarge):
        return 413
    if isinstance(error, (EmptyIndexError, ModelMismatchError)):
        return 409
    return 400


class Service:
    """The one Library a server uses, called one request at a time, plus the page's extras."""

    def __init__(self, library, cache_folder: str):
        self.library = library
        self.lock = threading.Lock()
        self.wavs = WavCache(cache_folder, api.write_wav)
        self.peaks = lru_cache(maxsize=1024)(self._peaks)

    def call(self, method, *args, **kwargs):
        with self.lock:
            return method(*args, **kwargs)

    def record(self, file_id) -> object:
        try:
            record = self.call(self.library.file, int(file_id))
        except (TypeError, ValueError):
            record = None
        if record is None:
            raise NotFound(f"There is no indexed file with id {file_id!r}; search again to get current ids.")
        if not os.path.isfile(record.path):
            raise NotFound(f"The file {render.printable(record.path)} is no longer on disk; "
                           "run `clapsearch index` again to update the index.")
        return record

    def rows(self, hits) -> list[dict]:
        """Result rows for the page: the CLI's hit fields plus the file id, name, folder and tags."""
        tags = self.call(self.library.file_tags, [h.file_id for h in hits]) if hits else {}
        rows = render.hit_rows(hits)
        for row, hit in zip(rows, hits):
            folder, name = os.path.split(hit.path)
            row.update(id=hit.file_id, name=name, folder=folder,
                       ext=os.path.splitext(name)[1].lstrip(".").lower(), tags=tags.get(hit.file_id, []))
        return rows

    def audio_path(self, record) -> tuple[str, str]:
        mime = browser_type(record.format)
        if mime is not None:
            return record.path, mime
        return self.wavs.path_for(record), "audio/wav"

    def _peaks(self, file_id: int, size, mtime) -> list[float]:
        return api.waveform_peaks(self.record(file_id).path, PEAK_BINS)


# ---- request parsing ------------------------------------------------------------------------------

def _number(params, name, kind=float, default=None, low=None, high=None):
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ClapsearchError(f"The parameter {name}={value!r} is not a number.") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ClapsearchError(f"The parameter {name}={value!r} is out of range ({low} to {high}).")
    return number


def _k(params) -> int:
    return _number(params, "k", int, 10, 1, MAX_K)


def _filters(params):
    exts = [e for value in params.getlist("ext") for e in value.split(",") if e.strip()]
    return api.make_filters(under=params.get("under") or None, min_duration=_number(params, "min_duration", low=0),
                            max_duration=_number(params, "max_duration", low=0), ext=exts)


def _mode(params) -> str:
    mode = params.get("mode") or "hybrid"
    if mode not in MODES:
        raise ClapsearchError(f"The parameter mode={mode!r} must be one of {', '.join(MODES)}.")
    return mode


def _negatives(params) -> list[str]:
    """`not`, repeatable: descriptions whose close passages are pushed down (blank ones ignored)."""
    return [text.strip() for text in params.getlist("not") if text.strip()]


def _per_file(params) -> int:
    return _number(params, "per_file", int, 1, 0, MAX_PER_FILE)


def _labels(params):
    from .. import vocab

    return vocab.parse_labels(params["labels"]) if params.get("labels") else None


def _excerpt(record, params) -> str:
    """The `similar` target for an indexed file's id: the whole file, or FILE@START-END."""
    start, end = _number(params, "start", low=0), _number(params, "end", low=0)
    if start is None or end is None:
        return record.path
    return f"{record.path}@{start:g}-{end:g}"


# ---- routes -----------------------------------------------------------------------------------------

def build_app(library, *, bind_host: str = "127.0.0.1", max_upload_bytes: int = 100 * 2**20,
              cache_folder: str, upload_parent: str | None = None) -> Starlette:
    """The ASGI app over `library` (kept open by the caller); `cache_folder` holds decoded WAV copies."""
    service = Service(library, cache_folder)

    def endpoint(handler):
        async def run(request):
            try:
                return await handler(request)
            except ClapsearchError as error:
                return json_response({"error": str(error)}, error_status(error))
        return run

    def threaded(compute):
        """A GET handler: compute(params) runs in a worker thread; its value is the JSON answer."""
        async def handler(request):
            return json_response(await run_in_threadpool(compute, request.query_params))
        return endpoint(handler)

    def uploaded(compute):
        """A POST handler over an uploaded file: compute(params, path) in a worker thread."""
        async def handler(request):
            if "x-filename" not in request.headers:  # a custom header: other sites' pages cannot send it
                raise ClapsearchError("Send the file's name in an X-Filename header with the upload.")
            async with received_upload(request, max_upload_bytes, upload_parent) as path:
                return json_response(await run_in_threadpool(compute, request.query_params, path))
        return endpoint(handler)

    def search(params):
        # The text goes as typed: "-word" inside it is the search's own syntax for leaving a word out.
        return service.call(library.search, params.get("text", ""), k=_k(params), filters=_filters(params),
                            mode=_mode(params), not_=_negatives(params), per_file=_per_file(params))

    def similar_by_id(params):
        target = _excerpt(service.record(params.get("id")), params)
        return service.call(library.similar, target, k=_k(params), filters=_filters(params),
                            per_file=_per_file(params))

    def similar_by_upload(params, path):
        return service.call(library.similar, path, k=_k(params), filters=_filters(params),
                            per_file=_per_file(params))

    def tag_rows(paths, params):
        return service.call(api.tag, paths, labels=_labels(params), model=library.model_for(),
                            top=_number(params, "top", int, 5, 0), db=library.db)

    def tag_upload(params, path):
        rows = tag_rows([path], params)
        for row in rows:  # the temporary name means nothing to the client; give back its own
            row["path"] = os.path.basename(params.get("name") or "upload")
        return rows

    def facets(params):
        return {**service.call(library.facets), "max_upload_bytes": max_upload_bytes}

    async def peaks(request):
        record = await run_in_threadpool(service.record, request.path_params["file_id"])
        values = await run_in_threadpool(service.peaks, record.id, record.size, record.mtime)
        return json_response({"id": record.id, "duration": record.duration, "peaks": values})

    async def audio(request):
        record = await run_in_threadpool(service.record, request.path_params["file_id"])
        path, mime = await run_in_threadpool(service.audio_path, record)
        name = os.path.basename(record.path) if path == record.path else os.path.splitext(
            os.path.basename(record.path))[0] + ".wav"
        disposition = "attachment" if request.query_params.get("download") else "inline"
        return FileResponse(path, media_type=mime, filename=render.printable(name),
                            content_disposition_type=disposition)

    async def page(request):
        return FileResponse(STATIC / "index.html", media_type="text/html")

    routes = [
        Route("/", page),
        Route("/api/info", threaded(lambda p: service.call(library.info))),
        Route("/api/query", threaded(lambda p: render.hit_rows(search(p)))),
        Route("/api/similar", threaded(lambda p: render.hit_rows(similar_by_id(p)))),
        Route("/api/similar", uploaded(lambda p, path: render.hit_rows(similar_by_upload(p, path))), methods=["POST"]),
        Route("/api/tag", threaded(lambda p: tag_rows([service.record(p.get("id")).path], p))),
        Route("/api/tag", uploaded(tag_upload), methods=["POST"]),
        Route("/ui/query", threaded(lambda p: service.rows(search(p)))),
        Route("/ui/similar", threaded(lambda p: service.rows(similar_by_id(p)))),
        Route("/ui/similar", uploaded(lambda p, path: service.rows(similar_by_upload(p, path))), methods=["POST"]),
        Route("/ui/facets", threaded(facets)),
        Route("/ui/peaks/{file_id}", endpoint(peaks)),
        Route("/audio/{file_id}", endpoint(audio)),
        Mount("/static", StaticFiles(directory=STATIC)),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed, 500: _server_error})
    app.add_middleware(_SecurityHeaders)
    app.add_middleware(HostCheck, allowed=allowed_host_names(bind_host))
    app.state.service = service
    return app


async def _not_found(request, exc):
    return json_response({"error": f"There is nothing at {request.url.path}; see docs/serve.md for the routes."}, 404)


async def _not_allowed(request, exc):
    return json_response({"error": f"{request.method} is not allowed on {request.url.path}."}, 405)


async def _server_error(request, exc):
    return json_response({"error": f"The server failed on this request ({type(exc).__name__}); "
                                   "see the terminal running `clapsearch serve`."}, 500)


class _SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer (the page loads nothing from anywhere else)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
            await send(message)
        await self.app(scope, receive, with_headers)
