"""``run_eval``: read the items, ask the model under test, judge, score, write ``EVAL_OUT``.

Every request goes through the generation service (``engine/generation.py``) and the request ledger
(``EVAL_OUT/.work/ledger.sqlite``): answers are committed as they arrive, so an interrupted eval
loses only what was in flight, and a rerun asks nothing it already has (failed requests are asked
again: a failure that can heal heals on rerun). Phases run one after the other, each with its own
backend: the model under test (audio in, text out), the audio-returning model for controllable
items, the text model for Speech-IFEval's forgetting, then the judge over both sets of answers.

``EVAL_OUT`` holds ``predictions.parquet`` (one row per item: request, hypothesis, every score,
the judge's reason, failures with their reason), ``summary.json`` (per task, per language and
overall: each metric with ``n``, ``failed`` and a bootstrap 95% interval), ``rejects.jsonl`` (every
failure: stage, reason, message) and ``report/index.html``. Items are counted once:
``items = scored + failed`` for the model stage.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from speechsift.engine.generation import Answer, GenerationService
from speechsift.errors import AudioLoadError, ConfigError
from speechsift.eval import answers, controllable, ifeval, judge, transcription
from speechsift.eval.config import AudioOutputConfig, EvalConfig
from speechsift.eval.items import SPEECH_IFEVAL, EvalItem, read_items
from speechsift.eval.model import audio_digest, chat_request, make_model_backend
from speechsift.eval.scoring import Failure
from speechsift.layout import atomic_write_bytes, atomic_write_text
from speechsift.llm.base import make_backend
from speechsift.llm.ledger import Ledger
from speechsift.llm.parse import ParseError, strip_think
from speechsift.llm.types import ChatRequest

log = logging.getLogger(__name__)

WINDOW = 512  # requests per submission to the generation service (all submitted at once)
JUDGED = {"closed_ended_judged": "judge_accuracy", "open_ended": "judge_score"}
TEXT_METRICS = ("words", "flesch", "unspeakable")


@dataclass
class Outcome:
    """What happened to one item."""

    item: EvalItem
    digests: list[str] = field(default_factory=list)
    request: ChatRequest | None = None
    hypothesis: str | None = None
    origin: str | None = None
    failure: tuple[str, str] | None = None  # the model stage failed: (reason, message)
    scores: dict[str, float] = field(default_factory=dict)
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)  # metric -> (reason, message)
    expected: list[str] = field(default_factory=list)
    judge_reason: str | None = None
    text_hypothesis: str | None = None
    output_audio: str | None = None


@dataclass
class EvalResult:
    out_dir: Path
    items: int
    failed: int
    summary: dict[str, Any]
    counters: dict[str, int]
    seconds: float


class Phases:
    """Runs one phase's requests through a generation service, with progress."""

    def __init__(self, ledger: Ledger | None, progress: Callable[[str, int, int], None]) -> None:
        self.ledger = ledger
        self.progress = progress
        self.counters: Counter = Counter()
        self.seconds: dict[str, float] = {}  # wall time of each phase's requests

    def ask(self, name: str, backend: Any, requests: Sequence[ChatRequest]) -> list[Answer]:
        if not requests:
            return []
        answers: list[Answer] = []
        started = time.perf_counter()
        with GenerationService(backend, self.ledger) as service:
            futures = [service.submit(requests[i:i + WINDOW]) for i in range(0, len(requests), WINDOW)]
            for future in futures:
                answers += future.result()
                self.progress(name, len(answers), len(requests))
            for key, value in service.snapshot().items():
                self.counters[f"{name}.{key}"] += value
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        return answers


def _fail(outcome: Outcome, reason: str, message: str) -> None:
    outcome.failure = (reason, message)


def _settle(outcome: Outcome, answer: Answer) -> None:
    outcome.origin = answer.origin
    completion = answer.completion
    if not completion.ok:
        _fail(outcome, completion.error_reason or "error", completion.error or "")
        return
    text = strip_think(completion.text or "")
    if not text.strip():
        _fail(outcome, "empty_response", "the model answered with no text")
        return
    outcome.hypothesis = text


