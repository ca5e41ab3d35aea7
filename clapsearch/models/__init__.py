"""Model registry and backends. Importing this package imports no torch."""

from .registry import backends, load_model, parse_model_name, register, unregister

__all__ = ["backends", "load_model", "parse_model_name", "register", "unregister"]
