"""The stages of a run: pure functions from a batch of records to a batch of records.

A stage knows nothing of files or processes. ``Stage`` owns the plumbing (timing, counting,
rejects); a subclass implements ``process`` for one record, or ``run`` for a whole batch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from speechsift import audio
from speechsift.errors import AudioLoadError, Reject
from speechsift.labels import normalize_labels
from speechsift.llm.base import Backend, generate
from speechsift.llm.parse import is_truncated, strip_think
from speechsift.llm.types import ChatRequest, Completion
from speechsift.engine.context import ShardContext
from speechsift.records import Clip, Example, Generation, Message, Part
from speechsift.sources.base import RejectedRow
from speechsift.tasks import TaskSettings, get_task


def record_id(record: Any) -> str:
    return getattr(record, "clip_id", None) or getattr(record, "id", "?")


class Stage:
    """A named step. ``process`` maps one record to one record or raises ``Reject``."""

    name: str = "stage"

    def __call__(self, records: list[Any], ctx: ShardContext) -> list[Any]:
        started = time.perf_counter()
        try:
            return self.run(records, ctx)
        finally:
            ctx.seconds[self.name] += time.perf_counter() - started

    def run(self, records: list[Any], ctx: ShardContext) -> list[Any]:
        stats = ctx.stats(self.name)
        kept = []
        for record in records:
            stats.inputs += 1
            try:
                kept.append(self.process(record, ctx))
            except Reject as rejected:
                ctx.reject(self.name, record_id(record), rejected.reason, rejected.message, **self.reject_extra(record))
        stats.outputs += len(kept)
        return kept

    def process(self, record: Any, ctx: ShardContext) -> Any:
        raise NotImplementedError  # subclasses implement process or run

    def reject_extra(self, record: Any) -> dict[str, Any]:
        return {"source": getattr(record, "source", None)}


class Read(Stage):
    """Turns the rows a source could not read into rejects; passes clips on."""

    name = "read"

    def process(self, record: Clip | RejectedRow, ctx: ShardContext) -> Clip:
        if isinstance(record, RejectedRow):
            raise Reject(record.reason, record.message)
        return record


class NormalizeLabels(Stage):
    """Raw corpus labels -> ``meta`` (and numeric ``features``); unknown values are counted."""

    name = "normalize"

    def process(self, clip: Clip, ctx: ShardContext) -> Clip:
        meta, features, unknown = normalize_labels(clip.raw)
        for field_name, value in unknown:
            ctx.unknown_labels[f"{field_name}={value}"] += 1
        return replace(clip, meta={**meta, **clip.meta}, features={**clip.features, **features})


class ProbeAudio(Stage):
    """Checks every clip's audio can be read (header, or a full decode) and records its duration."""

    name = "probe_audio"

    def __init__(self, decode: bool = False) -> None:
        self.decode = decode

    def process(self, clip: Clip, ctx: ShardContext) -> Clip:
        try:
            info = audio.probe(clip.audio)
            if self.decode:
                audio.load(clip.audio, sampling_rate=None)
        except AudioLoadError as exc:
            raise Reject(exc.reason, str(exc)) from None
        return replace(
            clip,
            audio=replace(clip.audio, sampling_rate=info.sampling_rate),
            features={**clip.features, "duration_s": round(info.duration_s, 4)},
        )


class ExpandTasks(Stage):
    """Each clip into one example per task that applies to its source; counted per task."""

    name = "tasks"

    def __init__(self, task_sources: Sequence[tuple[str, frozenset[str] | None]], settings: TaskSettings) -> None:
        self.tasks = [(get_task(name), sources) for name, sources in task_sources]
        self.settings = settings

    def run(self, clips: list[Clip], ctx: ShardContext) -> list[Example]:
        examples: list[Example] = []
        for clip in clips:
            for task, sources in self.tasks:
                if sources is not None and clip.source not in sources:
                    continue
                stage = f"task.{task.name}"
                stats = ctx.stats(stage)
                stats.inputs += 1
                try:
                    examples.append(task.build(clip, self.settings))
                    stats.outputs += 1
                except Reject as rejected:
                    ctx.reject(stage, clip.clip_id, rejected.reason, rejected.message, source=clip.source, task=task.name)
        return examples


class Generate(Stage):
    """Answers the examples' LLM requests (identical requests once) and fills their responses."""

    name = "generate"

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def run(self, examples: list[Example], ctx: ShardContext) -> list[Example]:
        stats = ctx.stats(self.name)
        stats.inputs += len(examples)
        unique: dict[str, ChatRequest] = {}
        for example in examples:
            if example.request is not None:
                unique.setdefault(self._key(example.request), example.request)
        keys = list(unique)
        completions = dict(zip(keys, generate(self.backend, [unique[k] for k in keys])))
        asked = sum(1 for e in examples if e.request is not None)
        ctx.llm["requests"] += asked
        ctx.llm["requests_sent"] += len(keys)
        ctx.llm["deduplicated"] += asked - len(keys)
        for completion in completions.values():
            ctx.llm["tokens_in"] += completion.prompt_tokens or 0
            ctx.llm["tokens_out"] += completion.completion_tokens or 0
        kept: list[Example] = []
        for example in examples:
            if example.request is None:
                kept.append(example)
                continue
            try:
                kept.append(self._answered(example, completions[self._key(example.request)]))
            except Reject as rejected:
                ctx.llm[f"failed.{rejected.reason}"] += 1
                ctx.reject(self.name, example.id, rejected.reason, rejected.message, source=example.source, task=example.task)
        stats.outputs += len(kept)
        return kept

    def _key(self, request: ChatRequest) -> str:
        return request.key(self.backend.name, self.backend.model)

    def _answered(self, example: Example, completion: Completion) -> Example:
        if not completion.ok:
            raise Reject(completion.error_reason or "llm_error", completion.error or "the backend gave no text")
        response = strip_think(completion.text or "")
        if not response:
            raise Reject("empty_response", "the model's answer was empty after removing <think> blocks")
        request = example.request
        generation = Generation(
            backend=self.backend.name,
            model=self.backend.model,
            temperature=request.sampling.temperature,
            top_p=request.sampling.top_p,
            max_tokens=request.sampling.max_tokens,
            seed=request.sampling.seed,
            sample_index=request.sample_index,
            llm_messages=[] if self.backend.name == "template" else list(request.messages),
            finish_reason=completion.finish_reason,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            truncated=is_truncated(completion.finish_reason),
        )
        messages = [*example.messages, Message("assistant", [Part.of_text(response)])]
        return replace(example, response=response, messages=messages, generation=generation, request=None)
