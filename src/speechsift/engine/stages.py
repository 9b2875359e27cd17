"""The stages of a run (``stage.Stage``: one ``process`` over a batch of one record type).

Clip stages: ``Read`` (rows a source could not read become rejects), ``NormalizeLabels``,
``ProbeAudio``; then ``ExpandTasks`` (clips -> examples). ``BuildPairs`` and ``BuildText`` make
examples of the items planned over the whole recipe (clip pairs, text items). ``Generate`` fills
examples from their answers (``Answered``: an example and the answers to its requests).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from speechsift import audio
from speechsift.engine.generation import Answer
from speechsift.engine.pairs import PairItem
from speechsift.engine.stage import RecordStage, Rejected, Stage, StageResult
from speechsift.errors import AudioLoadError, Reject
from speechsift.labels import with_labels
from speechsift.llm.base import Backend
from speechsift.llm.parse import is_truncated, strip_think
from speechsift.llm.router import identity
from speechsift.llm.types import ChatRequest, Completion
from speechsift.recipe import TaskSpec
from speechsift.records import AudioRef, Clip, Example, Generation, stable_id
from speechsift.sources.base import RejectedRow
from speechsift.sources.text import EXTRA_KEY as TEXT_RECORD
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.base import takes
from speechsift.tasks.screen import dropped_counts
from speechsift.tasks.comparison import PairTask
from speechsift.tasks.steps import Dropped, Reply, Step
from speechsift.tasks.text import TextItem, TextTask


class Read(Stage):
    """Turns the rows a source could not read into rejects; passes clips on."""

    name = "read"

    def process(self, records: list[Any]) -> StageResult:
        clips = [record for record in records if record.__class__ is not RejectedRow]
        if len(clips) == len(records):
            return StageResult(clips)
        rejects = [Rejected(row.id, row.reason, row.message, source=row.source)
                   for row in records if row.__class__ is RejectedRow]
        return StageResult(clips, rejects)


class NormalizeLabels(Stage):
    """Raw corpus labels -> ``meta`` (and numeric ``features``), the one place labels are
    normalized (sources yield them raw); unknown values are counted and stay in ``raw``."""

    name = "normalize"

    def process(self, clips: list[Clip]) -> StageResult:
        labelled = []
        unknown_labels: Counter = Counter()
        for clip in clips:  # never rejects: an unknown value is counted and stays in raw
            one, unknown = with_labels(clip)
            labelled.append(one)
            for field_name, value in unknown:
                unknown_labels[f"{field_name}={value}"] += 1
        return StageResult(labelled, tallies={"unknown_labels": unknown_labels} if unknown_labels else None)


class ProbeAudio(RecordStage):
    """Checks every clip's audio can be read and records its duration; refuses clips outside the
    length limits (``engine.min_duration_s``/``max_duration_s``), decided from the header alone, so
    a clip that is too long is never decoded. With ``decode``, the clips within the limits are
    then decoded once, block by block, to catch corrupt audio data behind a good header."""

    name = "probe_audio"

    def __init__(self, decode: bool = False, min_duration_s: float | None = None,
                 max_duration_s: float | None = None) -> None:
        self.decode = decode
        self.min_duration_s = min_duration_s
        self.max_duration_s = max_duration_s

    def one(self, clip: Clip) -> Clip:
        if clip.audio.path is None and clip.audio.bytes is None and TEXT_RECORD in clip.extra:
            return clip  # a text record: no audio to check
        try:
            info = audio.probe(clip.audio)
            duration = info.duration_s
            if self.min_duration_s is not None and duration < self.min_duration_s:
                raise Reject("too_short", f"{clip.audio.describe()} is {duration:.3g} s long, shorter than "
                             f"engine.min_duration_s = {self.min_duration_s:g} s (null switches the limit off)")
            if self.max_duration_s is not None and duration > self.max_duration_s:
                raise Reject("too_long", f"{clip.audio.describe()} is {duration:.4g} s long, longer than "
                             f"engine.max_duration_s = {self.max_duration_s:g} s (cut the file into segments, or "
                             "raise the limit; null switches it off)")
            if self.decode:
                audio.verify(clip.audio)
        except AudioLoadError as exc:
            raise Reject(exc.reason, str(exc)) from None
        a = clip.audio
        audio_ref = AudioRef(a.path, a.bytes, info.sampling_rate, a.offset_s, a.duration_s, a.channel)
        features = {**clip.features, "duration_s": round(duration, 4)}
        return Clip(clip.clip_id, clip.source, audio_ref, clip.language, clip.speaker_id, clip.text,
                    clip.raw, clip.meta, features, clip.extra)


def sample_copies(example: Example, samples: int, json_schema: dict | None) -> list[Example]:
    """``samples`` copies of an LLM example, one per sample index (the first keeps its id; the
    others' ids derive from it), with the task's JSON schema on the request. An example on a chain
    of steps (``Step``) is one example."""
    if example.request.__class__ is Step:
        return [example]
    if example.request is not None and json_schema is not None:
        example.request.json_schema = json_schema
    if example.request is None or samples == 1:
        return [example]
    return [
        example if i == 0 else replace(
            example, id=stable_id(example.id, str(i)), request=replace(example.request, sample_index=i)
        )
        for i in range(samples)
    ]


class ExpandTasks(Stage):
    """Each clip into one example per task that applies to its source (``samples`` per LLM task).

    Counted per task in clips: a clip that made its examples is one output, a refused one a reject.
    A batch's examples come out task by task, each task's in clip order.
    """

    name = "tasks"

    def __init__(self, specs: Sequence[TaskSpec], settings: TaskSettings, samples: int = 1) -> None:
        # pairs: BuildPairs; text tasks: BuildText
        specs = [s for s in specs if not isinstance(get_task(s.name), (PairTask, TextTask))]
        self.tasks = [(get_task(s.name), frozenset(s.sources) if s.sources else None, s.json_schema) for s in specs]
        self.settings = settings
        self.samples = samples

    def process(self, clips: list[Clip]) -> StageResult:
        examples: list[Example] = []
        rejects: list[Rejected] = []
        counts: dict[str, tuple[int, int]] = {}
        plain = self.samples == 1  # one sample per prompt: examples need no copies
        mixed = any(TEXT_RECORD in clip.extra for clip in clips)  # text records among the clips
        for task, sources, schema in self.tasks:
            stage = f"task.{task.name}"
            mine = clips if sources is None else [clip for clip in clips if clip.source in sources]
            if mixed or "audio" not in task.inputs:  # each task takes the kinds of record it builds from
                mine = [clip for clip in mine if takes(task, clip)]
            build, settings = task.build, self.settings
            plain_task = plain and schema is None
            rejected = 0
            for clip in mine:
                try:
                    built = build(clip, settings)
                except Reject as refused:
                    rejected += 1
                    rejects.append(Rejected(clip.clip_id, refused.reason, refused.message, source=clip.source,
                                            task=task.name, stage=stage))
                    continue
                if plain_task and built.__class__ is not list:  # the common case, kept cheap
                    examples.append(built)
                else:
                    for one in built if isinstance(built, list) else [built]:
                        examples.extend(sample_copies(one, self.samples, schema))
            counts[stage] = (len(mine), len(mine) - rejected)
        return StageResult(examples, rejects, counts)


class BuildItems(Stage):
    """Examples from the items the engine planned over the whole recipe (clip pairs, text items):
    ``build`` makes one item's examples; counted per task in items, ``samples`` per LLM request."""

    def __init__(self, specs: Sequence[TaskSpec], settings: TaskSettings, samples: int = 1) -> None:
        self.schemas = {s.name: s.json_schema for s in specs}
        self.settings = settings
        self.samples = samples

    def build(self, item: Any) -> Example | list[Example]:
        raise NotImplementedError

    def item_id(self, item: Any) -> str:
        raise NotImplementedError

    def item_source(self, item: Any) -> str | None:
        raise NotImplementedError

    def process(self, items: list[Any]) -> StageResult:
        examples: list[Example] = []
        rejects: list[Rejected] = []
        counts: Counter = Counter()
        made: Counter = Counter()
        for item in items:
            stage = f"task.{item.task}"
            counts[stage] += 1
            try:
                built = self.build(item)
            except Reject as refused:
                rejects.append(Rejected(self.item_id(item), refused.reason, refused.message,
                                        source=self.item_source(item), task=item.task, stage=stage))
                continue
            made[stage] += 1
            for example in built if isinstance(built, list) else [built]:
                examples.extend(sample_copies(example, self.samples, self.schemas.get(item.task)))
        return StageResult(examples, rejects, {stage: (n, made[stage]) for stage, n in counts.items()})


class BuildPairs(BuildItems):
    """Two-clip examples from the pairs the engine formed over the clip index (``engine/pairs.py``):
    both clips have passed the clip stages already (labels, audio check, measurements)."""

    name = "pairs"

    def build(self, item: PairItem) -> Example | list[Example]:
        return get_task(item.task).build_pair(item.a, item.b, self.settings)

    def item_id(self, item: PairItem) -> str:
        return item.pair_id

    def item_source(self, item: PairItem) -> str | None:
        return item.a.source


class BuildText(BuildItems):
    """Examples of the text tasks (instruction synthesis, speech responses, preference pairs) from
    the text items the engine planned (``engine.text_items``)."""

    name = "text"

    def build(self, item: TextItem) -> Example | list[Example]:
        return get_task(item.task).build_text(item, self.settings)

    def item_id(self, item: TextItem) -> str:
        return item.item_id

    def item_source(self, item: TextItem) -> str | None:
        return item.source


STEP_STAGE = "generate.step"  # the count of multi-step tasks' later steps


def raw_prompt_messages(request: ChatRequest) -> list[dict[str, str]]:
    """The exact LLM input for provenance: the chat messages, or a raw prompt as one ``raw`` turn."""
    if request.prompt is not None:
        return [{"role": "raw", "content": request.prompt}]
    return list(request.messages)


# How an answer was obtained -> the counter of run.json's "llm" that counts it.
ORIGIN_COUNTERS = {"sent": "sent", "ledger": "ledger_hits", "dedup": "deduplicated", "settled": "settled_failures"}


@dataclass(slots=True)
class Answered:
    """An example and the answers to its requests (none for an example that asks nothing; one for
    a ``ChatRequest``; one per request for a ``Step``), in request order."""

    example: Example
    answers: list[Answer]


def answered(examples: Sequence[Example], answers: Sequence[Answer]) -> list[Answered]:
    """Pairs each example with its answers, ``answers`` being in ``Generate.requests`` order."""
    pending: Iterator[Answer] = iter(answers)
    batch = []
    for example in examples:
        request = example.request
        count = 0 if request is None else len(request.requests) if request.__class__ is Step else 1
        batch.append(Answered(example, [next(pending) for _ in range(count)]))
    return batch


class Generate(Stage):
    """Fills the examples' responses from the answers to their LLM requests (``Answered``).

    The executor sends ``requests(examples)`` through the generation service (ledger, in-flight
    dedup, retries), then hands the examples with their answers to this stage, and again to the
    stage of later steps (``later()``, counted as ``generate.step``) while examples hold a ``Step``.
    An answer that fails transiently (server down, overloaded, too slow) is a transient reject: its
    shard stays unfinished and a rerun asks again.
    """

    name = "generate"

    def __init__(self, backend: Backend, check_language: bool = True, name: str = "generate") -> None:
        self.backend = backend
        self.check_language = check_language
        self.name = name
        self._language: Any = None

    def later(self) -> "Generate":
        """The same stage for the later steps of multi-step tasks (counted as ``generate.step``)."""
        return Generate(self.backend, self.check_language, STEP_STAGE)

    def _wrong_language(self, examples: list[Example]) -> str | None:
        """Why the answer is not in the clip's language (an offline identifier), or None."""
        if self._language is None:
            from speechsift.curate.language import LanguageScorer
            from speechsift.curate.text import ResponseText

            self._language = (LanguageScorer(), ResponseText)
        scorer, response_text = self._language
        for example in examples:
            text = response_text(example, 2000)  # the instruction, for an audio target
            if text.empty or not example.language:
                continue
            scores = scorer.score(example, text)
            if scores.get("language_match") is False:
                return (f"the answer is in {scores.get('language_detected')!r}, the clip in "
                        f"{example.language!r}: {text.text[:80]!r}")
        return None

    @staticmethod
    def requests(examples: Sequence[Example]) -> list[ChatRequest]:
        """Every request the examples wait on, in order (a ``Step`` contributes all of its own)."""
        requests: list[ChatRequest] = []
        for example in examples:
            request = example.request
            if request is None:
                continue
            if request.__class__ is Step:
                requests.extend(request.requests)
            else:
                requests.append(request)
        return requests

    def process(self, batch: list[Answered]) -> StageResult:
        """The examples with their answers applied: finished, or holding their next step."""
        llm: Counter = Counter()
        rejects: list[Rejected] = []
        counts: dict[str, tuple[int, int]] = {}
        kept: list[Example] = []
        outputs = 0
        for one in batch:
            example = one.example
            if example.request is None:
                kept.append(example)
                outputs += 1
                continue
            if example.request.__class__ is Step:
                try:
                    finished = self._stepped(example, example.request, one.answers, llm, rejects, counts)
                except Reject as refused:
                    llm[f"failed.{refused.reason}"] += 1
                    rejects.append(Rejected(example.id, refused.reason, refused.message, source=example.source,
                                            task=example.task))
                    continue
                outputs += 1
                kept.extend(finished)
                continue
            [answer] = one.answers
            self._count(answer, llm)
            try:
                finished = self._answered(example, answer.completion)
            except Reject as refused:
                llm[f"failed.{refused.reason}"] += 1
                rejects.append(Rejected(example.id, refused.reason, refused.message, source=example.source,
                                        task=example.task, transient=answer.completion.transient))
                continue
            outputs += 1  # counted per answered example; one answer may make several
            for reason, count in dropped_counts(finished).items():
                llm[f"dropped_items.{reason}"] += count  # single Q/A pairs a task left out
            kept.extend(finished)
        counts[self.name] = (len(batch), outputs)
        return StageResult(kept, rejects, counts, {"llm": llm})

    @staticmethod
    def _count(answer: Answer, llm: Counter) -> None:
        completion = answer.completion
        llm["requests"] += 1
        llm[ORIGIN_COUNTERS[answer.origin]] += 1
        if completion.transient:  # not answered for now: the shard stays unfinished, a rerun asks again
            llm["transient_failures"] += 1
        if answer.origin == "sent":
            llm["retries"] += completion.retries
            llm["tokens_in"] += completion.prompt_tokens or 0
            llm["tokens_out"] += completion.completion_tokens or 0
        if completion.finish_reason == "length":
            llm["truncated"] += 1

    def _stepped(self, example: Example, step: Step, answers: list[Answer], llm: Counter, rejects: list[Rejected],
                 counts: dict[str, tuple[int, int]]) -> list[Example]:
        """A multi-step example's replies handed to its step's ``then``."""
        replies = []
        for request, answer in zip(step.requests, answers):
            self._count(answer, llm)
            completion = answer.completion
            text = strip_think(completion.text or "") if completion.ok else None
            replies.append(Reply(text or None, completion, self.provenance(request, completion)))
        finished = step.then(example, replies)
        if not isinstance(finished, list):
            return [finished]
        kept = [one for one in finished if one.__class__ is not Dropped]
        if len(kept) < len(finished) or len(finished) > 1:  # one answer, several items: counted per item
            stage = f"task.{example.task}.items"
            counted_in, counted_out = counts.get(stage, (0, 0))
            counts[stage] = (counted_in + len(finished), counted_out + len(kept))
            rejects += [Rejected(one.id, one.reason, one.message, source=example.source, task=example.task, stage=stage)
                        for one in finished if one.__class__ is Dropped]
        return kept

    def provenance(self, request: ChatRequest, completion: Completion) -> Generation:
        """Who answered ``request`` and how: the ``generation`` of what is built from the answer."""
        backend, model = identity(self.backend, request)
        return Generation(
            backend=backend,
            model=model,
            temperature=request.sampling.temperature,
            top_p=request.sampling.top_p,
            max_tokens=request.sampling.max_tokens,
            seed=request.sampling.seed,
            sample_index=request.sample_index,
            llm_messages=raw_prompt_messages(request) if backend != "template" else [],
            finish_reason=completion.finish_reason,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            truncated=is_truncated(completion.finish_reason),
        )

    def _answered(self, example: Example, completion: Completion) -> list[Example]:
        if not completion.ok:
            raise Reject(completion.error_reason or "llm_error", completion.error or "the backend gave no text")
        response = strip_think(completion.text or "")
        if not response:
            raise Reject("empty_response", "the model's answer was empty after removing <think> blocks")
        generation = self.provenance(example.request, completion)
        task = get_task(example.task)
        finished = task.finish(example, response, generation)
        if self.check_language and getattr(task, "checks_language", False):
            wrong = self._wrong_language(finished)
            if wrong:
                raise Reject("wrong_language", wrong)
        return finished
