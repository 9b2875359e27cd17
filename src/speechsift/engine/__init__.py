"""Pipeline assembly and executors."""

from speechsift.engine.local import RunResult, run_recipe

__all__ = ["RunResult", "run_recipe"]
