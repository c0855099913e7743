"""``carelens check RUN``: the release gate for CI (see ``carelens.api.gate`` for the verdict order)."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from carelens.api.gate import FAIL, FAIL_ON_LEVELS, GateResult, check_run
from carelens.errors import CarelensError
from carelens.store import RunDir, write_text_atomic

EVIDENCE_CHARS = 90
STYLE = {
    "pass": "green",
    "warn": "yellow",
    "inconclusive": "magenta",
    "fail": "bold red",
    "not assessed": "dim",
}


def _shorten(text: object) -> str:
    text = "" if text is None or text != text else str(text)
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "…"


def _print(result: GateResult, console: Console) -> None:
    view = Table("guideline", "responder", "verdict", "evidence", "")
    for row in result.verdicts.itertuples(index=False):
        style = STYLE.get(str(row.verdict), "")
        view.add_row(
            escape(str(row.guideline)),
            escape(str(row.responder)),
            f"[{style}]{escape(str(row.verdict))}[/{style}]",
            escape(_shorten(row.evidence)),
            "[bold red]blocks[/bold red]" if row.blocks else "",
        )
    console.print(view)
    counts = ", ".join(f"{n} {v}" for v, n in result.counts.items() if n)
    study = f"study: {result.study.get('name')}  sha256: {result.study.get('sha256')}"
    console.print(study, highlight=False, markup=False)
    console.print(f"verdicts: {counts or 'none'}; worst: {result.worst}", highlight=False)
    if result.counts["not assessed"] and not result.require_assessed:
        console.print(
            f"{result.counts['not assessed']} guideline(s) were not assessed; they do not fail the gate "
            "(--require-assessed makes them)",
            style="yellow",
            highlight=False,
        )
    outcome = "[bold green]PASS[/bold green]" if result.passed else "[bold red]FAIL[/bold red]"
    console.print(f"gate {outcome} (--fail-on {result.fail_on}): {escape(result.reason)}", highlight=False)


def check(
    run_dir: Annotated[Path, typer.Argument(help="A run directory whose 'analyze' stage has run.")],
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            help="Block the release when any verdict is at or above this level "
            f"({' < '.join(('pass', *FAIL_ON_LEVELS))}): {', '.join(FAIL_ON_LEVELS)}.",
        ),
    ] = FAIL,
    require_assessed: Annotated[
        bool, typer.Option("--require-assessed", help="A guideline the study could not assess also blocks.")
    ] = False,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Write the summary as JSON to FILE ('-' for stdout).")
    ] = None,
) -> None:
    """Print a run's guideline verdicts; exit 1 when any is at or above --fail-on, else 0."""
    if not run_dir.is_dir():
        raise CarelensError("no such run directory", where=str(run_dir))
    result = check_run(RunDir(run_dir.resolve()), fail_on=fail_on, require_assessed=require_assessed)
    summary = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    _print(result, Console(stderr=json_out == "-", soft_wrap=True))
    if json_out == "-":
        sys.stdout.write(summary + "\n")
    elif json_out is not None:
        write_text_atomic(Path(json_out), summary + "\n")
    raise typer.Exit(result.exit_code)
