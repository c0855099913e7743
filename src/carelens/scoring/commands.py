"""``carelens models ...``: train the scorers' models and show their cards."""

from pathlib import Path
from typing import Annotated

import typer

from carelens.errors import CarelensError
from carelens.progress import console

app = typer.Typer(help="Train and inspect the models behind the scorers.", no_args_is_help=True)

TRAINABLE = ("empathy", "safety", "mi")


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="Which model to train: empathy, safety or mi.")],
    variant: Annotated[
        str,
        typer.Option(
            help="span (the default: reply and rationale-sentence heads on frozen MiniLM, a few minutes "
            "with its CV), fast (reply head only, about 1 min) or full (fine-tuned MiniLM, ~14 min on 2 "
            "cores; its 5-fold CV about 45 min more)."
        ),
    ] = "span",
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
    if model in ("safety", "mi"):
        _train_shipped(model, seed)
        return
    if variant not in VARIANTS:
        raise CarelensError(f"unknown variant '{variant}'; allowed: {', '.join(VARIANTS)}", where="--variant")
    if truncate_tokens is not None and truncate_tokens < 8:
        raise CarelensError("must be at least 8", where="--truncate-tokens")
    folder = train_empathy(
        variant, truncate_tokens=truncate_tokens, seed=seed, cv_folds=cv_folds, limit=limit
    )
    typer.echo((folder / "card.md").read_text(encoding="utf-8"))
    console.print(f"[bold]model and card written to {folder}[/bold]")


def _train_shipped(model: str, seed: int) -> None:
    """Retrain a model that ships with carelens into the model cache (the shipped one stays as it is)."""
    from carelens.paths import models_dir

    folder = models_dir() / model
    folder.mkdir(parents=True, exist_ok=True)
    if model == "safety":
        from carelens.scoring.safety_train import train as train_safety

        train_safety(out=folder / "safety_model.json")
        option = f'[scoring.options.safety] model_path = "{folder / "safety_model.json"}"'
    else:
        from carelens.scoring.mi_train import train_mi

        path = train_mi(encoder="finetuned", out=folder, seed=seed)
        option = f'[scoring.options.mi] model = "{path}"'
    console.print(f"model and card written to {folder}; to score with it use {option}", markup=False)


@app.command()
def card(
    model: Annotated[str, typer.Argument(help="Which model: empathy.")],
    variant: Annotated[str, typer.Option(help="span, fast or full.")] = "span",
    truncate_tokens: Annotated[int | None, typer.Option(help="The truncation it was trained with.")] = None,
) -> None:
    """Print the model card of a trained model."""
    from carelens.scoring.empathy_train import model_path, read_card
    from carelens.scoring.model_card import render_markdown

    if model not in TRAINABLE:
        raise CarelensError(f"unknown model '{model}'; allowed: {', '.join(TRAINABLE)}", where="MODEL")
    folder = model_path(variant, truncate_tokens)
    if not (folder / "card.json").exists():
        raise CarelensError(
            f"no trained model; run `carelens models train {model} --variant {variant}`", where=str(folder)
        )
    typer.echo(render_markdown(read_card(folder)))


@app.command()
def validate(
    scorer: Annotated[str, typer.Argument(help="A registered scorer name, e.g. empathy.")],
    ratings: Annotated[
        Path,
        typer.Option(
            help="Rated items (CSV, TSV, JSON Lines or Parquet) with item_id, post, response, rater, "
            "question, value (see carelens.scoring.validate)."
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Also write the table as CSV here.")] = None,
    options: Annotated[
        str | None,
        typer.Option(
            help="The scorer's options as a JSON object, as in [scoring.options.<name>], "
            "e.g. '{\"window_words\": null}'."
        ),
    ] = None,
) -> None:
    """Score a team's clinician-rated items and compare the scorer with each rater, beside the raters
    with each other (Cohen's kappa unweighted and quadratic, exact agreement, n)."""
    import json

    import pandas as pd

    from carelens.scoring.base import create_scorer, run_scorer
    from carelens.scoring.settings import ScoringConfig
    from carelens.scoring.validate import read_rated_items, table
    from carelens.scoring.validate import validate as compare

    frame = read_rated_items(ratings)
    try:
        table_options = json.loads(options) if options else {}
    except json.JSONDecodeError as exc:
        raise CarelensError(f"not JSON: {exc.msg}", where="--options") from None
    if not isinstance(table_options, dict):
        raise CarelensError("must be a JSON object", where="--options")
    config = ScoringConfig(scorers=[scorer], options={scorer: table_options} if table_options else {})
    built = create_scorer(scorer, config)
    items = frame.drop_duplicates("item_id").set_index("item_id")
    scored = run_scorer(built, list(zip(items["post"], items["response"], strict=True)))
    scored.index = items.index
    rows = compare(frame, scored, tuple(built.metrics))
    if not rows:
        raise CarelensError(
            "no question of the file is one the scorer or two raters answer", where=str(ratings)
        )
    typer.echo(f"{built.name} on {len(items)} items rated by {frame['rater'].nunique()} rater(s):")
    typer.echo(table(rows, built.name))
    if out is not None:
        pd.DataFrame(rows).assign(a=lambda f: f["a"].replace("scorer", built.name)).to_csv(out, index=False)
        console.print(f"[bold]written to {out}[/bold]")


@app.command("llm-set")
def llm_set(
    out: Annotated[Path, typer.Argument(help="Where to write the ratings file (CSV).")],
) -> None:
    """Write carelens' frozen LLM-reply empathy set (210 mh-eval replies, two labelling passes) as a
    ratings file for `carelens models validate`; the texts come from the data mirror."""
    from carelens.scoring.empathy_llm_set import write_ratings

    write_ratings(out)
    console.print(f"[bold]written to {out}[/bold]")
