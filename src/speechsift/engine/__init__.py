"""Pipeline assembly and executors: ``run_recipe`` runs a recipe with the executor its
``engine.executor`` names (``engine/executor.py``, ``engine/local.py``)."""

from speechsift.engine.executor import RunResult, run_recipe

__all__ = ["RunResult", "run_recipe"]
