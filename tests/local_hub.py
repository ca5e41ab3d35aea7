"""A model hub on 127.0.0.1 for the download tests, in the Hugging Face Hub's URL layout and headers.

It answers what huggingface_hub's repo_info / list_repo_tree / hf_hub_download request:

    GET  /api/models/{repo}/revision/{rev}      {"id", "sha", "siblings"}; 404 + X-Error-Code: RepoNotFound
    GET  /api/models/{repo}/tree/{rev}          [{"type": "file", "path", "size", "oid", "lfs": {"oid", "size", ...}}]
    HEAD /{repo}/resolve/{rev}/{file}           X-Repo-Commit, ETag (git blob id, or sha256 for LFS files),
                                                X-Linked-Etag / X-Linked-Size for LFS files, Content-Length
    GET  /{repo}/resolve/{rev}/{file}           the bytes; `Range: bytes=N-` gives 206 + Content-Range

Faults for the tests: `drop_once[path] = n` closes the connection after n bytes of the first GET
of that file; `corrupt.add(path)` serves flipped bytes of the right length (the checksums listed
stay those of the true file). Every request is recorded in `requests` as (method, path, Range).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

LFS_SUFFIXES = (".bin", ".pth", ".safetensors")


@dataclass
class HubFile:
    path: str
    source: Path

    def __post_init__(self):
        data = self.source.read_bytes()
        self.size = len(data)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.git_oid = hashlib.sha1(b"blob %d\0" % self.size + data).hexdigest()
        self.lfs = self.path.endswith(LFS_SUFFIXES)

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_oid

    def tree_entry(self) -> dict:
        entry = {"type": "file", "path": self.path, "size": self.size, "oid": self.git_oid}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": 134}
        return entry


class LocalHub:
    def __init__(self):
        self.repos: dict[str, tuple[str, dict[str, HubFile]]] = {}
        self.drop_once: dict[str, int] = {}
        self.corrupt: set[str] = set()
        self.requests: list[tuple[str, str, str | None]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_repo(self, repo_id: str, folder: Path, extra: dict[str, Path] | None = None) -> str:
        """Serve every file of `folder` (and `extra` {name: file}) as repo `repo_id`; returns its commit."""
        files = {p.name: HubFile(p.name, p) for p in sorted(Path(folder).iterdir()) if p.is_file()}
        files.update({name: HubFile(name, Path(src)) for name, src in (extra or {}).items()})
        commit = hashlib.sha1(repo_id.encode() + b"".join(f.etag.encode() for f in files.values())).hexdigest()
        self.repos[repo_id] = (commit, files)
        return commit

    def start(self) -> "LocalHub":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def gets_of(self, filename: str) -> list[str | None]:
        """The Range header of each GET of `filename` (None for a whole-file GET)."""
        return [rng for method, path, rng in self.requests if method == "GET" and path.endswith("/" + filename)]


def _handler_for(hub: LocalHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet test output
            pass

        def do_HEAD(self):
            self._route(head=True)

        def do_GET(self):
            self._route(head=False)

        def _route(self, head: bool):
            path = unquote(urlparse(self.path).path)
            hub.requests.append(("HEAD" if head else "GET", path, self.headers.get("Range")))
            if path.startswith("/api/models/"):
                return self._api(path[len("/api/models/"):])
            if "/resolve/" in path:
                repo_id, _, rest = path.lstrip("/").partition("/resolve/")
                _, _, filename = rest.partition("/")
                return self._file(repo_id, filename, head)
            self._send(404, b"{}", {"X-Error-Code": "EntryNotFound"})

        def _api(self, rest: str):
            for marker in ("/revision/", "/tree/"):
                if marker in rest:
                    repo_id = rest.split(marker)[0]
                    break
            else:
                return self._send(404, b"{}")
            if repo_id not in hub.repos:
                return self._send(404, json.dumps({"error": "Repository not found"}).encode(),
                                  {"X-Error-Code": "RepoNotFound"})
            commit, files = hub.repos[repo_id]
            if marker == "/revision/":
                body = {"id": repo_id, "modelId": repo_id, "sha": commit, "private": False,
                        "siblings": [{"rfilename": name} for name in files]}
            else:
                body = [f.tree_entry() for f in files.values()]
            self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

        def _file(self, repo_id: str, filename: str, head: bool):
            commit, files = hub.repos.get(repo_id, (None, {}))
            if commit is None:
                return self._send(404, b"{}", {"X-Error-Code": "RepoNotFound"})
            if filename not in files:
                return self._send(404, b"{}", {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit})
            entry = files[filename]
            headers = {"X-Repo-Commit": commit, "ETag": f'"{entry.etag}"', "Accept-Ranges": "bytes"}
            if entry.lfs:
                headers.update({"X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": str(entry.size)})
            if head:
                return self._send(200, b"", {**headers, "Content-Length": str(entry.size)}, body_length=entry.size)
            data = entry.source.read_bytes()
            if filename in hub.corrupt:
                data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
            start = _range_start(self.headers.get("Range"))
            status = 206 if start else 200
            if start:
                headers["Content-Range"] = f"bytes {start}-{entry.size - 1}/{entry.size}"
            cut = hub.drop_once.pop(filename, None)
            self._send(status, data[start:], headers, cut=cut)

        def _send(self, status: int, body: bytes, headers: dict | None = None, body_length: int | None = None,
                  cut: int | None = None):
            self.send_response(status)
            for key, value in (headers or {}).items():
                if key != "Content-Length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body) if body_length is None else body_length))
            self.end_headers()
            if self.command == "HEAD":
                return
            if cut is not None:  # a dropped connection mid-file
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


def _range_start(header: str | None) -> int:
    if not header or not header.startswith("bytes="):
        return 0
    return int(header[len("bytes="):].split("-")[0] or 0)
