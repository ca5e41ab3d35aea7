"""Progress on stderr (tqdm), from the first second of a run: each stage says what it is doing.

    scanning ~/sounds: 12,204 files            (a counter while folders are walked)
    loading model default ... 3.1 s            (a status line while a model loads)
    reading headers: 100%|█████| 312/312 files (to know how much audio lies ahead)
    indexing  34%|███▍      | 0:20:51/1:01:12 audio [00:27<00:52] 45x real time, 98/312 files

The indexing bar counts audio seconds, so its rate and ETA are in audio time, not files (one
hour-long file and a hundred short ones are not the same amount of work). tqdm hides itself when
stderr is not a terminal (logs, CI, tests), and so do the status lines, so output stays clean there.
"""

from __future__ import annotations

import sys
import time


def on_terminal(enabled: bool = True) -> bool:
    """Whether progress would show: asked for, and stderr is a terminal."""
    return enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Status:
    """One line for a stage that gives no counts (loading a model): its name, then how long it took."""

    def __init__(self, text: str, enabled: bool = True):
        self.text, self.shown, self.started = text, on_terminal(enabled), time.monotonic()

    def __enter__(self):
        if self.shown:
            sys.stderr.write(f"{self.text} ...")
            sys.stderr.flush()
        return self

    def __exit__(self, *exc):
        if self.shown:
            sys.stderr.write(f" {time.monotonic() - self.started:.1f} s\n")
            sys.stderr.flush()


class _Bar:
    """A tqdm bar as a context manager."""

    bar = None

    def close(self) -> None:
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Counter(_Bar):
    """A running count with no total known yet (files found while scanning)."""

    def __init__(self, description: str, unit: str, enabled: bool = True):
        from tqdm import tqdm

        self.bar = tqdm(desc=description, unit=f" {unit}", file=sys.stderr, disable=None if enabled else True,
                        dynamic_ncols=True, mininterval=0.2)

    def add(self, count: int = 1) -> None:
        self.bar.update(count)


class FileProgress(_Bar):
    """Counts files: the bar, its rate and ETA are in files (for work whose files cost the same)."""

    def __init__(self, total_files: int, description: str, enabled: bool = True):
        from tqdm import tqdm

        self.bar = tqdm(total=total_files, desc=description, unit="file", file=sys.stderr,
                        disable=None if enabled else True, dynamic_ncols=True)

    def file_done(self, count: int = 1) -> None:
        self.bar.update(count)


class AudioProgress(_Bar):
    """Counts audio seconds (the bar, its rate and ETA), with files done and speed beside it."""

    def __init__(self, total_seconds: float, total_files: int, description: str, enabled: bool = True):
        from tqdm import tqdm

        self.total_files, self.files = total_files, 0
        self.started = time.monotonic()
        self.bar = tqdm(total=max(total_seconds, 1e-9), desc=description, file=sys.stderr,
                        disable=None if enabled else True, dynamic_ncols=True,
                        bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix} [{elapsed}<{remaining}]")
        self._describe()

    def audio(self, seconds: float) -> None:
        # A cut file's header overstates its length: never run past the total.
        self.bar.update(min(seconds, max(self.bar.total - self.bar.n, 0.0)))
        self._describe()

    def file_done(self, count: int = 1) -> None:
        self.files += count
        self._describe()

    def _describe(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        speed = f", {self.bar.n / elapsed:.0f}x real time" if self.bar.n else ""
        self.bar.set_postfix_str(f"{_clock(self.bar.n)}/{_clock(self.bar.total)} audio{speed}, "
                                 f"{self.files}/{self.total_files} files", refresh=False)
