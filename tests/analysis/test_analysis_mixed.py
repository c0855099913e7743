"""The mixed model against what a balanced design implies, and its terms."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from carelens.analysis.mixed import fit_mixed


def _balanced(posts: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    post_effect = rng.normal(0, 1.0, posts)
    rows = []
    for i in range(posts):
        for group, gap in (("control", 0.0), ("black", -0.3)):
            rows.append(
                {
                    "post_id": f"p{i}",
                    "group": group,
                    "condition": "forum",
                    "value": 2 + post_effect[i] + gap + rng.normal(0, 0.5),
                }
            )
    return pd.DataFrame(rows)


def test_balanced_two_group_model_equals_the_paired_t_test() -> None:
    """One reply per post and group: REML's group coefficient is the mean paired difference and its
    Wald z equals the paired t statistic."""
    frame = _balanced(40, 1)
    rows, note = fit_mixed(frame, "control", None, 0.05)
    (row,) = rows
    wide = frame.pivot(index="post_id", columns="group", values="value")
    diff = wide["black"] - wide["control"]
    assert (row["group"], row["term_kind"]) == ("black", "group_main")
    assert row["term"] == "group black (averaged over conditions)"
    assert row["estimate"] == pytest.approx(diff.mean(), abs=1e-6)
    assert row["estimate"] / row["se"] == pytest.approx(
        sps.ttest_rel(wide["black"], wide["control"]).statistic, rel=1e-3
    )
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["post_variance"] > 0.5 and note == ""


def test_group_condition_interaction_terms() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for i in range(60):
        base = rng.normal(0, 0.5)
        for group in ("control", "black", "white"):
            for condition, shift in (("forum", 0.0), ("clinician", 0.5)):
                gap = -0.6 if (group, condition) == ("black", "clinician") else 0.0
                rows.append(
                    {
                        "post_id": f"p{i}",
                        "group": group,
                        "condition": condition,
                        "value": 1 + base + shift + gap + rng.normal(0, 0.3),
                    }
                )
    frame = pd.DataFrame(rows)
    fitted, _ = fit_mixed(frame, "control", "forum", 0.05)
    terms = {r["term"]: r for r in fitted}
    assert {t["term_kind"] for t in fitted} == {"group_main", "group_simple", "interaction", "condition_main"}
    # balanced and complete: every term is a contrast of the cell means
    cell = frame.groupby(["group", "condition"])["value"].mean()

    def gap(group: str, condition: str) -> float:
        return float(cell[group, condition] - cell["control", condition])

    assert terms["group black in forum"]["estimate"] == pytest.approx(gap("black", "forum"))
    assert terms["group black in clinician"]["estimate"] == pytest.approx(gap("black", "clinician"))
    assert terms["group black (averaged over conditions)"]["estimate"] == pytest.approx(
        (gap("black", "forum") + gap("black", "clinician")) / 2
    )
    assert terms["condition clinician (averaged over groups)"]["estimate"] == pytest.approx(
        (cell[:, "clinician"] - cell[:, "forum"]).mean()
    )
    interaction = terms["group black × condition clinician"]
    assert interaction["estimate"] == pytest.approx(gap("black", "clinician") - gap("black", "forum"))
    assert interaction["p"] < 0.001
    assert (interaction["group"], interaction["condition"]) == ("black", "clinician")
    assert terms["group white × condition clinician"]["p"] > 0.01


def test_nothing_to_compare_is_a_note_not_an_error() -> None:
    frame = pd.DataFrame(
        {"post_id": ["p1", "p2"], "group": "control", "condition": "forum", "value": [1.0, 2.0]}
    )
    rows, note = fit_mixed(frame, "control", "forum", 0.05)
    assert rows == [] and "nothing to compare" in note
