"""A progress bar over the files of a load, shown on a terminal when there are several."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from outbound_events.loading.sources import SourceFile


@contextmanager
def file_progress(console: Console, total: int) -> Iterator[Callable[[SourceFile], None]]:
    """Yield a callback to call after each file; it advances a bar on `console`
    (only drawn on a terminal, and only for more than one file)."""
    progress = Progress(
        TextColumn("loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=total <= 1 or not console.is_terminal,
    )
    task = progress.add_task("", total=total)

    def advance(file: SourceFile) -> None:
        progress.update(task, advance=1, description=file.path.name)

    with progress:
        yield advance
