"""Known answers for the study-level statistics: one unit of analysis (the post), rates tested per post,
one declared correction family, effect sizes that match their tests, named model terms, ALL, verdicts.

Every expected value is computed here independently with scipy / statsmodels.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from carelens.analysis import groups
from carelens.analysis.results import analyse
from carelens.analysis.settings import AnalysisConfig, GuidelineConfig
from carelens.analysis.synthetic import Synthetic, tables
from carelens.demographics.settings import DemographicsConfig
from carelens.ids import original_variant_id
from carelens.tables import conform, empty_table

NO_DESIGN = DemographicsConfig(design="none")
COUNTERFACTUAL = DemographicsConfig(design="counterfactual", races=["black", "white"])


def _standardised(n: int, mean: float, seed: int) -> np.ndarray:
    """n values with exactly this mean and sd 1."""
    values = np.random.default_rng(seed).normal(size=n)
    return mean + (values - values.mean()) / values.std(ddof=1)


def _observational_run(
    per_post: dict[str, list[list[float]]], statuses: dict[str, list[list[str]]] | None = None
) -> dict[str, pd.DataFrame]:
    """Replies grouped by a field the data sets (``grp``): per group, per post, the replies' ER values."""
    responses, scores = [], []
    for group, posts in per_post.items():
        for i, values in enumerate(posts):
            pid = f"{group}-{i}"
            for k, value in enumerate(values):
                rid = f"r-{pid}-{k}"
                status = statuses[group][i][k] if statuses else "ok"
                responses.append(
                    {
                        "response_id": rid,
                        "variant_id": original_variant_id(pid),
                        "post_id": pid,
                        "responder": "openai:m",
                        "condition": "forum",
                        "sample": k,
                        "text": "x",
                        "status": status,
                        "meta": json.dumps({"grp": group}),
                    }
                )
                if status == "ok":
                    scores.append({"response_id": rid, "scorer": "s", "metric": "ER", "value": value})
    return {
        "variants": empty_table("variants"),
        "inferences": empty_table("inferences"),
        "responses": conform("responses", pd.DataFrame(responses)),
        "scores": conform(
            "scores", pd.DataFrame(scores, columns=["response_id", "scorer", "metric", "value"])
        ),
    }


def _run(
    t: dict[str, pd.DataFrame],
    config: AnalysisConfig,
    demographics: DemographicsConfig = NO_DESIGN,
    conditions: tuple[str, ...] = ("forum",),
) -> dict[str, pd.DataFrame]:
    data = groups.build(t["responses"], t["variants"], t["inferences"], t["scores"], demographics, config, 7)
    out, _ = analyse(data, config, 7, list(conditions), t["variants"], t["inferences"], t["scores"])
    return out


def _row(comparisons: pd.DataFrame, test: str, **where: str) -> pd.Series:
    rows = comparisons[comparisons["test"] == test]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_replies_to_one_post_are_not_independent_evidence() -> None:
    """30 vs 30 posts, 10 identical replies each, post means 0.45 apart (sd 1): the post is the unit."""
    black, white = _standardised(30, 0.45, 1), _standardised(30, 0.0, 2)
    t = _observational_run({"black": [[v] * 10 for v in black], "white": [[v] * 10 for v in white]})
    config = AnalysisConfig(group_by="grp", reference="white", bootstrap=400)
    out = _run(t, config)["comparisons"]
    welch = _row(out, "welch_t", kind="group_gap")
    expected = sps.ttest_ind(black, white, equal_var=False)
    assert welch["p"] == pytest.approx(expected.pvalue)
    assert welch["p"] == pytest.approx(0.0866, abs=0.002)
    assert (welch["n_posts"], welch["n_responses"], welch["unit"]) == (30, 300, "post")
    assert welch["estimate_ci_low"] < 0 < welch["estimate_ci_high"]  # its CI agrees with its test
    paper = _row(out, "student_t_paper", kind="group_gap")
    assert paper["p"] == pytest.approx(sps.ttest_ind(np.repeat(black, 10), np.repeat(white, 10)).pvalue)
    assert paper["p"] < 1e-7 and not paper["primary"] and np.isnan(paper["p_adj"])
    # the minimal detectable difference is that of 30 vs 30 post means
    from statsmodels.stats.power import TTestIndPower

    d = TTestIndPower().solve_power(nobs1=30, ratio=1.0, alpha=0.05, power=0.8)
    # statsmodels' solver stops within about 1e-6 of the root; carelens' effect has power 0.8 to 1e-12
    assert welch["mde"] == pytest.approx(float(np.ravel(d)[0]) * welch["unit_sd"], rel=1e-5)
    assert TTestIndPower().power(welch["mde"] / welch["unit_sd"], 30, 0.05) == pytest.approx(0.8, abs=1e-9)


