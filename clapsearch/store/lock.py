"""An exclusive, cross-process writer lock: `fcntl.flock` on a file next to the database.

The kernel drops a flock when its holder dies, so a killed writer never leaves a stale lock.
The holder writes its pid into the file only so that the next writer can name it.
"""

import fcntl
import os
import time

from clapsearch.errors import IndexLockedError

POLL_SECONDS = 0.1


class WriterLock:
    def __init__(self, lock_path: str):
        self.lock_path = lock_path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait_seconds: float = 0.0) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    other = _read_pid(fd)
                    os.close(fd)
                    raise IndexLockedError(
                        f"Another clapsearch process (pid {other}) is writing to this index "
                        f"(lock file {self.lock_path}); wait for it to finish or use another --db."
                    ) from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _read_pid(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return text or "unknown"
