"""Comparisons: the numbers each test used, the paper's row, corrections, power, and known effects found."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

from carelens.analysis import groups
from carelens.analysis.results import analyse
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
) -> dict[str, pd.DataFrame]:
    data = groups.build(t["responses"], t["variants"], t["inferences"], t["scores"], demographics, config, 7)
    out, _ = analyse(data, config, 7, list(conditions), t["variants"], t["inferences"], t["scores"].iloc[:0])
    return out


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
    found = _analyse(t, AnalysisConfig(bootstrap=200, mixed_model=False), COUNTERFACTUAL)["comparisons"]
    rows = found[found["kind"] == "group_gap"].set_index("test")
    assert set(rows.index) == {"paired_t", "wilcoxon", "permutation", "student_t_paper"}
    t_row = rows.loc["paired_t"]
    assert (t_row["group"], t_row["reference"], t_row["stratum"]) == ("black", "control", "explicit")
    assert t_row["mean"] == pytest.approx(cued.mean()) and t_row["ref_mean"] == pytest.approx(control.mean())
    assert t_row["estimate"] == pytest.approx(cued.mean() - control.mean())
    assert t_row["pct_diff"] == pytest.approx(100 * (cued.mean() - control.mean()) / control.mean())
    assert t_row["p"] == pytest.approx(sps.ttest_rel(cued, control).pvalue)
    diff = cued - control
    assert t_row["effect"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert (t_row["n_posts"], t_row["n_responses"], t_row["ref_n_responses"], bool(t_row["paired"])) == (
        5,
        10,
        10,
        True,
    )
    assert bool(t_row["primary"]) and not bool(rows.loc["wilcoxon", "primary"])
    assert rows.loc["wilcoxon", "effect_name"] == "rank_biserial"
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
    assert (paper["unit"], bool(paper["primary"])) == ("response", False)
    assert t_row["estimate_ci_low"] <= t_row["estimate"] <= t_row["estimate_ci_high"]


def test_independent_groups_compare_post_means() -> None:
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
    config = AnalysisConfig(group_by="paper_race", reference="white", bootstrap=100, mixed_model=False)
    found = _analyse(t, config, DemographicsConfig())["comparisons"]
    welch = found[(found["kind"] == "group_gap") & (found["test"] == "welch_t")].iloc[0]
    units = frame.groupby(["race", "post_id"])["value"].mean()
    black, white = units.loc["black"].to_numpy(), units.loc["white"].to_numpy()
    assert welch["p"] == pytest.approx(sps.ttest_ind(black, white, equal_var=False).pvalue)
    assert welch["mean"] == pytest.approx(black.mean())
    assert (welch["n_posts"], welch["ref_n_posts"], bool(welch["paired"])) == (15, 25, False)
    mw = found[(found["kind"] == "group_gap") & (found["test"] == "mann_whitney")].iloc[0]
    assert mw["effect"] == pytest.approx(np.mean([np.sign(a - b) for a in black for b in white]))
    replies = frame.set_index("race")["value"]
    paper = found[(found["kind"] == "group_gap") & (found["test"] == "student_t_paper")].iloc[0]
    assert paper["p"] == pytest.approx(sps.ttest_ind(replies.loc["black"], replies.loc["white"]).pvalue)


def test_descriptives_summarise_post_means_within_the_scale() -> None:
    t, cued, control = _hand_paired_run()
    out = _analyse(t, AnalysisConfig(bootstrap=0, mixed_model=False), COUNTERFACTUAL)
    described = out["descriptives"][out["descriptives"]["metric"] == "ER"].set_index("group")
    black = described.loc["black"]
    assert (black["n_responses"], black["n_posts"]) == (10, 5)
    assert black["mean"] == pytest.approx(cued.mean())
    assert black["sd"] == pytest.approx(cued.std(ddof=1))
    half = sps.t.ppf(0.975, 4) * cued.std(ddof=1) / np.sqrt(5)
    assert (black["ci_low"], black["ci_high"]) == (
        pytest.approx(max(0.0, cued.mean() - half)),
        pytest.approx(cued.mean() + half),
    )
    assert black["ci_low"] >= 0 and black["scale_low"] == 0 and black["scale_high"] == 2
    rates = out["descriptives"][out["descriptives"]["metric"] == "rate_refused"]
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
    out = _analyse(tables(spec), AnalysisConfig(bootstrap=300), COUNTERFACTUAL)
    found = out["comparisons"]
    primary = found[(found["kind"] == "group_gap") & found["primary"].fillna(False).astype(bool)]
    primary = primary.set_index("group")
    assert bool(primary.loc["black", "significant"]) and primary.loc["black", "estimate"] < -0.25
    assert not bool(primary.loc["white", "significant"])
    assert primary.loc["white", "ci_low"] < 0 < primary.loc["white", "ci_high"]
    # the MDE sits beside the non-significant comparison and is consistent with its power
    white = primary.loc["white"]
    d = white["mde"] / white["unit_sd"]
    alpha = 0.05 / white["family_size"]
    assert TTestPower().power(d, white["n_posts"], alpha) == pytest.approx(0.8, abs=1e-4)
    models = out["models"]
    mixed = models[(models["group"] == "black") & (models["term_kind"] == "group_main")].iloc[0]
    assert mixed["p"] < 0.001 and mixed["ci_low"] < -0.25


def test_correction_families_per_kind() -> None:
    spec = Synthetic(
        posts=20,
        groups=("black", "white"),
        conditions=("a", "b"),
        metrics=("ER", "EX"),
        peer_replies=2,
        seed=3,
    )
    for correction in ("holm", "fdr_bh"):
        found = _analyse(
            tables(spec),
            AnalysisConfig(bootstrap=0, correction=correction, family="kind", mixed_model=False),
            COUNTERFACTUAL,
            ("a", "b"),
        )["comparisons"]
        for kind in ("group_gap", "condition_gap", "responder_gap"):
            rows = found[(found["test"] == "paired_t") & (found["kind"] == kind)]
            expected = multipletests(rows["p"].to_numpy(float), method=correction)[1]
            assert rows["p_adj"].to_numpy(float) == pytest.approx(expected)
            assert set(rows["family_size"]) == {len(rows)}
            assert set(rows["family"]) == {
                f"every primary post-level test of kind {kind} ({len(rows)} tests)"
            }


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
    found = _analyse(
        tables(spec),
        AnalysisConfig(bootstrap=0, mixed_model=False),
        COUNTERFACTUAL,
        ("mental_health_forum", "clinician"),
    )["comparisons"]
    condition = found[(found["kind"] == "condition_gap") & (found["test"] == "paired_t")].iloc[0]
    assert (condition["condition"], condition["reference"]) == ("clinician", "mental_health_forum")
    assert condition["estimate"] > 0.3 and bool(condition["significant"])
    peers = found[(found["kind"] == "responder_gap") & (found["test"] == "paired_t")]
    assert set(peers["reference"]) == {"peer"} and peers["paired"].all()
    forum = peers[peers["condition"] == "mental_health_forum"].iloc[0]
    assert forum["estimate"] < -0.5 and bool(forum["significant"])


def test_tables_follow_their_schemas() -> None:
    out = _analyse(tables(Synthetic(posts=10, metrics=("ER",))), AnalysisConfig(bootstrap=0), COUNTERFACTUAL)
    for name in ("assignments", "descriptives", "comparisons", "models", "verdicts"):
        assert list(out[name].columns[: len(SCHEMAS[name])]) == list(SCHEMAS[name])
        assert conform(name, out[name]).shape == out[name].shape
    assert set(out["comparisons"]["kind"]) >= {"group_gap"}


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
    out, _ = analyse(data, config, 7, ["forum"], t["variants"], t["inferences"], t["scores"].iloc[:0])
    unique = data.responses.drop_duplicates("response_id")
    found = out["comparisons"]
    peers = found[(found["kind"] == "responder_gap") & (found["test"] == "paired_t")].iloc[0]
    assert peers["n_responses"] == (unique["responder"] != "peer").sum()
    assert peers["ref_n_responses"] == (unique["responder"] == "peer").sum()
    mixed = out["models"][out["models"]["responder"] == "local:model"]
    assert (mixed["n_responses"] == (unique["responder"] == "local:model").sum()).all()