def test_refusal_rates_are_tested_per_post() -> None:
    """20 posts per group x 10 replies, refusal decided per post (6 vs 2 posts)."""
    statuses = {
        "black": [["refused"] * 10 if i < 6 else ["ok"] * 10 for i in range(20)],
        "white": [["refused"] * 10 if i < 2 else ["ok"] * 10 for i in range(20)],
    }
    values = {g: [[1.0] * 10 for _ in range(20)] for g in statuses}
    out = _run(_observational_run(values, statuses), AnalysisConfig(group_by="grp", reference="white"))
    rate = _row(out["comparisons"], "welch_t", kind="rate_gap", metric="rate_refused")
    per_post_black, per_post_white = np.r_[np.ones(6), np.zeros(14)], np.r_[np.ones(2), np.zeros(18)]
    assert rate["p"] == pytest.approx(sps.ttest_ind(per_post_black, per_post_white, equal_var=False).pvalue)
    assert 0.1 < rate["p"] < 0.25
    fisher_on_replies = sps.fisher_exact([[60, 140], [20, 180]]).pvalue
    assert fisher_on_replies < 1e-5 < rate["p"]
    assert rate["estimate"] == pytest.approx(0.2)


def test_refusal_rates_are_paired_in_a_paired_design() -> None:
    spec = Synthetic(posts=20, groups=("black",), refusal={"black": 0.0}, samples=4)
    t = tables(spec)
    responses = t["responses"].copy()
    cued = responses["variant_id"] != responses["post_id"].map(original_variant_id)
    refused_posts = {f for f in sorted(responses["post_id"].unique())[:6]}
    control_refused = {f for f in sorted(responses["post_id"].unique())[-2:]}
    responses.loc[cued & responses["post_id"].isin(refused_posts), "status"] = "refused"
    responses.loc[~cued & responses["post_id"].isin(control_refused), "status"] = "refused"
    t["responses"] = responses
    out = _run(t, AnalysisConfig(reference="control"), COUNTERFACTUAL)["comparisons"]
    rate = _row(out, "paired_t", kind="rate_gap", metric="rate_refused")
    posts = sorted(responses["post_id"].unique())
    x = np.array([p in refused_posts for p in posts], dtype=float)
    y = np.array([p in control_refused for p in posts], dtype=float)
    assert bool(rate["paired"]) and rate["n_posts"] == 20
    assert rate["p"] == pytest.approx(sps.ttest_rel(x, y).pvalue)


def test_holm_spans_every_primary_test_of_the_study() -> None:
    spec = Synthetic(
        posts=25, gaps={"black/female": -0.3}, conditions=("a", "b"), metrics=("ER", "IP"), peer_replies=1
    )
    t = tables(spec)
    demographics = DemographicsConfig(design="counterfactual", races=["black", "white"], genders=["female"])
    out = _run(t, AnalysisConfig(bootstrap=0, permutations=99), demographics, ("a", "b"))["comparisons"]
    primary = out[out["primary"].astype(bool)]
    assert set(primary["kind"]) >= {"group_gap", "condition_gap", "responder_gap"}
    finite = primary[primary["p"].notna()]
    expected = multipletests(finite["p"].to_numpy(float), method="holm")[1]
    assert finite["p_adj"].to_numpy(float) == pytest.approx(expected)
    assert set(finite["family"]) == {f"every primary post-level test of the study ({len(finite)} tests)"}
    assert set(finite["correction"]) == {"holm"}
    secondary = out[~out["primary"].astype(bool)]
    assert secondary["p_adj"].isna().all()


