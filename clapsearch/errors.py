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


class ModelNotDownloadedError(CheckpointError):
    """A preset or hub model that is not in the local hub cache (loading never downloads)."""


class HubError(ClapsearchError):
    """`clapsearch models pull` could not fetch or verify a model from the hub."""


class ChecksumError(HubError):
    """A downloaded file does not match the checksum the hub gives for it."""


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


class RuntimeChoiceError(ClapsearchError):
    """An unknown --runtime / CLAPSEARCH_RUNTIME value, or one the chosen model cannot run in."""
