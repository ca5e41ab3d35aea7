"""Sources rendered or synthesised here (soundfonts, speech synthesis)."""

from functools import partial

from .soundfonts import FONTS, render_font
from .speech import espeak_source, festival_source

GENERATED: dict = {package: partial(render_font, package=package) for package in FONTS}
GENERATED["espeak-ng"] = espeak_source
GENERATED["festival"] = festival_source