def expected_metrics(item: EvalItem, judged: bool, bins: Any) -> list[str]:
    family = item.family
    if family == "transcription":
        return ["wer", "cer"]
    if family == "answer_extraction":
        return ["exact_match", "f1"]
    if family == "closed_ended":
        return ["accuracy"]
    if family in JUDGED:
        metrics = [JUDGED[family]] if judged else []
        return metrics + (list(TEXT_METRICS) if family == "open_ended" else [])
    if family == "controllable":
        fields = [f for f, sources in controllable.FIELD_SOURCES.items()
                  if controllable._target(item.meta, sources, bins) is not None]
        return [m for f in fields for m in (f"mae_{f}", f"qwk_{f}")]
    if family == "constrained":
        return ["if_strict_prompt", "if_strict_instruction"]
    if family == SPEECH_IFEVAL:
        if item.extra["subset"] == "chain_of_thought":
            return ["if_cot"] if judged else []
        metrics = ["if_strict_prompt", "if_strict_instruction"]
        task_metric = item.extra.get("metric", "").lower()
        if task_metric == "wer" and item.reference:
            metrics += ["wer", "cer"]
        elif task_metric in ("acc", "accuracy") and item.reference:
            metrics.append("accuracy")
        return metrics
    return []


def _open_ended_text(hypothesis: str, language: str | None) -> dict[str, float]:
    """The Speechworthy text metrics (REFERENCE.md §4): words, Flesch reading ease, unspeakable marks."""
    from types import SimpleNamespace

    from speechsift.curate.readability import _TEXTSTAT_LANG, flesch_scores
    from speechsift.curate.speechworthy import SpeechworthyScorer

    scores = {"words": float(len(hypothesis.split()))}
    lang = _TEXTSTAT_LANG.get((language or "en").split("-")[0])
    if lang is not None:
        try:
            scores["flesch"] = flesch_scores(hypothesis, lang)[0]
        except ImportError:
            pass  # textstat absent: the note in summary.json says so
    scores["unspeakable"] = float(SpeechworthyScorer().score(None, SimpleNamespace(text=hypothesis))["speech_unspeakable"])
    return scores


def _constraints(item: EvalItem) -> tuple[list[str], list[dict[str, Any]]]:
    if item.family == SPEECH_IFEVAL:
        return item.extra["instruction_id_list"], item.extra["kwargs"]
    from speechsift.eval.constraints import parse_constraints

    found = parse_constraints(item.instruction, item.language)
    if not found:
        raise Failure("no_constraints", "no constraint of the constrained family was found in the instruction")
    return [c for c, _ in found], [k for _, k in found]


def score_text(outcome: Outcome) -> None:
    """The reference-based scores of one answered item (judge and audio scores come elsewhere)."""
    item, hypothesis = outcome.item, outcome.hypothesis or ""
    family = item.family
    groups: list[tuple[Sequence[str], Callable[[], dict[str, float]]]] = []
    if family == "transcription":
        groups.append((("wer", "cer"), lambda: transcription.transcription_scores(item.reference or "", hypothesis,
                                                                                   item.language)))
    elif family == "answer_extraction":
        groups.append((("exact_match", "f1"), lambda: answers.extraction_scores(item.reference or "", hypothesis)))
    elif family == "closed_ended":
        groups.append((("accuracy",), lambda: answers.label_accuracy(item.instruction, item.reference or "",
                                                                     hypothesis, item.language)))
    elif family == "open_ended":
        groups.append((TEXT_METRICS, lambda: _open_ended_text(hypothesis, item.language)))
    if family in ("constrained", SPEECH_IFEVAL) and item.extra.get("subset") != "chain_of_thought":
        def follow() -> dict[str, float]:
            ids, kwargs = _constraints(item)
            return ifeval.ifeval_scores(hypothesis, ids, kwargs)

        groups.append((("if_strict_prompt", "if_strict_instruction"), follow))
        task_metric = item.extra.get("metric", "").lower()
        if family == SPEECH_IFEVAL and item.reference and task_metric == "wer":
            groups.append((("wer", "cer"), lambda: transcription.transcription_scores(item.reference or "", hypothesis,
                                                                                       item.language)))
        elif family == SPEECH_IFEVAL and item.reference and task_metric in ("acc", "accuracy"):
            groups.append((("accuracy",), lambda: answers.label_accuracy(item.instruction, item.reference or "",
                                                                         hypothesis, item.language)))
    for metrics, compute in groups:
        try:
            outcome.scores.update(compute())
        except Failure as exc:
            for metric in metrics:
                outcome.failures[metric] = (exc.reason, str(exc))


