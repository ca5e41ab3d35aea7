"""Sources rendered or synthesised here (soundfonts, speech synthesis)."""

from functools import partial

from .soundfonts import FONTS, render_font

GENERATED: dict = {package: partial(render_font, package=package) for package in FONTS}
