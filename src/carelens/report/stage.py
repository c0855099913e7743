"""The report stage: writes report.html, figures/*.png, comparisons.csv and verdicts.csv into the run.

It reads tables and the manifest only (``TABLES``). Everything is rendered in memory first and written
with atomic renames, so a failure leaves the run's earlier report untouched.
"""

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from carelens.errors import CarelensError
from carelens.report.render import Figure, ReportInputs, build_page
from carelens.store import RunDir, write_text_atomic
from carelens.study import StageContext, stage_by_name

TABLES = stage_by_name("report").inputs  # the tables the runner fingerprints are the ones read
# Tables a run may lack: a study that scored nothing, ran no probe or no safety scorer.
OPTIONAL = ("scores", "manipulation", "crisis")
CSV_TABLES = ("comparisons", "verdicts")
AGREEMENT = Path("review") / "agreement.json"


def _read(run: RunDir, name: str) -> pd.DataFrame | None:
    if name in OPTIONAL and not run.has_table(name):
        return None
    return run.read_table(name)


def _agreement(run: RunDir) -> dict[str, Any] | None:
    path = run.path / AGREEMENT
    if not path.exists():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CarelensError(f"agreement results are not valid JSON: {exc}", where=str(path)) from None
    return value if isinstance(value, dict) else None


def _write_figures(run: RunDir, figures: list[Figure]) -> None:
    """Replace ``figures/`` as a whole: written to a sibling folder, then swapped in."""
    target = run.path / "figures"
    staging = Path(tempfile.mkdtemp(prefix=".figures.", dir=run.path))
    staging.chmod(0o755)
    try:
        for figure in figures:
            (staging / f"{figure.name}.png").write_bytes(figure.png)
        old = None
        if target.exists():
            old = run.path / f".figures.old.{staging.name}"
            target.rename(old)
        staging.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_report(run: RunDir, inputs: ReportInputs) -> Path:
    """Render and write the report files of a run; returns the report's path."""
    html, figures = build_page(inputs)
    csv_texts = {name: inputs.table(name).to_csv(index=False) for name in CSV_TABLES}
    run.path.mkdir(parents=True, exist_ok=True)
    _write_figures(run, figures)
    for name, text in csv_texts.items():
        write_text_atomic(run.path / f"{name}.csv", text)
    write_text_atomic(run.path / "report.html", html)
    return run.path / "report.html"


def report(ctx: StageContext) -> dict[str, pd.DataFrame]:
    """Write the report of the run (the stage has no output table)."""
    inputs = ReportInputs(
        ctx.study,
        ctx.loaded.text,
        ctx.run.manifest(),
        {name: _read(ctx.run, name) for name in TABLES},
        ctx.run.path,
        _agreement(ctx.run),
    )
    path = write_report(ctx.run, inputs)
    ctx.notes.update(
        {"report": str(path), "figures": sorted(p.name for p in (ctx.run.path / "figures").glob("*.png"))}
    )
    return {}
