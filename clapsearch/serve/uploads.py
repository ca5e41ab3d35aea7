"""Receive an uploaded audio file (the raw request body) into a temporary folder, capped in size.

The body is counted as it arrives, so an oversized upload is refused after `limit` bytes, not after
all of it; the folder and the file in it are removed as soon as the search that needed them ends.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import asynccontextmanager

from ..errors import ClapsearchError

_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


class UploadTooLarge(ClapsearchError):
    """An upload over the server's size limit."""


def upload_suffix(name: str | None) -> str:
    """The extension of the client's file name, if it is a plain one (the decoder may need it); never a path."""
    from urllib.parse import unquote

    suffix = os.path.splitext(os.path.basename(unquote(name or "")))[1].lower()
    return suffix if _SAFE_SUFFIX.match(suffix) else ""


@asynccontextmanager
async def received_upload(request, limit: int, parent: str | None = None):
    """Yield the path of the request body saved to a fresh temporary folder; remove both afterwards."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(_too_large(limit))
    folder = tempfile.mkdtemp(prefix="clapsearch-upload-", dir=parent)
    try:
        path = os.path.join(folder, "upload" + upload_suffix(request.headers.get("x-filename")))
        size = 0
        with open(path, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(_too_large(limit))
                out.write(chunk)
        if size == 0:
            raise ClapsearchError("The upload is empty; drop or choose an audio file.")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _too_large(limit: int) -> str:
    return f"The file is larger than this server's upload limit of {limit / 2**20:g} MB; restart with a larger --max-upload."
