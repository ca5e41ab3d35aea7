"""Progress bars on stderr (tqdm): files done, audio hours, speed against real time, ETA.

tqdm hides itself when stderr is not a terminal (logs, CI, tests), so output stays clean there.
"""

from __future__ import annotations

import sys
import time


class FileProgress:
    """Counts files (the bar and its ETA) and audio seconds (shown beside it)."""

    def __init__(self, total_files: int, description: str, enabled: bool = True):
        from tqdm import tqdm

        self.bar = tqdm(total=total_files, desc=description, unit="file", file=sys.stderr,
                        disable=None if enabled else True, dynamic_ncols=True)
        self.audio_seconds = 0.0
        self.started = time.monotonic()

    def audio(self, seconds: float) -> None:
        self.audio_seconds += seconds
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.bar.set_postfix_str(f"{self.audio_seconds / 3600:.2f} audio h, {self.audio_seconds / elapsed:.0f}x real time",
                                 refresh=False)

    def file_done(self, count: int = 1) -> None:
        self.bar.update(count)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
