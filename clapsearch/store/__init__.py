"""The index: SQLite metadata and vectors (source of truth) plus a derived FAISS cache."""

from .rows import FileRow, Filters, Hit
from .store import Store

__all__ = ["Store", "FileRow", "Hit", "Filters"]
