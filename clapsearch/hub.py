"""Named presets of the public CLAP checkpoints, and `models pull` / `models rm` over huggingface_hub.

Loading never downloads. A preset (or `hf:ORG/NAME`) resolves to files already in the standard
hub cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), found with
try_to_load_from_cache, which reads the disk only; anything missing is one sentence naming
`clapsearch models pull NAME`, so offline use never waits on retries or prints hub warnings.

`pull` is the one place that talks to the hub: it lists the repository at one commit, fetches only
the files the loader reads (safetensors over a pickle where a repo has both; for MS CLAP the text
model's config and tokenizer only, because the checkpoint carries the text weights) with the
hub's own downloads (progress bar, Range-resumed after a dropped connection), then checks every
file against the checksum the hub lists for it (sha256 for LFS files, the git blob id otherwise).

Nothing here imports torch or the models; the registry asks `local_model_name` where files are.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field

from .errors import ChecksumError, HubError, ModelNotDownloadedError, UnknownModelError


@dataclass(frozen=True)
class RepoFiles:
    """The files of one hub repository that a loader needs.

    `required`: groups of alternatives, the first one the repo has is fetched (a group none of
    whose names exist makes the repo unusable). `optional`: fetched when the repo has them.
    """

    repo_id: str
    required: tuple[tuple[str, ...], ...]
    optional: tuple[str, ...] = ()
    revision: str = "main"


TOKENIZER_FILES = ("vocab.json", "merges.txt", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                   "special_tokens_map.json", "added_tokens.json")


def transformers_clap_files(repo_id: str) -> RepoFiles:
    """What ClapModel / AutoFeatureExtractor / AutoTokenizer.from_pretrained(DIR) read."""
    return RepoFiles(repo_id, required=(
        ("config.json",), ("model.safetensors", "pytorch_model.bin"),
        ("preprocessor_config.json", "processor_config.json"), ("tokenizer.json", "vocab.json")),
        optional=("preprocessor_config.json", "processor_config.json", *TOKENIZER_FILES))


def text_model_files(repo_id: str, vocab: str) -> RepoFiles:
    """A text model's config and tokenizer, no weights (an MS CLAP checkpoint holds them)."""
    return RepoFiles(repo_id, required=(("config.json",), (vocab,)), optional=TOKENIZER_FILES)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    good_for: str
    backend: str  # the registry prefix that loads it: "default", "hf", "msclap-2022", "msclap-2023"
    license: str
    window_seconds: float
    sample_rate: int
    dim: int
    download_mb: int  # as listed on the hub's file pages (weights + config/tokenizer files)
    repos: tuple[RepoFiles, ...] = field(default_factory=tuple)

    @property
    def source(self) -> str:
        return " + ".join(r.repo_id for r in self.repos) or "bundled with clapsearch"


MSCLAP_REPO = "microsoft/msclap"
_LAION = dict(backend="hf", license="Apache-2.0", window_seconds=10.0, sample_rate=48000, dim=512)

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("default", "the bundled model (aisfx sound-effects CNN + MiniLM text), 30 MB, no download",
           "sound effects and instruments offline; a fallback when nothing can be downloaded",
           "default", "CC BY 4.0 (aisfx weights), Apache-2.0 (MiniLM)", 2.3, 44100, 512, 0),
    Preset("laion-general", "LAION-CLAP larger_clap_general (HTSAT-base + RoBERTa)",
           "general sound search: effects, ambiences, music and speech in one library",
           download_mb=780, repos=(transformers_clap_files("laion/larger_clap_general"),), **_LAION),
    Preset("laion-music-speech", "LAION-CLAP larger_clap_music_and_speech (HTSAT-base + RoBERTa)",
           "music and speech recordings", download_mb=780,
           repos=(transformers_clap_files("laion/larger_clap_music_and_speech"),), **_LAION),
    Preset("laion-music", "LAION-CLAP larger_clap_music (HTSAT-base + RoBERTa)",
           "music: genres, instruments, moods", download_mb=780,
           repos=(transformers_clap_files("laion/larger_clap_music"),), **_LAION),
    Preset("laion-unfused", "LAION-CLAP clap-htsat-unfused (HTSAT-tiny + RoBERTa, 630k pairs)",
           "sound events; the smallest LAION model", download_mb=619,
           repos=(transformers_clap_files("laion/clap-htsat-unfused"),), **_LAION),
    Preset("msclap-2023", "Microsoft CLAP 2023 (HTSAT-tiny + GPT-2, 4.6 M pairs)",
           "sound events and everyday sounds (highest published ESC-50 zero-shot of these)",
           "msclap-2023", "MS-PL (hub card of microsoft/msclap)", 7.0, 44100, 1024, 693,
           (RepoFiles(MSCLAP_REPO, required=(("CLAP_weights_2023.pth",),)), text_model_files("gpt2", "vocab.json"))),
    Preset("msclap-2022", "Microsoft CLAP 2022, the CLAP paper's model (CNN14 + BERT, 128k pairs)",
           "reproducing the paper; sound events", "msclap-2022", "MS-PL (hub card of microsoft/msclap)",
           5.0, 44100, 1024, 2331,
           (RepoFiles(MSCLAP_REPO, required=(("CLAP_weights_2022.pth",),)),
            text_model_files("bert-base-uncased", "vocab.txt"))),
)}


