"""A progress bar: files done, events per second, failures so far (rich, on stderr)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

from cd38.batch._work import Done, Failed, Outcome

__all__ = ["Progress"]


class Progress:
    """Counts outcomes; draws a bar when ``enabled`` (None: when stderr is a terminal)."""

    def __init__(self, total: int, enabled: bool | None = None) -> None:
        self.total = total
        self.files = 0
        self.events = 0
        self.failures = 0
        self.start = time.perf_counter()
        if enabled is None:
            enabled = sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None
        if enabled:
            self._open()

    def _open(self) -> None:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar
        except ImportError:  # rich is the CLI's; without it the library runs silently
            return
        self._bar = Bar(
            TextColumn("[bold]cd38 batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files  {task.fields[eps]} events/s  {task.fields[failed]} failed"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._bar.add_task("batch", total=self.total, eps="-", failed=0)
        self._bar.start()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0

    def update(self, outcome: Outcome) -> None:
        self.files += 1
        if isinstance(outcome, Done):
            self.events += outcome.n_events
        elif isinstance(outcome, Failed):
            self.failures += 1
        if self._bar is not None:
            eps = f"{self.events_per_second:,.0f}"
            self._bar.update(self._task, completed=self.files, eps=eps, failed=self.failures)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
