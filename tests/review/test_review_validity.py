"""The scorer against each clinician beside the clinicians against each other, MITI globals included.

Expected figures are computed here from the raw answers with sklearn and krippendorff.
"""

import json
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from review_fixtures import build_run
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from carelens.errors import CarelensError
from carelens.review.agreement import compute_agreement, normalise
from carelens.review.commands import app
from carelens.review.validity import COLUMNS, METRIC_OF, scorer_vs_clinicians

ITEMS = [f"i{k}" for k in range(8)]
RATED = {
    "MITI_CCT": {"ann": ["3", "NA", "4", "5", "2", "NA", "1", "3"],
                 "bob": ["3", "NA", "3", "5", "NA", "4", "2", "3"]},
    "MITI_PARTNERSHIP": {"ann": ["2", "3", "4", "5", "1", "3", "4", "2"],
                         "bob": ["2", "4", "4", "5", "2", "3", "3", "1"]},
    "ER": {"ann": ["0", "1", "2", "2", "1", "0", "1", "2"], "bob": ["0", "1", "1", "2", "1", "0", "2", "2"]},
}
# the mi scorer: NaN is its N/A for change talk; partnership needs rounding (3.4 -> 3) and clipping
MI = {"mi_change_talk": [3.0, np.nan, 4.0, 4.0, np.nan, np.nan, 1.0, 2.0],
      "mi_partnership": [2.2, 3.4, 4.0, 5.6, 1.0, 2.6, 4.0, 2.0]}
SCORER_LABELS = {"MITI_CCT": ["3", "NA", "4", "4", "NA", "NA", "1", "2"],
                 "MITI_PARTNERSHIP": ["2", "3", "4", "5", "1", "3", "4", "2"]}
MITI_LEVELS = ["1", "2", "3", "4", "5"]


def ratings() -> pd.DataFrame:
    return pd.DataFrame([{"item": item, "rater": rater, "question": q, "value": values[k]}
                         for q, by_rater in RATED.items() for rater, values in by_rater.items()
                         for k, item in enumerate(ITEMS)])


def scores() -> pd.DataFrame:
    return pd.DataFrame([{"item_id": item, "scorer": "mi", "metric": metric, "value": values[k]}
                         for metric, values in MI.items() for k, item in enumerate(ITEMS)])


def expected_pair(a: list[str], b: list[str], na: str, allows_na: bool) -> dict:
    if na == "exclude" or not allows_na:
        kept = [(x, y) for x, y in zip(a, b, strict=True) if "NA" not in (x, y)]
        labels, ordinal = MITI_LEVELS, True
    else:
        kept, labels, ordinal = list(zip(a, b, strict=True)), MITI_LEVELS + ["NA"], False
    x, y = [p[0] for p in kept], [p[1] for p in kept]
    coded = np.array([[float(v) if ordinal else labels.index(v) for v in side] for side in (x, y)])
    return {
        "n": len(kept), "exact": np.mean([p == q for p, q in kept]),
        "kappa": cohen_kappa_score(x, y, labels=labels),
        "kappa_quadratic": cohen_kappa_score(x, y, labels=labels, weights="quadratic") if ordinal else None,
        "alpha": krippendorff.alpha(reliability_data=coded, level_of_measurement="ordinal" if ordinal
                                    else "nominal",
                                    value_domain=[1.0, 2.0, 3.0, 4.0, 5.0] if ordinal else list(range(6))),
    }


def check(row: pd.Series, expected: dict) -> None:
    assert row["n"] == expected["n"]
    for key in ("exact", "kappa", "alpha"):
        assert row[key] == pytest.approx(expected[key]), key
    if expected["kappa_quadratic"] is None:
        assert pd.isna(row["kappa_quadratic"])
    else:
        assert row["kappa_quadratic"] == pytest.approx(expected["kappa_quadratic"])


def test_mapping_covers_epitome_and_the_miti_globals() -> None:
    assert METRIC_OF == {"ER": "ER", "IP": "IP", "EX": "EX", "MITI_CCT": "mi_change_talk",
                         "MITI_SST": "mi_sustain_talk", "MITI_PARTNERSHIP": "mi_partnership"}


@pytest.mark.parametrize("na", ["exclude", "category"])
def test_scorer_vs_each_clinician_beside_clinician_pairs(na: str) -> None:
    table = scorer_vs_clinicians(ratings(), scores(), na=na)
    assert list(table.columns) == COLUMNS
    for question, allows_na in (("MITI_CCT", True), ("MITI_PARTNERSHIP", False)):
        rows = table[table["question"] == question].set_index(["comparison", "a", "b"])
        assert set(rows["metric"]) == {METRIC_OF[question]}
        for rater in ("ann", "bob"):
            check(rows.loc[("scorer_vs_clinician", "mi", rater)],
                  expected_pair(SCORER_LABELS[question], RATED[question][rater], na, allows_na))
        check(rows.loc[("clinician_vs_clinician", "ann", "bob")],
              expected_pair(RATED[question]["ann"], RATED[question]["bob"], na, allows_na))
    part = table[(table["question"] == "MITI_PARTNERSHIP") & (table["comparison"] == "scorer_vs_clinician")]
    assert part["rounded"].all()  # 3.4 and 5.6 are off the scale's levels
    cct = table[(table["question"] == "MITI_CCT") & (table["comparison"] == "scorer_vs_clinician")]
    assert not cct["rounded"].any() and (cct["not_scored"] == 0).all()
    # ER was rated but the scores hold no ER metric: clinicians only
    er = table[table["question"] == "ER"]
    assert set(er["comparison"]) == {"clinicians", "clinician_vs_clinician"}