# ---- where the cache and the hub are (read at call time, so HF_HOME / HF_ENDPOINT set later count) ----

def cache_dir() -> str:
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def endpoint() -> str:
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def _storage_folder(repo_id: str) -> str:
    return os.path.join(cache_dir(), "models--" + repo_id.replace("/", "--"))


# ---- resolving names to local files (disk only) -------------------------------------------------

def _cached(repo: RepoFiles, filename: str) -> str | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo.repo_id, filename, cache_dir=cache_dir(), revision=repo.revision)
    return found if isinstance(found, str) and os.path.isfile(found) else None


def local_snapshot(repo: RepoFiles) -> str | None:
    """The cached snapshot folder holding one of each required group, or None."""
    folder = None
    for group in repo.required:
        hit = next((p for p in (_cached(repo, name) for name in group) if p), None)
        if hit is None:
            return None
        folder = os.path.dirname(hit)
    return folder


def pull_hint(name: str) -> str:
    return f"run `clapsearch models pull {name}` once with network"


def local_model_name(preset_name: str) -> str:
    """A preset -> the registry form that loads its cached files, e.g. 'hf:/cache/.../snapshots/abc'."""
    preset = PRESETS[preset_name]
    if not preset.repos:
        return preset.backend
    folders = [local_snapshot(repo) for repo in preset.repos]
    if any(f is None for f in folders):
        raise ModelNotDownloadedError(f"The model {preset_name} is not downloaded; {pull_hint(preset_name)}.")
    if preset.backend == "hf":
        return f"hf:{folders[0]}"
    checkpoint = os.path.join(folders[0], preset.repos[0].required[0][0])
    return f"{preset.backend}:{checkpoint}?text={folders[1]}"


def local_hf_dir(repo_id: str) -> str:
    """`hf:ORG/NAME` -> its cached snapshot folder, or one sentence naming the pull."""
    folder = local_snapshot(transformers_clap_files(repo_id))
    if folder is None:
        raise ModelNotDownloadedError(f"The model hf:{repo_id} is not downloaded; {pull_hint('hf:' + repo_id)}.")
    return folder


