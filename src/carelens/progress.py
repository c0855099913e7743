"""One progress-bar style for every long stage: counts, rate and ETA. Descriptions are plain text
(never read as markup), so a label holding brackets shows them."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


@contextmanager
def progress_bar(*extra_columns: TextColumn) -> Iterator[Progress]:
    """A rich Progress with description, bar, done/total, extra columns, elapsed and ETA."""
    with Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress
