"""Comparisons: the numbers each test used, the paper's row, corrections, power, and known effects found."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

from carelens.analysis import groups
from carelens.analysis.findings import analyse
from carelens.analysis.settings import AnalysisConfig
from carelens.analysis.synthetic import Synthetic, tables
from carelens.demographics.settings import DemographicsConfig
from carelens.ids import original_variant_id
from carelens.tables import SCHEMAS, conform, empty_table

COUNTERFACTUAL = DemographicsConfig(design="counterfactual", races=["black", "white"])


def _analyse(
    t: dict[str, pd.DataFrame],
    config: AnalysisConfig,
    demographics: DemographicsConfig,
    conditions: tuple[str, ...] = ("forum",),
) -> pd.DataFrame:
    data = groups.build(t["responses"], t["variants"], t["inferences"], t["scores"], demographics, config, 7)
    return analyse(data, config, 7, list(conditions), t["variants"], t["inferences"], t["scores"].iloc[:0])


def _hand_paired_run() -> tuple[dict[str, pd.DataFrame], np.ndarray, np.ndarray]:
    """5 posts, each answered twice in its original and twice with a 'black' cue; known values."""
    control = np.array([[1, 2], [0, 1], [2, 2], [1, 1], [0, 0]], dtype=float)
    cued = np.array([[1, 1], [0, 0], [1, 2], [0, 1], [0, 1]], dtype=float)
    variants, responses, scores = [], [], []
    for i in range(5):
        pid = f"p{i}"
        for vid, race, kind, values in (
            (original_variant_id(pid), None, "none", control[i]),
            (f"v{i}", "black", "explicit", cued[i]),
        ):
            variants.append(
                {
                    "variant_id": vid,
                    "post_id": pid,
                    "race": race,
                    "gender": None,
                    "age": None,
                    "cue_kind": kind,
                    "cue": "",
                    "text": "t",
                    "fidelity_ok": True,
                    "fidelity_note": "",
                    "defects": "",
                }
            )
            for sample, value in enumerate(values):
                rid = f"r-{vid}-{sample}"
                responses.append(
                    {
                        "response_id": rid,
                        "variant_id": vid,
                        "post_id": pid,
                        "responder": "m",
                        "condition": "forum",
                        "sample": sample,
                        "text": "x",
                        "status": "ok",
                        "meta": "{}",
                    }
                )
                scores.append({"response_id": rid, "scorer": "s", "metric": "ER", "value": value})
    t = {
        "variants": conform("variants", pd.DataFrame(variants)),
        "inferences": empty_table("inferences"),
        "responses": conform("responses", pd.DataFrame(responses)),
        "scores": conform("scores", pd.DataFrame(scores)),
    }
    return t, cued.mean(axis=1), control.mean(axis=1)


def test_paired_group_gap_uses_post_means_and_reports_them() -> None:
    t, cued, control = _hand_paired_run()
    findings = _analyse(t, AnalysisConfig(bootstrap=200, mixed_model=False), COUNTERFACTUAL)
    rows = findings[findings["kind"] == "group_gap"].set_index("test")
    assert set(rows.index) == {"paired_t", "wilcoxon", "permutation", "student_t_paper"}
    t_row = rows.loc["paired_t"]
    assert (t_row["group"], t_row["reference"], t_row["stratum"]) == ("black", "control", "explicit")
    assert t_row["mean"] == pytest.approx(cued.mean()) and t_row["ref_mean"] == pytest.approx(control.mean())
    assert t_row["diff"] == pytest.approx(cued.mean() - control.mean())
    assert t_row["pct_diff"] == pytest.approx(100 * (cued.mean() - control.mean()) / control.mean())
    assert t_row["p"] == pytest.approx(sps.ttest_rel(cued, control).pvalue)
    diff = cued - control
    assert t_row["effect"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert (t_row["n_posts"], t_row["n"], t_row["ref_n"], bool(t_row["paired"])) == (5, 10, 10, True)
    assert bool(t_row["primary"]) and not bool(rows.loc["wilcoxon", "primary"])
    assert rows.loc["wilcoxon", "effect_name"] == "cliffs_delta"
    assert rows.loc["permutation", "p"] == pytest.approx(
        sps.permutation_test(
            (diff,),
            lambda v, axis: v.mean(axis=axis),
            permutation_type="samples",
            vectorized=True,
            n_resamples=9999,
        ).pvalue
    )
    paper = rows.loc["student_t_paper"]
    is_cued = t["scores"]["response_id"].str.match(r"r-v\d-")
    cued_all, control_all = (
        t["scores"]["value"][is_cued].to_numpy(),
        t["scores"]["value"][~is_cued].to_numpy(),
    )
    assert len(cued_all) == len(control_all) == 10
    assert paper["p"] == pytest.approx(sps.ttest_ind(cued_all, control_all).pvalue)
    assert (paper["aggregation"], bool(paper["primary"])) == ("response", False)
    assert t_row["diff_ci_low"] <= t_row["diff"] <= t_row["diff_ci_high"]


def test_independent_groups_by_post_or_by_response() -> None:
    rng = np.random.default_rng(4)
    rows, scores = [], []
    for i in range(40):
        race = "black" if i < 15 else "white"
        for k in range(1 + i % 4):  # posts have 1-4 replies: the two aggregations differ
            rid = f"r{i}-{k}"
            meta = {"paper_race": race} if k == 0 else {}
            rows.append(
                {
                    "response_id": rid,
                    "variant_id": "v",
                    "post_id": f"p{i}",
                    "responder": "peer",
                    "condition": "peer",
                    "sample": k,
                    "text": "x",
                    "status": "ok",
                    "meta": json.dumps(meta),
                }
            )
            scores.append({"response_id": rid, "scorer": "s", "metric": "ER", "value": rng.normal(1, 1)})
    t = {
        "variants": empty_table("variants"),
        "inferences": empty_table("inferences"),
        "responses": conform("responses", pd.DataFrame(rows)),
        "scores": conform("scores", pd.DataFrame(scores)),
    }
    frame = pd.DataFrame(rows).merge(pd.DataFrame(scores), on="response_id")
    frame["race"] = np.where(frame["post_id"].str[1:].astype(int) < 15, "black", "white")
    for aggregate in ("post", "response"):
        config = AnalysisConfig(
            group_by="paper_race", reference="white", aggregate=aggregate, bootstrap=100, mixed_model=False
        )
        found = _analyse(t, config, DemographicsConfig())
        welch = found[(found["kind"] == "group_gap") & (found["test"] == "welch_t")].iloc[0]
        units = (
            frame.groupby(["race", "post_id"])["value"].mean()
            if aggregate == "post"
            else frame.set_index(["race", "post_id"])["value"]
        )
        black, white = units.loc["black"].to_numpy(), units.loc["white"].to_numpy()
        assert welch["p"] == pytest.approx(sps.ttest_ind(black, white, equal_var=False).pvalue)
        assert welch["mean"] == pytest.approx(black.mean())
        assert (welch["n_posts"], welch["ref_n_posts"], bool(welch["paired"])) == (15, 25, False)
        mw = found[(found["kind"] == "group_gap") & (found["test"] == "mann_whitney")].iloc[0]
        assert mw["effect"] == pytest.approx(np.mean([np.sign(a - b) for a in black for b in white]))


def test_descriptives_give_both_aggregations_and_the_gap_to_the_reference() -> None:
    t, cued, control = _hand_paired_run()
    findings = _analyse(t, AnalysisConfig(bootstrap=0, mixed_model=False), COUNTERFACTUAL)
    described = findings[findings["kind"] == "descriptive"].set_index("group")
    black = described.loc["black"]
    assert (black["n"], black["n_posts"], black["aggregation"]) == (10, 5, "post")
    assert black["mean"] == pytest.approx(cued.mean())
    assert black["sd"] == pytest.approx(cued.std(ddof=1))
    half = sps.t.ppf(0.975, 4) * cued.std(ddof=1) / np.sqrt(5)
    assert (black["mean_ci_low"], black["mean_ci_high"]) == (
        pytest.approx(cued.mean() - half),
        pytest.approx(cued.mean() + half),
    )
    assert black["diff"] == pytest.approx(cued.mean() - control.mean())
    assert black["pct_diff"] == pytest.approx(100 * (cued.mean() / control.mean() - 1))
    rates = findings[(findings["kind"] == "rate") & (findings["metric"] == "rate_refused")]
    assert set(rates["mean"]) == {0.0}


def test_known_gap_is_found_and_null_gap_is_not() -> None:
    spec = Synthetic(
        posts=60,
        groups=("black", "white"),
        gaps={"black": -0.4},
        samples=2,
        metrics=("ER",),
        noise_sd=0.5,
        seed=11,
    )
    findings = _analyse(tables(spec), AnalysisConfig(bootstrap=300), COUNTERFACTUAL)
    primary = findings[(findings["kind"] == "group_gap") & findings["primary"].fillna(False).astype(bool)]
    primary = primary.set_index("group")
    assert bool(primary.loc["black", "significant"]) and primary.loc["black", "diff"] < -0.25
    assert not bool(primary.loc["white", "significant"])
    assert primary.loc["white", "ci_low"] < 0 < primary.loc["white", "ci_high"]
    # the MDE sits beside the non-significant comparison and is consistent with its power
    white = primary.loc["white"]
    d = white["mde"] / white["unit_sd"]
    assert TTestPower().power(d, white["n_units"], white["mde_alpha"]) == pytest.approx(0.8, abs=1e-4)
    assert white["mde_alpha"] == pytest.approx(0.05 / white["family_size"])
    mixed = findings[(findings["kind"] == "mixed") & (findings["group"] == "black")].iloc[0]
    assert mixed["p"] < 0.001 and mixed["ci_low"] < -0.25


def test_corrections_are_per_test_over_the_family() -> None:
    spec = Synthetic(
        posts=20,
        groups=("black", "white"),
        conditions=("a", "b"),
        metrics=("ER", "EX"),
        peer_replies=2,
        seed=3,
    )
    for correction in ("holm", "fdr_bh"):
        findings = _analyse(
            tables(spec),
            AnalysisConfig(bootstrap=0, correction=correction, mixed_model=False),
            COUNTERFACTUAL,
            ("a", "b"),
        )
        paired_t = findings[findings["test"] == "paired_t"]
        assert set(paired_t["kind"]) == {"group_gap", "condition_gap", "responder_gap"}
        expected = multipletests(paired_t["p"].to_numpy(float), method=correction)[1]
        assert paired_t["p_adj"].to_numpy(float) == pytest.approx(expected)
        assert set(paired_t["family_size"]) == {len(paired_t)}
    per_kind = _analyse(
        tables(spec),
        AnalysisConfig(bootstrap=0, family="kind", mixed_model=False),
        COUNTERFACTUAL,
        ("a", "b"),
    )
    group_rows = per_kind[(per_kind["test"] == "paired_t") & (per_kind["kind"] == "group_gap")]
    assert group_rows["p_adj"].to_numpy(float) == pytest.approx(
        multipletests(group_rows["p"].to_numpy(float), method="holm")[1]
    )


def test_conditions_and_peers_are_compared_on_the_same_posts() -> None:
    spec = Synthetic(
        posts=25,
        groups=("black",),
        conditions=("mental_health_forum", "clinician"),
        condition_gaps={"clinician": 0.6},
        peer_replies=3,
        peer_gap=0.8,
        metrics=("ER",),
        seed=5,
    )
    findings = _analyse(
        tables(spec),
        AnalysisConfig(bootstrap=0, mixed_model=False),
        COUNTERFACTUAL,
        ("mental_health_forum", "clinician"),
    )
    condition = findings[(findings["kind"] == "condition_gap") & (findings["test"] == "paired_t")].iloc[0]
    assert (condition["condition"], condition["reference"]) == ("clinician", "mental_health_forum")
    assert condition["diff"] > 0.3 and bool(condition["significant"])
    peers = findings[(findings["kind"] == "responder_gap") & (findings["test"] == "paired_t")]
    assert set(peers["reference"]) == {"peer"} and peers["paired"].all()
    forum = peers[peers["condition"] == "mental_health_forum"].iloc[0]
    assert forum["diff"] < -0.5 and bool(forum["significant"])


def test_refusal_rates_by_group_use_fisher_exact() -> None:
    spec = Synthetic(posts=40, groups=("black", "white"), refusal={"black": 0.5}, metrics=("ER",), seed=8)
    t = tables(spec)
    findings = _analyse(t, AnalysisConfig(bootstrap=100, mixed_model=False), COUNTERFACTUAL)
    rate = findings[(findings["kind"] == "rate_gap") & (findings["group"] == "black")].iloc[0]
    data = t["responses"].merge(t["variants"][["variant_id", "race", "cue_kind"]], on="variant_id")
    black = data[data["race"] == "black"]
    control = data[data["cue_kind"] == "none"]
    refused = int((black["status"] == "refused").sum())
    expected = sps.fisher_exact([[refused, len(black) - refused], [0, len(control)]]).pvalue
    assert rate["test"] == "fisher" and rate["p"] == pytest.approx(expected)
    assert rate["mean"] == pytest.approx(refused / len(black)) and rate["ref_mean"] == 0
    assert bool(rate["significant"])


def test_findings_follow_the_schema() -> None:
    findings = _analyse(
        tables(Synthetic(posts=10, metrics=("ER",))), AnalysisConfig(bootstrap=0), COUNTERFACTUAL
    )
    assert list(findings.columns[: len(SCHEMAS["findings"])]) == list(SCHEMAS["findings"])
    assert conform("findings", findings).shape == findings.shape
    assert set(findings["kind"]) >= {"descriptive", "group_gap", "mixed", "guideline", "rate"}


def test_random_control_counts_each_reply_once_outside_group_comparisons() -> None:
    spec = Synthetic(
        design="observational", posts=40, groups=("black", "white"), peer_replies=2, metrics=("ER",), seed=12
    )
    t = tables(spec)
    demographics = DemographicsConfig(
        design="observational", probe="local:smollm2-135m", control="random", control_size=20
    )
    config = AnalysisConfig(bootstrap=0, reference="control")
    data = groups.build(t["responses"], t["variants"], t["inferences"], t["scores"], demographics, config, 7)
    assert data.responses["response_id"].duplicated().any()  # some posts are in a race group and the control
    findings = analyse(data, config, 7, ["forum"], t["variants"], t["inferences"], t["scores"].iloc[:0])
    unique = data.responses.drop_duplicates("response_id")
    peers = findings[(findings["kind"] == "responder_gap") & (findings["test"] == "paired_t")].iloc[0]
    assert peers["n"] == (unique["responder"] != "peer").sum()
    assert peers["ref_n"] == (unique["responder"] == "peer").sum()
    mixed = findings[(findings["kind"] == "mixed") & (findings["model"] == "local:model")]
    assert (mixed["n"] == (unique["responder"] == "local:model").sum()).all()
