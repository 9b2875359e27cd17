"""The text tasks' items, planned over the whole recipe before generation (like comparison pairs):
each text task lists its own (seeds, instructions, Magpie slots), and a task that balances over
the whole dataset (preference pairs) decides its assignment here. The engine cuts them into shards
of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from speechsift.tasks import get_task
from speechsift.tasks.text import TextItem, TextTask

if TYPE_CHECKING:
    from speechsift.llm.base import Backend
    from speechsift.recipe import Recipe, TaskSpec


def text_specs(recipe: "Recipe") -> list["TaskSpec"]:
    return [s for s in recipe.task_specs if isinstance(get_task(s.name), TextTask)]


def plan_text_items(recipe: "Recipe", limit: int | None = None) -> tuple[list[TextItem], dict[str, Any]]:
    """Every text task's items in a deterministic order, and what each task's plan reports."""
    items: list[TextItem] = []
    report: dict[str, Any] = {}
    for spec in text_specs(recipe):
        task = get_task(spec.name)
        planned = task.plan_items(spec, recipe, limit)
        items += planned
        report[spec.name] = {"items": len(planned), **getattr(task, "plan_report", {})}
    return items, report


def check_text_backends(recipe: "Recipe", backend: "Backend") -> None:
    """Each text task's own check of the LLMs it needs (Magpie: raw completion and a known template)."""
    for spec in text_specs(recipe):
        check = getattr(get_task(spec.name), "check_backend", None)
        if check is not None:
            check(spec, backend)
