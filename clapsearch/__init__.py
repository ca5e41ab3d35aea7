"""clapsearch: search and label a local audio library by meaning with CLAP models.

Heavy modules (torch, transformers, faiss) load on first use, so importing clapsearch is cheap.
"""

from .errors import ClapsearchError

__version__ = "0.1.0"
__all__ = ["ClapsearchError", "Library", "load_model", "tag", "__version__"]


def __getattr__(name):  # lazy exports: `from clapsearch import Library` imports the API then
    if name in ("Library", "tag"):
        from . import api

        return getattr(api, name)
    if name == "load_model":
        from .models.registry import load_model

        return load_model
    raise AttributeError(name)
