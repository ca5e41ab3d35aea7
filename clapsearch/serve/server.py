"""Start `clapsearch serve`: open the index, load the model once, run uvicorn until Ctrl-C."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager

import click

from .hosts import LOCAL_NAMES


@contextmanager
def prepared_server(library, host: str = "127.0.0.1", port: int = 8765, max_upload_mb: float = 100.0):
    """A uvicorn.Server for `library` (index held open, model loaded); its cache folder goes on exit."""
    import uvicorn

    from .app import build_app

    library.keep_open()
    cache = tempfile.mkdtemp(prefix="clapsearch-serve-")
    try:
        library.file_tags([])  # loads the model now, not on the first search
        app = build_app(library, bind_host=host, max_upload_bytes=int(max_upload_mb * 2**20), cache_folder=cache)
        yield uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    finally:
        library.close()
        shutil.rmtree(cache, ignore_errors=True)


def serve(library, host: str = "127.0.0.1", port: int = 8765, max_upload_mb: float = 100.0) -> None:
    """Serve `library` (an api.Library) at http://host:port/ until interrupted."""
    local = host in LOCAL_NAMES
    if not local:
        click.echo(f"Warning: listening on {host}: other machines that reach it can search and play this "
                   "library, with no login.", err=True)
    click.echo("Loading the index and the model...", err=True)
    with prepared_server(library, host, port, max_upload_mb) as server:
        shown = f"[{host}]" if ":" in host else host
        where = "only this machine can connect" if local else "other machines can connect"
        click.echo(f"Serving {library.db} at http://{shown}:{port}/ ({where}); press Ctrl-C to stop.", err=True)
        server.run()
