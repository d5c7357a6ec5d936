"""Rich progress bars for long stages (tuning, bootstrap, SHAP), written to stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["console", "progress_bar"]

console = Console(stderr=True)


@contextmanager
def progress_bar(
    description: str, total: int, *, enabled: bool = True
) -> Iterator[Callable[..., None]]:
    """Show a bar while the block runs; yield ``advance(done=None, total=None)``.

    ``advance()`` moves the bar by one step; ``advance(done, total)`` sets it,
    which matches the ``progress(done, total)`` callbacks of the lower layers.
    """
    if not enabled:
        yield lambda *args, **kwargs: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total)

        def advance(done: int | None = None, new_total: int | None = None) -> None:
            if done is None:
                progress.advance(task)
            else:
                progress.update(task, completed=done, total=new_total or total)

        yield advance
