"""Where the bundled demo corpus and recipe are: inside the package when installed from a wheel,
or in the source checkout (``examples/demo``, ``recipes/demo.yaml``) for an editable install."""

from __future__ import annotations

from pathlib import Path

from speechsift.errors import ConfigError

_PACKAGED = Path(__file__).parent / "_demo" / "recipes" / "demo.yaml"
_CHECKOUT = Path(__file__).resolve().parents[2] / "recipes" / "demo.yaml"


def demo_recipe_path() -> Path:
    for candidate in (_PACKAGED, _CHECKOUT):
        if candidate.is_file():
            return candidate
    raise ConfigError("the demo recipe is not installed with this copy of speechsift; run from a source checkout.")