def repos_of(name: str) -> tuple[RepoFiles, ...]:
    """A preset or `hf:ORG/NAME` -> the repositories `pull` and `rm` work on."""
    if name in PRESETS:
        return PRESETS[name].repos
    if name.startswith("hf:") and len(name) > 3 and not os.path.isdir(name[3:]):
        return (transformers_clap_files(name[3:]),)
    from difflib import get_close_matches

    close = get_close_matches(name, list(PRESETS), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise UnknownModelError(f"{name!r} is not a preset or hf:ORG/NAME; {hint}`clapsearch models` lists the presets.")


def disk_bytes(name: str) -> int:
    """Bytes the cached files of a preset take (0 when nothing is cached)."""
    total = 0
    for repo in repos_of(name):
        for names in repo.required:
            found = next((p for p in (_cached(repo, n) for n in names) if p), None)
            total += os.path.getsize(found) if found else 0
    return total


def is_downloaded(name: str) -> bool:
    preset = PRESETS.get(name)
    if preset is not None and not preset.repos:
        return True
    return all(local_snapshot(repo) is not None for repo in repos_of(name))


# ---- pull ------------------------------------------------------------------------------------------

def pull(name: str, progress: bool = True) -> dict:
    """Download a preset or `hf:ORG/NAME` into the hub cache and verify it; returns what was fetched."""
    repos = repos_of(name)
    if not repos:
        return {"name": name, "repos": [], "bytes": 0}
    done = [_pull_repo(repo, name, progress) for repo in repos]
    return {"name": name, "repos": done, "bytes": sum(r["bytes"] for r in done), "cache": cache_dir()}


def _pull_repo(repo: RepoFiles, name: str, progress: bool) -> dict:
    from huggingface_hub import hf_hub_download

    commit, listing = _listing(repo, name)
    files = choose_files(repo, listing, name)
    for filename in files:
        with _hub_errors(repo, name):
            path = hf_hub_download(repo.repo_id, filename, revision=repo.revision, cache_dir=cache_dir(),
                                   endpoint=endpoint(),
                                   tqdm_class=_progress_class(progress, f"{repo.repo_id}/{filename}"))
        if f"{os.sep}snapshots{os.sep}{commit}{os.sep}" not in path:  # the branch moved mid-pull
            raise HubError(f"{repo.repo_id} changed on the hub during the download; run `clapsearch models pull {name}` again.")
        verify(path, listing[filename], repo, name)
    return {"repo_id": repo.repo_id, "commit": commit, "files": files,
            "bytes": sum(_entry_size(listing[f]) for f in files)}


def _listing(repo: RepoFiles, name: str):
    """(commit, {path: RepoFile}) of the repo at its revision, with the hub's checksums."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    api = HfApi(endpoint=endpoint())
    with _hub_errors(repo, name):
        commit = api.repo_info(repo.repo_id, revision=repo.revision).sha
        entries = api.list_repo_tree(repo.repo_id, revision=commit, recursive=True)
        return commit, {e.path: e for e in entries if isinstance(e, RepoFile)}


def choose_files(repo: RepoFiles, listing: dict, name: str) -> list[str]:
    chosen = []
    for group in repo.required:
        hit = next((n for n in group if n in listing), None)
        if hit is None:
            raise HubError(f"{repo.repo_id} on the hub has no {' or '.join(group)}, so clapsearch cannot load "
                           f"{name} from it; check the name (`clapsearch models` lists the presets).")
        chosen.append(hit)
    chosen += [n for n in repo.optional if n in listing and n not in chosen]
    return chosen


class _hub_errors:
    """Turns huggingface_hub's exceptions into one sentence that names the next step."""

    def __init__(self, repo: RepoFiles, name: str):
        self.repo, self.name = repo, name

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if error is None or isinstance(error, (HubError, KeyboardInterrupt)):
            return False
        from huggingface_hub.errors import (
            GatedRepoError, HfHubHTTPError, HFValidationError, OfflineModeIsEnabled, RepositoryNotFoundError,
            RevisionNotFoundError)

        again = f"run `clapsearch models pull {self.name}` again"
        where = f"the hub at {endpoint()}"
        if isinstance(error, HFValidationError):
            message = f"{self.repo.repo_id!r} is not a hub repository id; give it as hf:ORG/NAME."
        elif isinstance(error, GatedRepoError):
            message = f"{self.repo.repo_id} on {where} needs a login (`hf auth login`); then {again}."
        elif isinstance(error, RepositoryNotFoundError):
            message = (f"There is no model repository {self.repo.repo_id} on {where}; check the name "
                       "(`clapsearch models` lists the presets).")
        elif isinstance(error, RevisionNotFoundError):
            message = f"{self.repo.repo_id} on {where} has no revision {self.repo.revision!r}."
        elif isinstance(error, OfflineModeIsEnabled):
            message = f"Downloads are switched off (HF_HUB_OFFLINE is set); unset it and {again}."
        elif isinstance(error, HfHubHTTPError):
            message = f"{where} answered {error.response.status_code} for {self.repo.repo_id}; {again} later."
        elif isinstance(error, OSError) or type(error).__module__.startswith(("httpx", "requests")):
            message = (f"Cannot download {self.repo.repo_id} from {where} ({_first_line(error)}); check the "
                       f"network (or HF_ENDPOINT) and {again}: finished files are kept.")
        else:
            return False
        raise HubError(message) from error


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:160]


def _entry_size(entry) -> int:
    return int(entry.lfs.size if entry.lfs is not None else entry.size)


