"""Download Debian packages and unpack only what the recipe needs.

`apt-get download` fetches the .deb into ``cache/debs`` (no root install, no
dependencies); ``dpkg-deb --fsys-tarfile | tar`` unpacks only audio files,
archives that hold audio, and ``usr/share/doc`` (the copyright files) into
``cache/pkgs/<package>``. Both steps are skipped when already done, so
re-running is cheap.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# What we unpack from a package: audio, containers of audio, and the docs
# that carry the licenses. Everything else (textures, maps, code) stays packed.
UNPACK_PATTERNS = [
    "*.ogg", "*.OGG", "*.wav", "*.WAV", "*.flac", "*.mp3", "*.opus", "*.aif", "*.aiff",
    "*.wv", "*.pk3", "*.wz", "*.ocg", "*.zip", "*.wad", "*.sf2", "*.sf3", "*.pat",
    "*.xml", "*/usr/share/doc/*",
]


def deb_path(cache_dir: Path, package: str) -> Path | None:
    """The downloaded .deb of a package, or None."""
    found = sorted((cache_dir / "debs").glob(f"{package}_*.deb"))
    return found[-1] if found else None


def download(cache_dir: Path, package: str) -> Path:
    """`apt-get download` a package into cache/debs unless it is already there."""
    existing = deb_path(cache_dir, package)
    if existing:
        return existing
    debs = cache_dir / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", package], cwd=debs, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    found = deb_path(cache_dir, package)
    if found is None:
        raise RuntimeError(f"apt-get download {package} left no .deb in {debs}.")
    return found


def unpack(cache_dir: Path, package: str, patterns: list[str] | None = None) -> Path:
    """Unpack the package's audio and docs into cache/pkgs/<package>; returns that root."""
    root = cache_dir / "pkgs" / package
    done = root / ".unpacked"
    if done.exists():
        return root
    deb = download(cache_dir, package)
    root.mkdir(parents=True, exist_ok=True)
    wildcards = patterns or UNPACK_PATTERNS
    tar_cmd = ["tar", "-x", "-C", str(root), "--wildcards", "--no-same-owner", *wildcards]
    dpkg = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    # tar exits 2 when a pattern matched nothing; that is fine for us.
    tar = subprocess.run(tar_cmd, stdin=dpkg.stdout, stderr=subprocess.PIPE)
    dpkg.stdout.close()
    dpkg.wait()
    if tar.returncode not in (0, 2) or dpkg.returncode != 0:
        raise RuntimeError(f"Unpacking {deb} failed: {tar.stderr.decode(errors='replace')[-300:]}")
    done.write_text(deb.name + "\n")
    return root


def deb_size(cache_dir: Path, package: str) -> int:
    deb = deb_path(cache_dir, package)
    return deb.stat().st_size if deb else 0
