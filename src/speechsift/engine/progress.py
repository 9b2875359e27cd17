"""Live progress on the console: one line per phase of a run (preparing clips, pairs, curating,
deduplicating, writing the release, the report), with the count, the rate and, where the total is
known, the percentage and the time left; and while generating, requests answered of those
submitted, requests/s, tokens/s, ledger hits, retries and failures.

Everything a run prints goes through ``console`` (standard error): progress lines, the summary
and log warnings, so they never interleave on two streams or tear the live display.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

console = Console(stderr=True)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class CountColumn(ProgressColumn):
    """``1,234/5,000 clips (25%)`` where the total is known, else ``1,234 clips``; the rate after it."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "")
        if not unit:  # a phase without a count (the report): the spinner and the clock say enough
            return Text("")
        done = f"{task.completed:,.0f}"
        if task.total is not None and task.fields.get("known", True):
            text = f"{done}/{task.total:,.0f} {unit} ({task.percentage:.0f}%)"
        else:
            text = f"{done} {unit}"
        speed = task.finished_speed or task.speed
        if speed and task.fields.get("rate", True):
            text += f", {speed:,.0f} {unit}/s"
        return Text(text)


class EtaColumn(ProgressColumn):
    """Time left, only where the total is known and the rate measured."""

    def render(self, task: Task) -> Text:
        if task.total is None or task.finished or not task.fields.get("eta", True) or not task.fields.get("known", True):
            return Text("")
        remaining = task.time_remaining
        return Text(f"ETA {_clock(remaining)}" if remaining is not None else "ETA -:--", style="cyan")


class ProgressReporter:
    """``with ProgressReporter() as progress:`` then ``progress.phase("curating", total, "examples")``
    and ``progress.advance(n)``; silent when disabled."""

    def __init__(self, enabled: bool = True, output: Console | None = None) -> None:
        self.enabled = enabled
        self._console = output or console
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._llm_task: TaskID | None = None
        self._started = time.perf_counter()

    def __enter__(self) -> "ProgressReporter":
        self._started = time.perf_counter()
        if self.enabled:
            one_line = Column(no_wrap=True, overflow="ellipsis")  # a narrow terminal cuts a line, never wraps it
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}", table_column=Column(no_wrap=True, min_width=13)),
                BarColumn(bar_width=16),
                CountColumn(table_column=Column(no_wrap=True)),
                EtaColumn(table_column=Column(no_wrap=True)),
                TimeElapsedColumn(),
                TextColumn("{task.fields[note]}", table_column=one_line),
                console=self._console,
                transient=False,
            )
            self._progress.__enter__()
        return self

    def phase(self, name: str, total: int | None = None, unit: str = "clips") -> None:
        """Start a new line (the previous phase's line stays, finished)."""
        if self._progress is None:
            return
        self._finish_current()
        self._task = self._progress.add_task(name, total=total, note="", unit=unit)

    def _finish_current(self) -> None:
        if self._progress is not None and self._task is not None:
            task = self._progress.tasks[self._task]
            if task.total is None or task.completed < task.total:
                # over: stop the pulse and show what it did (a --limit beyond the corpus was no total)
                self._progress.update(self._task, total=task.completed, known=False)

    def advance(self, count: int, skipped: bool = False) -> None:
        if self._progress is None:
            return
        if self._task is None:
            self.phase("preparing")
        fields: dict[str, Any] = {"note": "(resumed shards skipped)"} if skipped else {}
        self._progress.update(self._task, advance=count, **fields)  # type: ignore[arg-type]

    def llm(self, counters: Mapping[str, int]) -> None:
        """The generation line: requests answered of those submitted, rates, ledger hits, retries, failures."""
        if self._progress is None or not counters.get("requests"):
            return
        if self._llm_task is None:
            self._llm_task = self._progress.add_task("generating", total=None, note="", unit="requests", rate=False,
                                                     eta=False)
        # rates over the run so far: the first update may come after the first answers are in
        elapsed = max(time.perf_counter() - self._started, 1e-3)
        sent = counters.get("sent", 0)
        failed = sum(v for k, v in counters.items() if k.startswith("failed."))
        answered = sent + counters.get("ledger_hits", 0) + counters.get("dedup", 0)
        line = (
            f"{sent / elapsed:,.1f} req/s, {counters.get('tokens_out', 0) / elapsed:,.0f} tok/s out, "
            f"{counters.get('ledger_hits', 0):,} from the ledger, {counters.get('retries', 0):,} retries, "
            f"{failed:,} failed"
        )
        self._progress.update(self._llm_task, completed=min(answered, counters["requests"]),
                              total=counters["requests"], note=line)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._finish_current()
            self._progress.__exit__(*exc)  # type: ignore[arg-type]
