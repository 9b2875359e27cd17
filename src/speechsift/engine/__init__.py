"""Pipeline assembly and executors.

``run_recipe`` and ``RunResult`` are loaded on first use, so that the modules beside the engine
(``speechsift.export``) can import ``speechsift.engine.layout`` without pulling in the executor,
which imports them in turn.
"""

from typing import Any

__all__ = ["RunResult", "run_recipe"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from speechsift.engine import local

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