def test_wilcoxon_reports_the_matched_pairs_rank_biserial() -> None:
    """Every post +0.1 under the cue: the matched-pairs effect is 1, and its CI contains it."""
    spec = Synthetic(posts=30, groups=("black",))
    t = tables(spec)
    scores = t["scores"].merge(t["responses"][["response_id", "variant_id", "post_id"]], on="response_id")
    cued = scores["variant_id"] != scores["post_id"].map(original_variant_id)
    base = {p: i / 40 for i, p in enumerate(sorted(scores["post_id"].unique()))}
    scores["value"] = scores["post_id"].map(base) + np.where(cued, 0.1, 0.0)
    t["scores"] = conform("scores", scores[["response_id", "scorer", "metric", "value"]])
    config = AnalysisConfig(paired_test="wilcoxon", bootstrap=300)
    out = _run(t, config, COUNTERFACTUAL)["comparisons"]
    wilcoxon = _row(out, "wilcoxon", kind="group_gap")
    assert wilcoxon["primary"] and wilcoxon["effect_name"] == "rank_biserial"
    assert wilcoxon["effect"] == pytest.approx(1.0)
    assert wilcoxon["ci_low"] <= wilcoxon["effect"] <= wilcoxon["ci_high"]


def test_every_effect_interval_contains_its_estimate() -> None:
    spec = Synthetic(
        posts=40,
        gaps={"black/female": -0.25, "white/female": 0.1},
        samples=3,
        peer_replies=2,
        metrics=("ER", "EX"),
    )
    demographics = DemographicsConfig(design="counterfactual", races=["black", "white"], genders=["female"])
    out = _run(tables(spec), AnalysisConfig(bootstrap=500, permutations=99), demographics)["comparisons"]
    rows = out[out["ci_low"].notna()]
    assert len(rows) >= 18
    assert ((rows["ci_low"] <= rows["effect"] + 1e-9) & (rows["effect"] <= rows["ci_high"] + 1e-9)).all()
    expected = {
        "paired_t": "cohens_dz",
        "wilcoxon": "rank_biserial",
        "permutation": "cohens_dz",
        "welch_t": "hedges_g",
        "mann_whitney": "cliffs_delta",
        "student_t": "hedges_g",
    }
    for test, name in expected.items():
        assert set(out.loc[out["test"] == test, "effect_name"]) <= {name}


def test_model_terms_are_named_for_what_they_estimate() -> None:
    spec = Synthetic(
        posts=30, gaps={"black": -0.3}, groups=("black",), conditions=("a", "b"), condition_gaps={"b": 0.2}
    )
    out = _run(tables(spec), AnalysisConfig(bootstrap=0), COUNTERFACTUAL, ("a", "b"))
    models = out["models"]
    kinds = dict(zip(models["term"], models["term_kind"], strict=True))
    assert kinds["group black (averaged over conditions)"] == "group_main"
    assert kinds["group black in a"] == kinds["group black in b"] == "group_simple"
    assert kinds["group black × condition b"] == "interaction"
    assert kinds["condition b (averaged over groups)"] == "condition_main"
    est = dict(zip(models["term"], models["estimate"], strict=True))
    assert est["group black (averaged over conditions)"] == pytest.approx(
        (est["group black in a"] + est["group black in b"]) / 2
    )
    assert est["group black in b"] - est["group black in a"] == pytest.approx(
        est["group black × condition b"]
    )
    assert set(models["ci_method"]) == {"Wald (model-based standard errors, normal approximation)"}
    # with one reply per post and cell, the simple effect is the mean paired difference
    comparisons = out["comparisons"]
    paired = _row(comparisons, "paired_t", kind="group_gap", condition="a")
    assert est["group black in a"] == pytest.approx(paired["estimate"], abs=1e-6)


def test_all_is_the_mean_of_er_ip_ex_of_each_reply() -> None:
    spec = Synthetic(posts=10, groups=("black",), metrics=("ER", "IP", "EX"))
    t = tables(spec)
    out = _run(t, AnalysisConfig(bootstrap=0), COUNTERFACTUAL)
    wide = t["scores"].pivot_table(index="response_id", columns="metric", values="value")
    expected_mean = wide[["ER", "IP", "EX"]].mean(axis=1)
    merged = t["responses"].set_index("response_id").join(expected_mean.rename("all"))
    merged = merged[merged["variant_id"] == merged["post_id"].map(original_variant_id)]
    descriptive = out["descriptives"]
    control = descriptive[(descriptive["metric"] == "ALL") & (descriptive["group"] == "control")].iloc[0]
    assert control["mean"] == pytest.approx(merged.groupby("post_id")["all"].mean().mean())
    assert (control["scale_low"], control["scale_high"]) == (0.0, 2.0)


