"""A live progress line: clips done and clips per second (rich; silent when disabled)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text


class ClipsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} clips/s" if speed else "– clips/s")


class ProgressReporter:
    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._console = console or Console(stderr=True)

    def __enter__(self) -> "ProgressReporter":
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                TextColumn("{task.completed:,} clips"),
                ClipsPerSecond(),
                TextColumn("{task.fields[skipped]}"),
                TimeElapsedColumn(),
                console=self._console,
                transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("preparing", total=None, skipped="")
        return self

    def advance(self, clips: int, skipped: bool = False) -> None:
        if self._progress is not None:
            fields: dict[str, Any] = {"skipped": "(resumed shards skipped)"} if skipped else {}
            self._progress.update(self._task, advance=clips, **fields)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)  # type: ignore[arg-type]
