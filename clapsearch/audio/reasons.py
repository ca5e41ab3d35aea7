"""One-line reasons for the ways opening or decoding a file fails (stored as the file's error)."""

from __future__ import annotations

import errno

_OS_REASONS = {
    errno.ENOENT: "the file does not exist (or is a broken symbolic link)",
    errno.EACCES: "permission denied (make the file readable by this user)",
    errno.EPERM: "permission denied (make the file readable by this user)",
    errno.ELOOP: "symbolic link loop",
    errno.EISDIR: "this is a directory, not an audio file",
}


def os_reason(error: OSError) -> str:
    return _OS_REASONS.get(error.errno, f"cannot open the file ({error.strerror or error})")


def library_reason(error: Exception) -> str:
    """libsndfile's own words, on one line, without the trailing full stop."""
    text = getattr(error, "error_string", None) or str(error)
    return " ".join(str(text).split()).rstrip(".") or type(error).__name__
