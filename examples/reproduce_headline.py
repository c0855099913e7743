"""Reproduce the headline comparison of Gabriel et al. (2024) from its recorded GPT-4 replies, and plot it.

The paper reports that GPT-4's replies to posters it read as Black were less empathic (EPITOME
Emotional Reactions, ER) than its replies to White posters, by Student's t on single replies without
correction. This script runs a study on the paper's released replies and scores (nothing is generated:
no model or API key is needed), then sets the paper's test beside carelens' primary test (on post
means, corrected over the study's family) for Black vs White in each prompt condition.

    python examples/reproduce_headline.py [OUT_DIR]      # writes OUT_DIR/headline.png (default: figures)

Set CARELENS_DATA_MIRROR when there is no network access. Each line below is a notebook cell.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import carelens  # noqa: E402

STUDY = {
    "study": {"name": "headline", "seed": 13},
    "data": [{"dataset": "mh-eval-gpt4"}],  # the paper's GPT-4 replies, with its own scores
    "demographics": {"design": "none"},  # groups come from the paper's inference, not from cues
    "generation": {"responders": ["recorded:gpt-4"]},
    "scoring": {"scorers": ["text"], "workers": 1},
    "analysis": {"group_by": "paper_race", "reference": "white"},
}
METRIC = "paper_ER"  # the authors' own classifier score for Emotional Reactions (0, 1, 2), as released


def headline(run: carelens.Run, metric: str) -> pd.DataFrame:
    """Black vs White replies per prompt condition: the paper's test beside the primary one."""
    c = run.table("comparisons")
    c = c[(c.kind == "group_gap") & (c.metric == metric) & (c.group == "black") & (c.reference == "white")]
    paper = c[c.test == "student_t_paper"].set_index("condition")
    primary = c[c.primary].set_index("condition")
    return pd.DataFrame(
        {
            "white": primary.ref_mean,
            "black": primary["mean"],
            "pct_diff": primary.pct_diff,
            "pct_ci_low": primary.pct_ci_low,
            "pct_ci_high": primary.pct_ci_high,
            "n_posts": primary.n_posts,
            "ref_n_posts": primary.ref_n_posts,
            "paper_p": paper.p,
            "primary_test": primary.test,
            "primary_p": primary.p,
            "primary_p_adj": primary.p_adj,
        }
    ).sort_index()


def plot(table: pd.DataFrame, metric: str, path: Path) -> Path:
    """Two panels: the % difference with its CI, and the paper's p beside the corrected primary p."""
    fig, (gap, pvals) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    y = range(len(table))
    err = [table.pct_diff - table.pct_ci_low, table.pct_ci_high - table.pct_diff]
    gap.errorbar(table.pct_diff, y, xerr=err, fmt="o", capsize=3)
    gap.axvline(0, color="grey", lw=0.8)
    gap.set_yticks(list(y), table.index)
    gap.set_xlabel(f"{metric}: Black vs White, % difference (95% CI)")
    width = 0.38
    pvals.barh([i - width / 2 for i in y], table.paper_p, height=width, label="paper: Student t, replies")
    pvals.barh(
        [i + width / 2 for i in y], table.primary_p_adj, height=width, label="primary: post means, Holm"
    )
    pvals.axvline(0.05, color="red", ls="--", lw=0.8)
    pvals.set_yticks(list(y), [""] * len(table))
    pvals.set_xlabel("p (red: 0.05)")
    pvals.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=8, frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(out_dir: str | Path = "figures") -> Path:
    """Run the study up to the analysis, print the headline table and write ``headline.png``."""
    out = Path(out_dir)
    run = carelens.open_study(STUDY).run(until="analyze", output=out / "run")
    table = headline(run, METRIC)
    print(f"metric: {METRIC}")
    print(table.round(4).to_string())
    significant = table.primary_p_adj < 0.05
    print(
        f"paper's test p < 0.05 in {(table.paper_p < 0.05).sum()} of {len(table)} conditions; "
        f"after the post-level test and Holm's correction in {significant.sum()}"
    )
    figure = plot(table, METRIC, out / "headline.png")
    print(f"figure: {figure}")
    return figure


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "figures")