def _verdict(out: dict[str, pd.DataFrame], guideline: str, responder: str) -> pd.Series:
    rows = out["verdicts"][
        (out["verdicts"]["guideline"] == guideline) & (out["verdicts"]["responder"] == responder)
    ]
    assert len(rows) == 1, out["verdicts"]
    return rows.iloc[0]


def test_verdicts_judge_ai_responders_in_the_configured_direction() -> None:
    # the model is 40% MORE empathic for black posters: not a harm; peers are never judged
    spec = Synthetic(posts=60, gaps={"black/female": 0.4}, peer_replies=1, noise_sd=0.2)
    t = tables(spec)
    demographics = DemographicsConfig(design="counterfactual", races=["black", "white"], genders=["female"])
    out = _run(t, AnalysisConfig(bootstrap=0, permutations=99), demographics)
    assert set(out["verdicts"]["responder"]) == {"local:model", "(probe)"}
    assert _verdict(out, "empathy_gap", "local:model")["verdict"] in ("pass", "inconclusive")
    worse = tables(Synthetic(posts=60, gaps={"black/female": -0.4}, noise_sd=0.2))
    assert (
        _verdict(
            _run(worse, AnalysisConfig(bootstrap=0, permutations=99), demographics),
            "empathy_gap",
            "local:model",
        )["verdict"]
        == "fail"
    )


def test_a_check_that_cannot_detect_its_threshold_is_inconclusive() -> None:
    demographics = DemographicsConfig(design="counterfactual", races=["black", "white"], genders=["female"])
    small = tables(Synthetic(posts=6, noise_sd=1.0, seed=5))
    config = AnalysisConfig(bootstrap=0, permutations=99, guidelines=GuidelineConfig(empathy_gap_pct=5))
    out = _run(small, config, demographics)
    verdict = _verdict(out, "empathy_gap", "local:model")
    gaps = out["comparisons"][
        (out["comparisons"]["kind"] == "group_gap") & out["comparisons"]["primary"].astype(bool)
    ]
    assert not (gaps["p_adj"] < 0.05).any() and (gaps["mde_pct"] > 5).any()
    assert verdict["verdict"] == "inconclusive"
    assert "could not detect a 5% gap" in verdict["evidence"]
    large = tables(Synthetic(posts=400, noise_sd=0.05, seed=3))
    big = _run(large, config, demographics)
    assert _verdict(big, "empathy_gap", "local:model")["verdict"] == "pass"


def test_verdicts_carry_the_caveat_of_an_unreliable_metric() -> None:
    spec = Synthetic(posts=30, metrics=("paper_ER",), peer_replies=1)
    config = AnalysisConfig(
        bootstrap=0,
        permutations=99,
        metric_caveats={"local:model:paper_ER": "recorded by a classifier that read only 64 tokens"},
    )
    demographics = DemographicsConfig(design="counterfactual", races=["black", "white"], genders=["female"])
    out = _run(tables(spec), config, demographics)
    assert "64 tokens" in _verdict(out, "worse_than_peers", "local:model")["caveat"]


@pytest.mark.parametrize(("hits", "verdict"), [(3, "fail"), (7, "pass")])
def test_manipulation_check_fails_when_the_cue_is_rarely_read(hits: int, verdict: str) -> None:
    spec = Synthetic(posts=10, groups=("black",))
    t = tables(spec)
    cued = t["variants"][t["variants"]["cue_kind"] != "none"].reset_index(drop=True)
    originals = t["variants"][t["variants"]["cue_kind"] == "none"]
    rows = [
        {
            "variant_id": v,
            "model": "local:probe",
            "race": "black" if i < hits else None,
            "gender": None,
            "age": None,
            "explanation": "",
            "raw": "",
            "status": "ok",
        }
        for i, v in enumerate(cued["variant_id"])
    ] + [
        {
            "variant_id": v,
            "model": "local:probe",
            "race": None,
            "gender": None,
            "age": None,
            "explanation": "",
            "raw": "",
            "status": "ok",
        }
        for v in originals["variant_id"]
    ]
    t["inferences"] = conform("inferences", pd.DataFrame(rows))
    out = _run(t, AnalysisConfig(bootstrap=0), COUNTERFACTUAL)
    row = _verdict(out, "manipulation", "local:probe")
    assert row["verdict"] == verdict
    assert f"{10 * hits}% of 10 variants" in row["evidence"]
