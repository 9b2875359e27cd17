"""Live progress: clips done and clips/s; requests/s, tokens/s, ledger hits and retries while
generating (rich; silent when disabled)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text


class ClipsPerSecond(ProgressColumn):
    """clips/s on the clips line; the generating line carries its own rates."""

    def render(self, task: Task) -> Text:
        if task.description != "preparing":
            return Text("requests")
        speed = task.finished_speed or task.speed
        return Text(f"clips, {speed:,.0f} clips/s" if speed else "clips")


class ProgressReporter:
    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._llm_task: Any = None
        self._started = time.perf_counter()
        self._console = console or Console(stderr=True)

    def __enter__(self) -> "ProgressReporter":
        self._started = time.perf_counter()
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                TextColumn("{task.completed:,}"),
                ClipsPerSecond(),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                console=self._console,
                transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("preparing", total=None, note="")
        return self

    def llm(self, counters: Mapping[str, int]) -> None:
        """Show the generation counters: requests/s, tokens/s, ledger hits, retries, failures."""
        if self._progress is None or not counters.get("requests"):
            return
        if self._llm_task is None:
            self._llm_task = self._progress.add_task("generating", total=None, note="")
        # rates over the run so far: the first update may come after the first answers are in
        elapsed = max(time.perf_counter() - self._started, 1e-3)
        sent = counters.get("sent", 0)
        failed = sum(v for k, v in counters.items() if k.startswith("failed."))
        line = (
            f"{sent / elapsed:,.1f} req/s, {counters.get('tokens_out', 0) / elapsed:,.0f} tok/s out, "
            f"ledger hits {counters.get('ledger_hits', 0):,}, retries {counters.get('retries', 0):,}, "
            f"failed {failed:,}"
        )
        self._progress.update(self._llm_task, completed=counters.get("requests", 0), note=line)

    def advance(self, clips: int, skipped: bool = False) -> None:
        if self._progress is not None:
            fields: dict[str, Any] = {"note": "(resumed shards skipped)"} if skipped else {}
            self._progress.update(self._task, advance=clips, **fields)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)  # type: ignore[arg-type]