def test_the_joint_clinician_alpha_and_the_agreement_json_agree() -> None:
    frame = normalise(ratings(), "t")
    result = compute_agreement(frame, scores().rename(columns={"item_id": "response_id"}), resamples=0)
    table = scorer_vs_clinicians(ratings(), scores())
    joint = table[(table["question"] == "MITI_CCT") & (table["comparison"] == "clinicians")].iloc[0]
    assert joint["alpha"] == pytest.approx(result["questions"]["MITI_CCT"]["alpha"])
    entry = result["scorer_validity"]["MITI_PARTNERSHIP"]
    assert entry["metric"] == "mi_partnership" and entry["inter_clinician"][0]["n"] == 8
    ann = next(s for s in entry["scorers"] if s["rater"] == "ann")
    assert ann["kappa_quadratic"] == pytest.approx(cohen_kappa_score(
        SCORER_LABELS["MITI_PARTNERSHIP"], RATED["MITI_PARTNERSHIP"]["ann"], labels=MITI_LEVELS,
        weights="quadratic"))
    assert set(result["scorer_validity"]) == {"MITI_CCT", "MITI_PARTNERSHIP"}
    assert any("ER (ER)" in n and "not compared" in n for n in result["notes"])
    assert any("rounded and clipped" in n for n in result["notes"])


def test_items_the_scorer_did_not_score_are_counted() -> None:
    partial = scores()
    partial = partial[~((partial["metric"] == "mi_partnership") & partial["item_id"].isin(["i0", "i1"]))]
    table = scorer_vs_clinicians(ratings(), partial, questions=["MITI_PARTNERSHIP"])
    row = table[(table["comparison"] == "scorer_vs_clinician") & (table["b"] == "ann")].iloc[0]
    assert (row["n"], row["not_scored"]) == (6, 2)
    assert set(table["question"]) == {"MITI_PARTNERSHIP"}


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(CarelensError, match="no scorer metric for \\['AI_GUESS'\\]"):
        scorer_vs_clinicians(ratings(), scores(), questions=["AI_GUESS"])
    with pytest.raises(CarelensError, match="response_id"):
        scorer_vs_clinicians(ratings(), scores().drop(columns="item_id"))
    with pytest.raises(CarelensError, match="N/A convention"):
        scorer_vs_clinicians(ratings(), scores(), na="ignore")


def test_review_agreement_reports_mi_metrics_from_the_runs_scores(tmp_path: Path) -> None:
    run = build_run(tmp_path / "run")
    responses = list(run.read_table("responses")["response_id"][:8])
    mi = scores().assign(response_id=lambda f: f["item_id"].map(dict(zip(ITEMS, responses, strict=True))))
    run.write_table("scores", pd.concat([run.read_table("scores"), mi.drop(columns="item_id")]))
    path = tmp_path / "ratings.csv"
    ratings().assign(response_id=lambda f: f["item"].map(dict(zip(ITEMS, responses, strict=True)))).to_csv(
        path, index=False)
    result = CliRunner().invoke(app, ["agreement", str(run.path), "--ratings", str(path), "--resamples", "20",
                                      "--na", "category"])
    assert result.exit_code == 0, result.output
    saved = json.loads((run.path / "review" / "agreement.json").read_text())
    assert saved["na_convention"] == "category"
    cct = saved["scorer_validity"]["MITI_CCT"]
    assert {s["scorer"] for s in cct["scorers"]} == {"mi"} and cct["metric"] == "mi_change_talk"
    ann = next(s for s in cct["scorers"] if s["rater"] == "ann")
    assert ann["n"] == 8 and ann["kappa"] == pytest.approx(expected_pair(
        SCORER_LABELS["MITI_CCT"], RATED["MITI_CCT"]["ann"], "category", True)["kappa"])
    assert "MITI_CCT (mi_change_talk): scorer mi vs ann: rated pairs 8" in result.output
    assert "MITI_CCT: clinicians ann vs bob: rated pairs 8" in result.output
    bad = CliRunner().invoke(app, ["agreement", str(run.path), "--ratings", str(path), "--na", "drop"])
    assert bad.exit_code == 2 and "unknown N/A convention" in bad.output
