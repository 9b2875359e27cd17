"""The ``EvalConfig`` of one ``speechsift eval`` call: an ``eval:`` section (from a full recipe or a
YAML file holding only that section), then the command-line flags over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from speechsift.errors import ConfigError
from speechsift.eval.config import EvalConfig, resolve_paths
from speechsift.recipe import apply_overrides, format_validation_error, load_recipe


def _section(recipe: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{recipe}: no such file.") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{recipe}: cannot read it as YAML ({exc}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("eval"), dict):
        raise ConfigError(f"{recipe}: no `eval:` section; add one (see README, Evaluation) or pass DATA and flags.")
    if "sources" in data:  # a whole recipe: its eval section, DATA defaulting to its output folder
        full = load_recipe(recipe)
        section = full.eval.model_dump(mode="json", exclude_unset=True) if full.eval else {}
        section.setdefault("data", str(full.output_dir))
        return section
    section = dict(data["eval"])
    resolve_paths(section, recipe.resolve().parent)
    return section


def eval_config(data: Path | None, out: Path | None, recipe: Path | None, overrides: dict[str, Any]) -> EvalConfig:
    section = _section(recipe) if recipe is not None else {}
    apply_overrides(section, {"data": str(data) if data else None, "out": str(out) if out else None, **overrides})
    try:
        return EvalConfig.model_validate(section)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(str(recipe or "the command line"), exc).replace(
            "the recipe is not valid", "the eval settings are not valid")) from None
