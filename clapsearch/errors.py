"""One base exception for everything clapsearch reports to a user.

Every message is one plain sentence that says what went wrong and how to fix it;
the CLI prints it as is and exits non-zero.
"""


class ClapsearchError(Exception):
    """Base class: an error a user can act on."""


class UnknownModelError(ClapsearchError):
    """A model name that no registered loader understands."""


class NoDefaultModelError(UnknownModelError):
    """No bundled default model is installed."""


class CheckpointError(ClapsearchError):
    """A checkpoint is missing, unsafe to load, or does not fit the architecture."""


class DecodeError(ClapsearchError):
    """An audio file cannot be read; the message is the one-line reason stored in files.error."""


class StoreError(ClapsearchError):
    """Base for problems with an index (missing, empty, locked, wrong model)."""


class EmptyIndexError(StoreError):
    """The index does not exist or holds no vectors."""


class ModelMismatchError(StoreError):
    """The index was built with another model than the one asked for."""


class IndexLockedError(StoreError):
    """Another process is writing to the same index."""
