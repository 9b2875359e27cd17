"""Typed, validated task options (``Configurable``: an ``Options`` dataclass read from the
recipe's ``tasks[].options``, errors naming the field) and a task's token budget (``sampling_for``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from speechsift.errors import ConfigError
from speechsift.llm.types import SamplingParams
from speechsift.tasks.base import TaskSettings

@dataclass(frozen=True)
class NoOptions:
    """A task without options."""


class Configurable:
    """Typed, validated task options: ``Options`` is a frozen dataclass whose ``__post_init__``
    checks ranges. ``options(settings)`` reads ``settings.options[self.name]`` (a mapping; absent
    means the defaults) and parses it once per mapping."""

    name: ClassVar[str]
    Options: ClassVar[type] = NoOptions

    def parse_options(self, raw: Mapping[str, Any] | None) -> Any:
        """The task's ``Options`` from a recipe mapping; ``ConfigError`` names the field and the fix."""
        raw = dict(raw or {})
        fields = {f.name: f for f in dataclasses.fields(self.Options)}
        where = f"tasks.{self.name}.options"
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            known = ", ".join(fields) or "none"
            raise ConfigError(f"{where}: unknown option(s) {', '.join(unknown)}; the options are {known}")
        values = {}
        for key, value in raw.items():
            values[key] = _coerce(f"{where}.{key}", value, str(fields[key].type))
        try:
            return self.Options(**values)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def options(self, settings: TaskSettings) -> Any:
        table = getattr(settings, "options", None) or {}
        raw = table.get(self.name) if isinstance(table, Mapping) else None
        cache = self.__dict__.setdefault("_options_cache", {})
        key = id(raw)
        hit = cache.get(key)
        if hit is None or hit[0] is not raw:
            hit = cache[key] = (raw, self.parse_options(raw))
        return hit[1]


def _coerce(where: str, value: Any, annotation: str) -> Any:
    """``value`` checked against the option's annotation (``int | None``, ``tuple[str, ...]``...)."""
    if value is None:
        if "None" in annotation:
            return None
        raise ConfigError(f"{where}: a value is required")
    if annotation.startswith("bool"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if annotation.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if annotation.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation.startswith("tuple[float"):
        if isinstance(value, (str, bool)) or not isinstance(value, Sequence) or \
                not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{where}: expected a list of numbers, got {value!r}")
        return tuple(float(v) for v in value)
    if annotation.startswith("tuple"):
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of names, got {value!r}")
        return tuple(value)
    if annotation.startswith("str"):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    return value


def sampling_for(sampling: SamplingParams, max_tokens: int | None, floor: int = 0) -> SamplingParams:
    """``sampling`` with the task's token budget (``max_tokens``, or at least ``floor``)."""
    wanted = max_tokens if max_tokens is not None else max(sampling.max_tokens, floor)
    return sampling if wanted == sampling.max_tokens else replace(sampling, max_tokens=wanted)


__all__ = ["Configurable", "NoOptions", "sampling_for"]
