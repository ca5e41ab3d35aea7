"""Start `clapsearch serve`: open the index, load the model once, run uvicorn until Ctrl-C."""

from __future__ import annotations

import shutil
import tempfile

import click

from .hosts import LOCAL_NAMES


def serve(library, host: str = "127.0.0.1", port: int = 8765, max_upload_mb: float = 100.0) -> None:
    """Serve `library` (an api.Library) at http://host:port/ until interrupted."""
    import uvicorn

    from .app import build_app

    if host not in LOCAL_NAMES:
        click.echo(f"Warning: serving on {host}, so other machines that can reach it may search and "
                   "play this library; there is no login.", err=True)
    library.keep_open()
    click.echo("Loading the model...", err=True)
    library.file_tags([])  # loads the model now, not on the first search
    cache = tempfile.mkdtemp(prefix="clapsearch-serve-")
    try:
        app = build_app(library, bind_host=host, max_upload_bytes=int(max_upload_mb * 2**20), cache_folder=cache)
        shown = f"[{host}]" if ":" in host else host
        where = "only this machine can connect" if host in LOCAL_NAMES else "reachable from other machines"
        click.echo(f"Serving {library.db} at http://{shown}:{port}/ ({where}); press Ctrl-C to stop.", err=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        library.close()
        shutil.rmtree(cache, ignore_errors=True)
