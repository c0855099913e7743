"""A run directory opened for reading: its tables as DataFrames, its manifest, its release gate."""

import os
from pathlib import Path
from typing import Any

import pandas as pd

from carelens.api.gate import FAIL, GateResult, check_run
from carelens.errors import CarelensError
from carelens.store import RunDir
from carelens.study import STAGES


def _maker(name: str) -> str:
    for stage in STAGES:
        if name in stage.outputs:
            return f" (the '{stage.name}' stage writes it)"
    return ""


class Run:
    """A run directory. Make one with :func:`open_run` or ``open_study(...).run()``.

    Tables are read fresh from disk on every call, typed by the documented schemas
    (``carelens.tables.SCHEMAS``; DESIGN.md describes one row of each).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.abspath(path))
        self._dir = RunDir(self.path)

    @property
    def tables(self) -> list[str]:
        """The names of the tables this run holds, sorted."""
        return sorted(p.stem for p in (self.path / "tables").glob("*.parquet"))

    def table(self, name: str) -> pd.DataFrame:
        """One table as a DataFrame; a table the run does not hold is a ``CarelensError``."""
        if not self._dir.has_table(name):
            held = ", ".join(self.tables) or "none"
            raise CarelensError(
                f"run has no '{name}' table{_maker(name)}; it holds: {held}", where=str(self.path)
            )
        return self._dir.read_table(name)

    @property
    def manifest(self) -> dict[str, Any]:
        """The run's manifest: the study (name, file, sha256), versions, and each stage's status."""
        return self._dir.manifest()

    @property
    def verdicts(self) -> pd.DataFrame:
        """The safety guidelines' verdicts (one row per guideline and responder)."""
        return self.table("verdicts")

    @property
    def report(self) -> Path | None:
        """The HTML report, when the report stage has run."""
        path = self.path / "report.html"
        return path if path.exists() else None

    def check(self, fail_on: str = FAIL, require_assessed: bool = False) -> GateResult:
        """The release gate, as ``carelens check``: see :func:`carelens.api.gate.check_run`."""
        return check_run(self._dir, fail_on=fail_on, require_assessed=require_assessed)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, tables={self.tables})"


def open_run(path: str | os.PathLike[str]) -> Run:
    """Open an existing run directory (one that ``carelens run`` or ``StudyHandle.run`` wrote)."""
    run = Run(path)
    if not run.path.is_dir():
        raise CarelensError("no such run directory", where=str(run.path))
    if not run._dir.manifest_path.exists() and not run.tables:
        raise CarelensError("not a run directory (no manifest.json and no tables/)", where=str(run.path))
    return run
