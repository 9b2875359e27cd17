"""``constrained``: Speech-IFEval-style verifiable constraints on examples whose target is known.

Each clip's examples of a base task (``transcription``, ``answer_extraction``,
``closed_ended_template`` by default) get one constraint each, chosen with an RNG seeded by the
example: JSON output, upper or lower case, quotation, a ``<< >>`` title, a fixed ending, an
``Answer:`` prefix, a bullet count, sentence/word/paragraph counts, keywords present or forbidden
(``eval.constraints``). The constraint's phrase is appended to the instruction and the target is
rewritten to satisfy it; every target is checked with the same checker ``speechsift eval`` uses
(``eval.ifeval``) before it is kept. Keeping instruction following alive during speech training is
DeSTA's point (REFERENCE.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass

from speechsift.errors import Reject
from speechsift.eval import constraints, ifeval
from speechsift.records import Clip, Example
from speechsift.tasks.base import Task, TaskSettings, get_task, register_task
from speechsift.tasks.options import Configurable
from speechsift.tasks.pairing import seeded_rng

BASE_TASKS = ("transcription", "answer_extraction", "closed_ended_template")


@dataclass(frozen=True)
class ConstrainedOptions:
    """Options of ``constrained``.

    Attributes:
        base: the tasks whose examples get constraints (targets known without an LLM).
        constraints: the constraint ids to choose from (default: all of ``eval.constraints``).
    """

    base: tuple[str, ...] = BASE_TASKS
    constraints: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.base) - set(BASE_TASKS))
        if unknown or not self.base:
            raise ValueError(f"base must name some of {', '.join(BASE_TASKS)}, got {list(self.base)}")
        bad = sorted(set(self.constraints or ()) - set(constraints.CONSTRAINT_IDS))
        if bad:
            raise ValueError(f"unknown constraint(s) {', '.join(bad)}; choose from {', '.join(constraints.CONSTRAINT_IDS)}")


@register_task
class Constrained(Configurable, Task):
    name = "constrained"
    category = "constrained"
    checks_language = False
    Options = ConstrainedOptions

    def build(self, clip: Clip, settings: TaskSettings) -> list[Example]:
        opts = self.options(settings)
        pool = list(opts.constraints or constraints.CONSTRAINT_IDS)
        examples = []
        for base_name in opts.base:
            try:
                built = get_task(base_name).build(clip, settings)
            except Reject:
                continue  # this clip has no target for that base task (no transcript, no answer)
            for base in built if isinstance(built, list) else [built]:
                examples.append(self._constrain(clip, base, pool))
        if not examples:
            raise Reject("no_base_example", f"clip {clip.clip_id} has a target for none of {', '.join(opts.base)}")
        return examples

    def _constrain(self, clip: Clip, base: Example, pool: list[str]) -> Example:
        rng = seeded_rng(self.name, base.id)
        target = base.response or ""
        for constraint_id in rng.sample(pool, len(pool)):
            rewritten = constraints.rewrite(constraint_id, target, clip.language, rng)
            if rewritten is None:
                continue
            if not ifeval.follows(constraint_id, rewritten.target, rewritten.kwargs):
                raise Reject("constraint_unsatisfied", f"the rewritten target does not satisfy {constraint_id}")
            phrase = constraints.render(constraint_id, rewritten.kwargs, clip.language)
            instruction = f"{base.instruction}\n{phrase}" if base.instruction else phrase
            example = self.example(clip, instruction=instruction, response=rewritten.target,
                                   variant=f"{base.task}/{base.id}")
            example.generation = base.generation
            return example
        raise Reject("no_fitting_constraint", f"no constraint fits the target of {base.id}")
