"""``carelens plan``: how many posts a study needs to detect a given % gap at a given power.

The spread comes from a pilot run (its comparisons: each metric's reference mean and the sd of the post
means its primary comparisons used, per-post differences when paired) or from an assumed mean and sd.
"""

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from carelens.analysis.power import detectable_effect, posts_needed
from carelens.errors import CarelensError
from carelens.store import RunDir

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
GAP_KINDS = ("group_gap", "condition_gap", "responder_gap")


def pilot_spread(run_dir: Path, metrics: list[str] | None = None) -> pd.DataFrame:
    """Per metric (and kind of comparison) of a finished run: reference mean, unit sd, paired, units used.

    Averages over the run's primary comparisons of that kind; the sd is their root-mean-square.
    """
    run = RunDir(run_dir)
    if not run.has_table("comparisons"):
        raise CarelensError(
            "no comparisons in this run: run 'carelens analyze' on it first", where=str(run_dir)
        )
    table = run.read_table("comparisons")
    rows = table[table["kind"].isin(GAP_KINDS) & table["primary"].fillna(False).astype(bool)]
    rows = rows[rows["unit_sd"].notna() & rows["ref_mean"].notna()]
    if metrics:
        unknown = sorted(set(metrics) - set(rows["metric"]))
        if unknown:
            raise CarelensError(
                f"metrics {unknown} have no comparisons in this run; it has "
                f"{sorted(rows['metric'].unique())}",
                where=str(run_dir),
            )
        rows = rows[rows["metric"].isin(metrics)]
    if rows.empty:
        raise CarelensError("the run has no comparisons to take a spread from", where=str(run_dir))
    grouped = rows.groupby(["metric", "kind", "paired"], as_index=False).agg(
        ref_mean=("ref_mean", "mean"),
        sd=("unit_sd", lambda s: float(np.sqrt(np.mean(np.square(s))))),
        posts=("n_posts", "median"),
        comparisons=("metric", "size"),
    )
    return grouped


def plan_table(
    spread: pd.DataFrame, gap_pct: float, power: float, alpha: float, comparisons: int
) -> pd.DataFrame:
    """Posts needed per row of ``spread`` (metric, kind, paired, ref_mean, sd[, posts])."""
    if gap_pct <= 0:
        raise CarelensError("the gap must be a positive percentage", where="--gap")
    level = alpha / max(1, comparisons)
    out = []
    for row in spread.itertuples():
        effect = gap_pct / 100 * abs(row.ref_mean) / row.sd if row.sd > 0 else float("nan")
        needed = (
            posts_needed(effect, power, level, bool(row.paired)) if np.isfinite(effect) and effect else None
        )
        record = {
            "metric": row.metric,
            "kind": row.kind,
            "paired": bool(row.paired),
            "ref_mean": row.ref_mean,
            "sd": row.sd,
            "gap": gap_pct / 100 * abs(row.ref_mean),
            "effect_size": effect,
            "posts_needed": needed,
        }
        pilot_posts = getattr(row, "posts", None)
        if pilot_posts is not None and pd.notna(pilot_posts):
            mde = detectable_effect(int(pilot_posts), power, level, bool(row.paired)) * row.sd
            record.update(pilot_posts=int(pilot_posts), pilot_mde_pct=100 * mde / abs(row.ref_mean))
        out.append(record)
    return pd.DataFrame(out)


@app.command()
def plan(
    gap: Annotated[float, typer.Option(help="The gap to detect, in % of the reference group's mean.")] = 5.0,
    pilot: Annotated[
        Path | None, typer.Option(help="A finished (analysed) run to take means and sds from.")
    ] = None,
    mean: Annotated[float | None, typer.Option(help="Assumed reference mean (instead of --pilot).")] = None,
    sd: Annotated[
        float | None,
        typer.Option(
            help="Assumed sd of post means (of per-post differences when paired), instead of --pilot."
        ),
    ] = None,
    paired: Annotated[
        bool,
        typer.Option(
            "--paired/--independent",
            help="With --sd: the same posts on both sides (cues, conditions) or independent groups.",
        ),
    ] = True,
    power: Annotated[float, typer.Option(min=0.01, max=0.99)] = 0.8,
    alpha: Annotated[float, typer.Option(min=1e-6, max=0.5)] = 0.05,
    comparisons: Annotated[
        int,
        typer.Option(
            min=1,
            help="Comparisons the correction spans (alpha is divided "
            "by it, as Bonferroni and Holm's first step).",
        ),
    ] = 1,
    metric: Annotated[
        list[str] | None, typer.Option(help="Only these metrics of the pilot (repeatable).")
    ] = None,
) -> None:
    """Posts needed to detect a GAP % difference with the given power (per group when independent)."""
    if pilot is None and (mean is None or sd is None):
        raise CarelensError("give --pilot RUN, or both --mean and --sd", where="carelens plan")
    if pilot is not None:
        spread = pilot_spread(pilot, metric)
    else:
        spread = pd.DataFrame(
            [
                {
                    "metric": metric[0] if metric else "metric",
                    "kind": "assumed",
                    "paired": paired,
                    "ref_mean": mean,
                    "sd": sd,
                }
            ]
        )
    table = plan_table(spread, gap, power, alpha, comparisons)
    view = Table(
        "metric",
        "comparisons",
        "design",
        "ref. mean",
        "sd",
        "gap",
        "effect size",
        "needed",
        *(("pilot size", "pilot MDE") if "pilot_posts" in table else ()),
        title=f"Posts to detect a {gap:g}% gap at {power:.0%} power, alpha {alpha:g}"
        + (f" / {comparisons}" if comparisons > 1 else ""),
    )
    for row in table.to_dict("records"):
        needed = (
            "–"
            if row["posts_needed"] is None
            else f"{row['posts_needed']} posts" + ("" if row["paired"] else " per group")
        )
        cells = [
            row["metric"],
            row["kind"],
            "paired" if row["paired"] else "independent",
            f"{row['ref_mean']:.3f}",
            f"{row['sd']:.3f}",
            f"{row['gap']:.3f}",
            f"{row['effect_size']:.3f}",
            needed,
        ]
        if "pilot_posts" in row:
            cells += [str(row["pilot_posts"]), f"{row['pilot_mde_pct']:.1f}%"]
        view.add_row(*cells)
    Console(soft_wrap=True).print(view)