def _judge_requests(outcomes: list[Outcome], attempt: int, text_answers: bool) -> list[tuple[Outcome, str, ChatRequest]]:
    todo = []
    for outcome in outcomes:
        item = outcome.item
        answer = outcome.text_hypothesis if text_answers else outcome.hypothesis
        if answer is None:
            continue
        metric = "if_cot" if item.family == SPEECH_IFEVAL else JUDGED.get(item.family)
        if metric is None or (item.family == SPEECH_IFEVAL and item.extra["subset"] != "chain_of_thought"):
            continue
        key = f"{metric}_text" if text_answers else metric
        if attempt > 0 and outcome.failures.get(key, ("",))[0] != "judge_unparseable":
            continue  # only an unreadable verdict is asked again (a failed request was retried already)
        if metric == "if_cot":
            request = judge.cot_request(item.instruction, answer, attempt)
        else:
            request = judge.judge_request(metric, item.instruction, item.reference or "", answer, attempt, item.task)
        todo.append((outcome, key, request))
    return todo


def run_judge(phases: Phases, backend: Any, outcomes: list[Outcome], text_answers: bool = False) -> None:
    """Judge every judged item; an unreadable verdict is asked once more, then ``judge_unparseable``."""
    for attempt in range(judge.JUDGE_ATTEMPTS):
        todo = _judge_requests(outcomes, attempt, text_answers)
        answers_ = phases.ask("judge", backend, [request for _, _, request in todo])
        for (outcome, key, _request), answer in zip(todo, answers_):
            completion = answer.completion
            if not completion.ok:
                outcome.failures[key] = (f"judge_{completion.error_reason or 'error'}", completion.error or "")
                continue
            try:
                verdict = (judge.parse_yes_no(completion.text or "") if key.startswith("if_cot")
                           else judge.parse_verdict(key, completion.text or ""))
            except ParseError as exc:
                outcome.failures[key] = ("judge_unparseable", f"{exc.reason}: {exc}")
                continue
            outcome.failures.pop(key, None)
            if key.startswith("if_cot"):
                outcome.scores[key] = verdict.score
                if not text_answers:
                    outcome.scores["if_strict_prompt"] = verdict.score  # a CoT item counts toward the IF rate
            else:
                outcome.scores[key] = verdict.score
                outcome.judge_reason = verdict.reason


def _text_request(item: EvalItem, sampling: Any) -> ChatRequest:
    """The text backbone's request: the textual audio description in place of the audio."""
    description = item.extra.get("textual_audio") or ""
    return ChatRequest([{"role": "user", "content": f"{description}\n\n{item.instruction}".strip()}], sampling,
                       f"{item.task}/text", {})


