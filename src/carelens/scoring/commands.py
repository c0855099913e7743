"""``carelens models ...``: train the scorers' models and show their cards."""

from typing import Annotated

import typer

from carelens.errors import CarelensError
from carelens.progress import console

app = typer.Typer(help="Train and inspect the models behind the scorers.", no_args_is_help=True)

TRAINABLE = ("empathy",)


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="Which model to train: empathy.")],
    variant: Annotated[
        str,
        typer.Option(
            help="fast (head on frozen MiniLM, under 1 min) or full (fine-tuned MiniLM, ~14 min on 2 cores; "
            "its 5-fold CV about 45 min more)."
        ),
    ] = "fast",
    truncate_tokens: Annotated[
        int | None,
        typer.Option(help="Train on the first N word pieces of each response (the paper used 64)."),
    ] = None,
    cv_folds: Annotated[int, typer.Option(help="Grouped cross-validation folds for the card (0: skip).")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the split, the subset and the training.")] = 13,
    limit: Annotated[
        int | None, typer.Option(help="Train on a random subset of N pairs (quick trials).")
    ] = None,
) -> None:
    """Train a scorer model on its data, evaluate it and write its model card."""
    from carelens.scoring.empathy_train import VARIANTS, train_empathy

    if model not in TRAINABLE:
        raise CarelensError(f"unknown model '{model}'; allowed: {', '.join(TRAINABLE)}", where="MODEL")
    if variant not in VARIANTS:
        raise CarelensError(f"unknown variant '{variant}'; allowed: {', '.join(VARIANTS)}", where="--variant")
    if truncate_tokens is not None and truncate_tokens < 8:
        raise CarelensError("must be at least 8", where="--truncate-tokens")
    folder = train_empathy(
        variant, truncate_tokens=truncate_tokens, seed=seed, cv_folds=cv_folds, limit=limit
    )
    typer.echo((folder / "card.md").read_text(encoding="utf-8"))
    console.print(f"[bold]model and card written to {folder}[/bold]")


@app.command()
def card(
    model: Annotated[str, typer.Argument(help="Which model: empathy.")],
    variant: Annotated[str, typer.Option(help="fast or full.")] = "fast",
    truncate_tokens: Annotated[int | None, typer.Option(help="The truncation it was trained with.")] = None,
) -> None:
    """Print the model card of a trained model."""
    from carelens.scoring.empathy_train import model_path

    if model not in TRAINABLE:
        raise CarelensError(f"unknown model '{model}'; allowed: {', '.join(TRAINABLE)}", where="MODEL")
    folder = model_path(variant, truncate_tokens)
    path = folder / "card.md"
    if not path.exists():
        raise CarelensError(
            f"no trained model; run `carelens models train {model} --variant {variant}`", where=str(folder)
        )
    typer.echo(path.read_text(encoding="utf-8"))
