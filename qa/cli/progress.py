"""Rich progress bar and warnings for `qa index` (the indexer's Progress protocol)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RichProgress:
    """A progress bar with passages/s on stderr; warnings printed above it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bar = self._new_bar()
        self._task: TaskID | None = None
        self._unit = "passages"

    def _new_bar(self) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, total: int, description: str, unit: str = "passages") -> None:
        self._unit = unit
        self._bar.start()
        self._task = self._bar.add_task(description, total=total, rate="")

    def advance(self, n: int) -> None:
        if self._task is None:
            return
        self._bar.advance(self._task, n)
        speed = self._bar.tasks[self._task].speed
        if speed:
            self._bar.update(self._task, rate=f"{speed:,.0f} {self._unit}/s")

    def stop(self) -> None:
        if self._task is not None:
            self._bar.stop()
            self._bar = self._new_bar()  # a later start (a watch's next batch) shows only its own
            self._task = None

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {message}", soft_wrap=True)
