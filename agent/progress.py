"""One rich progress display for multi-stage work: a bar per stage, created on first report."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


@contextmanager
def stage_progress(console: Console, transient: bool = False) -> Iterator[tuple[Callable[[str, int, int], None], Callable[[str], None]]]:
    """Yields (progress(stage, done, total), log(message)) for consolidation-style callbacks."""
    with Progress(TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console,
                  transient=transient) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress, lambda msg: bar.console.print(f"[dim]{msg}[/]")