def _progress_printer(enabled: bool) -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    if not enabled:
        return (lambda *_: None), (lambda: None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True))
    bar.start()
    tasks: dict[str, Any] = {}

    def update(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bar.add_task(name, total=total)
        bar.update(tasks[name], completed=done, total=total)

    return update, bar.stop


def load_items(config: EvalConfig, workdir: Path) -> list[EvalItem]:
    assert config.data is not None
    items = list(read_items(config.data, config.split, workdir, config.audio_root))
    present = sorted({i.task for i in items})
    if config.tasks:
        unknown = sorted(set(config.tasks) - set(present))
        if unknown:
            raise ConfigError(f"--tasks: {', '.join(unknown)} not in {config.data} (its tasks: "
                              f"{', '.join(present) or 'none'}).")
        items = [i for i in items if i.task in set(config.tasks)]
    if config.limit is not None:
        items = items[:config.limit]
    if not items:
        raise ConfigError(f"{config.data}: no items to evaluate in split {config.split!r}.")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ConfigError(f"{config.data}: item id {item.id!r} appears twice; every item needs its own id.")
        seen.add(item.id)
    return items


def _audio_model_backend(config: EvalConfig) -> Any:
    """The backend for controllable items: ``eval.controllable``, with the model's own server and name
    where it names none."""
    from speechsift.llm.openai_backend import backend_options

    model = config.model
    settings = config.controllable
    if settings is None:
        settings = AudioOutputConfig(**model.model_dump(exclude={"backend"}))
    else:
        settings = settings.model_copy(update={k: getattr(model, k) for k in ("model", "api_base")
                                               if getattr(settings, k) is None})
    options = backend_options(settings, "eval.controllable")
    if settings.mode == "chat":
        return controllable.ChatAudioBackend(voice=settings.voice, **options)
    return controllable.SpeechEndpointBackend(**options)


def run_eval(config: EvalConfig, *, progress: bool = True) -> EvalResult:
    if config.data is None:
        raise ConfigError("eval: no DATA given; pass DATA (a speechsift output, a SIFT JSONL tree or a Speech-IFEval "
                          "file) or set eval.data.")
    started = time.perf_counter()
    out = config.output_dir()
    work = out / ".work"
    items = load_items(config, work)
    outcomes = [Outcome(item) for item in items]
    bins = controllable.dataset_bins(config.data, config.bins) if any(
        i.family == "controllable" for i in items) else None
    judged = config.judge is not None
    for outcome in outcomes:
        outcome.expected = expected_metrics(outcome.item, judged, bins)
        if outcome.item.problem:
            _fail(outcome, *outcome.item.problem)
            continue
        try:
            outcome.digests = [audio_digest(ref) for ref in outcome.item.audios]
        except AudioLoadError as exc:
            _fail(outcome, exc.reason, str(exc))
    ledger_path = config.model.ledger or work / "ledger.sqlite"
    ledger = Ledger(ledger_path) if config.cache else None
    update, stop = _progress_printer(progress)
    phases = Phases(ledger, update)
    sampling = config.model_sampling()
    try:
        ready = [o for o in outcomes if o.failure is None]
        chat = [o for o in ready if o.item.family != "controllable"]
        spoken = [o for o in ready if o.item.family == "controllable"]
        if chat:
            backend = make_model_backend(config.model)
            for o in chat:
                o.request = chat_request(o.item, sampling, o.digests)
            for o, answer in zip(chat, phases.ask("model", backend, [o.request for o in chat])):
                _settle(o, answer)
        if spoken:
            voice = (config.controllable or AudioOutputConfig()).voice
            backend = _audio_model_backend(config)
            for o in spoken:
                try:
                    o.request = (controllable.speech_request(o.item, voice) if isinstance(
                        backend, controllable.SpeechEndpointBackend) else chat_request(o.item, sampling, o.digests))
                except Failure as exc:
                    _fail(o, exc.reason, str(exc))
            asked = [o for o in spoken if o.failure is None]
            for o, answer in zip(asked, phases.ask("speech", backend, [o.request for o in asked])):
                o.origin = answer.origin
                if answer.completion.ok:
                    o.hypothesis = answer.completion.text
                else:
                    _fail(o, answer.completion.error_reason or "error", answer.completion.error or "")
        forgetting = [o for o in outcomes if o.item.family == SPEECH_IFEVAL and o.item.extra.get("textual_audio")]
        if config.text_model is not None and forgetting:
            text_sampling = config.model_sampling(config.text_model)
            backend = make_backend(config.text_model, "eval.text_model")
            requests = [_text_request(o.item, text_sampling) for o in forgetting]
            for o, answer in zip(forgetting, phases.ask("text model", backend, requests)):
                if answer.completion.ok and strip_think(answer.completion.text or "").strip():
                    o.text_hypothesis = strip_think(answer.completion.text or "")
                else:
                    o.failures["if_strict_prompt_text"] = (answer.completion.error_reason or "empty_response",
                                                           answer.completion.error or "no text")
        for o in outcomes:
            if o.hypothesis is not None and o.item.family != "controllable":
                score_text(o)
            if o.text_hypothesis is not None and o.item.extra.get("subset") != "chain_of_thought":
                try:
                    ids, kwargs = _constraints(o.item)
                    o.scores["if_strict_prompt_text"] = ifeval.ifeval_scores(o.text_hypothesis, ids, kwargs)[
                        "if_strict_prompt"]
                except Failure as exc:
                    o.failures["if_strict_prompt_text"] = (exc.reason, str(exc))
        for o in spoken:
            if o.hypothesis is None:
                continue
            o.output_audio = _save_audio(out, o)
            try:
                o.scores.update(controllable.controllable_scores(o.item, o.hypothesis, bins))
            except Failure as exc:
                for metric in o.expected:
                    o.failures[metric] = (exc.reason, str(exc))
            o.hypothesis = None  # the audio is in output_audio, not in the text column
        if judged:
            backend = make_backend(config.judge, "eval.judge")
            run_judge(phases, backend, outcomes)
            if config.text_model is not None:
                run_judge(phases, backend, [o for o in outcomes if o.text_hypothesis is not None], text_answers=True)
                for o in outcomes:
                    if "if_cot_text" in o.scores:
                        o.scores["if_strict_prompt_text"] = o.scores["if_cot_text"]
    finally:
        stop()
        if ledger is not None:
            ledger.close()
    from speechsift.eval.summary import summarize

    levels = controllable.levels_of(bins) if bins is not None else {}
    summary = summarize(outcomes, config, levels, dict(phases.counters), time.perf_counter() - started)
    summary["phase_seconds"] = {name: round(seconds, 3) for name, seconds in phases.seconds.items()}
    write_outputs(out, outcomes, summary)
    if config.report:
        from speechsift.eval.report import build_eval_report

        build_eval_report(out, config.worst_items)
    failed = sum(1 for o in outcomes if o.failure is not None)
    return EvalResult(out, len(outcomes), failed, summary, dict(phases.counters), time.perf_counter() - started)


def _save_audio(out: Path, outcome: Outcome) -> str | None:
    try:
        data = controllable.answer_audio(outcome.hypothesis or "")
    except Failure:
        return None
    path = out / "audio" / f"{outcome.item.id.replace('/', '_')}.wav"
    if not path.exists() or path.read_bytes() != data:
        atomic_write_bytes(path, data)
    return str(path.relative_to(out))


def request_json(request: ChatRequest | None) -> str | None:
    return None if request is None else json.dumps(request.messages, ensure_ascii=False)


def prediction_rows(outcomes: list[Outcome]) -> pa.Table:
    score_keys = sorted({k for o in outcomes for k in o.scores})
    rows: dict[str, list[Any]] = {name: [] for name in (
        "id", "task", "family", "language", "source", "instruction", "reference", "hypothesis", "failed",
        "failure_reason", "failure_message", "metric_failures", "judge_score", "judge_reason", "text_hypothesis",
        "input_audio", "output_audio", "request", "origin")}
    for o in outcomes:
        item = o.item
        judge_score = o.scores.get("judge_accuracy", o.scores.get("judge_score"))
        values = {
            "id": item.id, "task": item.task, "family": item.family, "language": item.language, "source": item.source,
            "instruction": item.instruction, "reference": item.reference, "hypothesis": o.hypothesis,
            "failed": o.failure is not None, "failure_reason": o.failure[0] if o.failure else None,
            "failure_message": o.failure[1] if o.failure else None,
            "metric_failures": json.dumps({k: {"reason": r, "message": m} for k, (r, m) in o.failures.items()},
                                          ensure_ascii=False) if o.failures else None,
            "judge_score": judge_score, "judge_reason": o.judge_reason, "text_hypothesis": o.text_hypothesis,
            "input_audio": [a.path or "" for a in item.audios], "output_audio": o.output_audio,
            "request": request_json(o.request), "origin": o.origin,
        }
        for name, value in values.items():
            rows[name].append(value)
    columns: dict[str, pa.Array] = {}
    for name, values in rows.items():
        if name in ("failed",):
            columns[name] = pa.array(values, pa.bool_())
        elif name == "judge_score":
            columns[name] = pa.array(values, pa.float64())
        elif name == "input_audio":
            columns[name] = pa.array(values, pa.list_(pa.string()))
        else:
            columns[name] = pa.array(values, pa.string())
    for key in score_keys:
        columns[key] = pa.array([_finite(o.scores.get(key)) for o in outcomes], pa.float64())
    return pa.table(columns)


def _finite(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def write_outputs(out: Path, outcomes: list[Outcome], summary: dict[str, Any]) -> None:
    import io

    buffer = io.BytesIO()
    pq.write_table(prediction_rows(outcomes), buffer, compression="zstd")
    atomic_write_bytes(out / "predictions.parquet", buffer.getvalue())
    rejects = []
    for o in outcomes:
        base = {"id": o.item.id, "task": o.item.task, "language": o.item.language}
        if o.failure is not None:
            rejects.append({**base, "stage": "model", "reason": o.failure[0], "message": o.failure[1]})
        for metric, (reason, message) in sorted(o.failures.items()):
            stage = "judge" if reason.startswith("judge_") else "score"
            rejects.append({**base, "stage": stage, "metric": metric, "reason": reason, "message": message})
    atomic_write_text(out / "rejects.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects))
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