def _progress_class(enabled: bool, label: str):
    """A plain tqdm class: bars show for `pull` even though the CLI hides the hub's loading bars."""
    from tqdm.auto import tqdm

    class PullBar(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.pop("name", None)
            kwargs["disable"] = not enabled
            kwargs["desc"] = label  # the hub names the bar after the URL
            super().__init__(*args, **kwargs)

    return PullBar


# ---- checksums ------------------------------------------------------------------------------------

def file_checksum(path: str, git_blob: bool) -> str:
    """sha256 of the bytes (LFS files), or git's blob id sha1("blob SIZE\\0" + bytes) (other files)."""
    digest = hashlib.sha1() if git_blob else hashlib.sha256()
    if git_blob:
        digest.update(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: str, entry, repo: RepoFiles, name: str) -> None:
    """Compare a cached file with the hub's checksum; a damaged one is deleted so a re-pull fetches it."""
    lfs = entry.lfs is not None
    expected = (entry.lfs.sha256 if lfs else entry.blob_id).lower()
    if file_checksum(path, git_blob=not lfs) == expected:
        return
    _remove_pointer(path)
    kind = "sha256" if lfs else "git blob id"
    raise ChecksumError(f"The downloaded {entry.path} of {repo.repo_id} is damaged (its {kind} differs from the "
                        f"hub's) and was deleted; run `clapsearch models pull {name}` again.")


# ---- rm --------------------------------------------------------------------------------------------

def remove(name: str) -> dict:
    """Delete a preset's (or `hf:ORG/NAME`'s) files from the hub cache; returns the bytes freed.

    Files another downloaded preset needs (the two MS presets share microsoft/msclap) are kept.
    """
    keep = {(r.repo_id, f) for other in PRESETS.values() if other.name != name and other.repos
            and is_downloaded(other.name) for r in other.repos for f in _all_names(r)}
    freed, removed = 0, []
    for repo in repos_of(name):
        folder = _storage_folder(repo.repo_id)
        snapshots = os.path.join(folder, "snapshots")
        for filename in _all_names(repo):
            if (repo.repo_id, filename) in keep or not os.path.isdir(snapshots):
                continue
            for commit in os.listdir(snapshots):
                pointer = os.path.join(snapshots, commit, filename)
                if os.path.lexists(pointer):
                    freed += _remove_pointer(pointer)
                    removed.append(f"{repo.repo_id}/{filename}")
        if os.path.isdir(folder) and not _any_file(snapshots):
            shutil.rmtree(folder)  # nothing left: refs, .no_exist and empty folders go too
    return {"name": name, "removed": sorted(set(removed)), "bytes": freed}


def _all_names(repo: RepoFiles) -> set[str]:
    return {n for group in repo.required for n in group} | set(repo.optional)


def _remove_pointer(pointer: str) -> int:
    """Unlink a snapshot entry and its blob unless another snapshot links to the same blob."""
    blob = os.path.realpath(pointer)
    size = os.path.getsize(blob) if os.path.exists(blob) else 0
    os.unlink(pointer)
    if blob != os.path.abspath(pointer) and os.path.exists(blob) and not _still_linked(blob):
        os.unlink(blob)
    return size


def _still_linked(blob: str) -> bool:
    snapshots = os.path.join(os.path.dirname(os.path.dirname(blob)), "snapshots")
    for root, _, files in os.walk(snapshots):
        if any(os.path.realpath(os.path.join(root, f)) == blob for f in files):
            return True
    return False


def _any_file(folder: str) -> bool:
    return os.path.isdir(folder) and any(files for _, _, files in os.walk(folder))


# ---- the list `clapsearch models` prints ------------------------------------------------------------

def model_rows() -> list[dict]:
    """Presets first (with their status), then the name forms the registry accepts."""
    from .models.registry import backends

    rows = [preset_row(p) for p in PRESETS.values()]
    for backend in backends():
        if backend.prefix in PRESETS and ":" not in backend.example:
            continue  # `default` is already listed as a preset
        kind = "form" if backend.example != backend.prefix else "name"
        rows.append({"name": backend.example, "kind": kind, "description": backend.description})
    return rows


def preset_row(preset: Preset) -> dict:
    downloaded = is_downloaded(preset.name)
    return {"name": preset.name, "kind": "preset", "description": preset.description, "good_for": preset.good_for,
            "source": preset.source, "license": preset.license, "window_seconds": preset.window_seconds,
            "sample_rate": preset.sample_rate, "dim": preset.dim, "download_mb": preset.download_mb,
            "downloaded": downloaded, "disk_bytes": disk_bytes(preset.name) if downloaded and preset.repos else None}
