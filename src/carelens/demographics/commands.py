"""``carelens demographics ...``: the cue bank, parsing a probe answer, a run's manipulation check."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from carelens.demographics.answers import parse_answer
from carelens.demographics.cuebank import BUILTIN, load_banks
from carelens.demographics.manipulation import confusion_matrix, manipulation_table
from carelens.store import RunDir

app = typer.Typer(help="Demographic cues, the inference probe and the manipulation check.",
                  no_args_is_help=True)
out = Console(soft_wrap=True)


@app.command()
def cues(bank: Annotated[list[str] | None, typer.Option("--bank", help="A cue-bank TOML file (repeatable); "
                                                        "default: the built-in bank.")] = None,
         group: Annotated[str | None, typer.Option("--group", help="List the cues of one group, "
                                                   "e.g. race=black or gender=female.")] = None) -> None:
    """How many implicit cues signal each group; with --group, the cues themselves."""
    loaded = load_banks(bank or [BUILTIN], lambda p: Path(p).expanduser().resolve())
    if group is None:
        table = Table("group", "cues")
        for name, count in loaded.sizes().items():
            table.add_row(name, str(count))
        out.print(table)
        out.print(f"{len(loaded.cues)} cues")
        return
    attribute, _, value = group.partition("=")
    chosen = [c for c in loaded.cues if str(getattr(c, attribute, None)) == value]
    if not chosen:
        raise typer.BadParameter(f"no cue signals {group!r}; groups: {', '.join(loaded.sizes())}")
    table = Table("id", "kind", "text", "provenance")
    for cue in chosen:
        table.add_row(cue.id, cue.kind, cue.text, cue.provenance)
    out.print(table)


@app.command()
def parse(answer: Annotated[str, typer.Argument(help="A probe model's answer.")]) -> None:
    """Parse one probe answer as the probe stage would."""
    parsed = parse_answer(answer)
    for name in ("status", "race", "gender", "age", "explanation"):
        out.print(f"{name}: {getattr(parsed, name)}")


@app.command()
def manipulation(run_dir: Annotated[Path, typer.Argument(help="A run directory with variants and "
                                                         "inferences.")],
                 confusion: Annotated[str | None, typer.Option(help="Also print the confusion matrix of "
                                                               "race, gender or age.")] = None) -> None:
    """Print the manipulation check of a finished probe stage."""
    run = RunDir(run_dir)
    variants, inferences = run.read_table("variants"), run.read_table("inferences")
    table = manipulation_table(variants, inferences)
    if table.empty:
        out.print("no inferences in this run (set demographics.probe and run the probe stage)")
        return
    out.print(table.round(3).to_string(index=False))
    if confusion:
        for model in sorted(inferences["model"].unique()):
            out.print(f"\n{model}: intended {confusion} (rows) x inferred (columns)")
            out.print(confusion_matrix(variants, inferences, confusion, model=model).to_string())
