"""Group assignment per design, exclusions that are counted, and the paper's scores lifted from meta."""

import json

import pandas as pd
import pytest

from carelens.analysis import groups
from carelens.analysis.settings import AnalysisConfig
from carelens.demographics.settings import DemographicsConfig
from carelens.ids import original_variant_id
from carelens.tables import conform, empty_table


def _variant(vid: str, pid: str, race: str | None, gender: str | None, kind: str, ok: bool = True) -> dict:
    return {
        "variant_id": vid,
        "post_id": pid,
        "race": race,
        "gender": gender,
        "age": "32",
        "cue_kind": kind,
        "cue": "",
        "text": vid,
        "fidelity_ok": ok,
        "fidelity_note": "",
        "defects": "",
    }


def _response(
    rid: str, vid: str, pid: str, responder: str = "m", status: str = "ok", meta: dict | None = None
) -> dict:
    return {
        "response_id": rid,
        "variant_id": vid,
        "post_id": pid,
        "responder": responder,
        "condition": "forum",
        "sample": 0,
        "text": "reply",
        "status": status,
        "meta": json.dumps(meta or {}),
    }


def _scores(response_ids: list[str], value: float = 1.0) -> pd.DataFrame:
    return conform(
        "scores", pd.DataFrame({"response_id": response_ids, "scorer": "s", "metric": "ER", "value": value})
    )


def test_counterfactual_groups_strata_and_counted_exclusions() -> None:
    original = original_variant_id("p1")
    variants = conform(
        "variants",
        pd.DataFrame(
            [
                _variant(original, "p1", None, None, "none"),
                _variant("v-bf", "p1", "black", "female", "explicit"),
                _variant("v-wm", "p1", "white", "male", "implicit"),
                _variant("v-bad", "p1", "black", "male", "explicit", ok=False),
            ]
        ),
    )
    responses = conform(
        "responses",
        pd.DataFrame(
            [
                _response("r0", original, "p1"),
                _response("r1", "v-bf", "p1"),
                _response("r2", "v-wm", "p1"),
                _response("r3", "v-bad", "p1"),
                _response("r4", "v-unknown", "p1"),
                _response("r5", "v-bf", "p1", status="refused"),
            ]
        ),
    )
    scores = _scores(["r0", "r1", "r2", "r3", "r4"])
    demographics = DemographicsConfig(design="counterfactual", races=["black", "white"])
    data = groups.build(
        responses, variants, empty_table("inferences"), scores, demographics, AnalysisConfig(), 1
    )
    assigned = data.responses.set_index("response_id")[["stratum", "group"]].to_dict("index")
    assert assigned == {
        "r0": {"stratum": "none", "group": "control"},
        "r1": {"stratum": "explicit", "group": "black/female"},
        "r2": {"stratum": "implicit", "group": "white/male"},
        "r5": {"stratum": "explicit", "group": "black/female"},
    }
    reasons = data.assignments.set_index("response_id")["reason"].to_dict()
    assert reasons == {
        "r0": "",
        "r1": "",
        "r2": "",
        "r3": "its variant failed the fidelity check",
        "r4": "its variant is not in the variants table",
        "r5": "status refused (counted in its rate)",
    }
    assert data.assignments.set_index("response_id")["analysed"].to_dict() == {
        r: reasons[r] == "" for r in reasons
    }
    assert data.counts["its variant failed the fidelity check"] == 1
    assert sorted(data.observations["response_id"]) == ["r0", "r1", "r2"]
    assert data.strata == ["explicit", "implicit"]


def test_observational_groups_come_from_the_probe_with_unread_posts_counted_out() -> None:
    variants = conform(
        "variants",
        pd.DataFrame([_variant(original_variant_id(p), p, None, None, "none") for p in ("p1", "p2", "p3")]),
    )
    inferences = conform(
        "inferences",
        pd.DataFrame(
            [
                {
                    "variant_id": original_variant_id("p1"),
                    "model": "probe",
                    "race": "black",
                    "gender": None,
                    "age": None,
                    "explanation": "",
                    "raw": "",
                    "status": "ok",
                },
                {
                    "variant_id": original_variant_id("p2"),
                    "model": "probe",
                    "race": None,
                    "gender": None,
                    "age": None,
                    "explanation": "",
                    "raw": "",
                    "status": "no_prediction",
                },
                {
                    "variant_id": original_variant_id("p3"),
                    "model": "probe",
                    "race": None,
                    "gender": None,
                    "age": None,
                    "explanation": "",
                    "raw": "",
                    "status": "refused",
                },
            ]
        ),
    )
    responses = conform(
        "responses", pd.DataFrame([_response(f"r{p}", original_variant_id(p), p) for p in ("p1", "p2", "p3")])
    )
    demographics = DemographicsConfig(design="observational", probe="local:smollm2-135m")
    data = groups.build(
        responses, variants, inferences, _scores(["rp1", "rp2", "rp3"]), demographics, AnalysisConfig(), 1
    )
    assert dict(zip(data.responses["post_id"], data.responses["group"], strict=True)) == {
        "p1": "black",
        "p2": "control",
    }
    outside = data.assignments[~data.assignments["analysed"]]
    assert list(outside["reason"]) == ["its post is in no compared group (probe_refused)"]
    assert "probe" in data.group_source


def test_group_by_meta_key_groups_every_reply_to_the_post() -> None:
    responses = conform(
        "responses",
        pd.DataFrame(
            [
                _response("g1", "v", "p1", "recorded:gpt-4", meta={"paper_race": "Black"}),
                _response("peer1", "v", "p1", "peer"),
                _response("peer2", "v", "p2", "peer"),
                _response("bad", "v", "p2", "peer") | {"meta": "not json"},
            ]
        ),
    )
    config = AnalysisConfig(group_by="paper_race", reference="white")
    demographics = DemographicsConfig()
    data = groups.build(
        responses,
        empty_table("variants"),
        empty_table("inferences"),
        _scores(["g1", "peer1", "peer2"]),
        demographics,
        config,
        1,
    )
    assert dict(zip(data.assignments["response_id"], data.assignments["group"], strict=True)) == {
        "g1": "black",
        "peer1": "black",
        "peer2": "control",
        "bad": "control",
    }
    assert data.reference == "white" and data.design == "observational"
    assert data.counts["responses_unreadable_meta"] == 1


def test_no_design_puts_everything_in_one_group() -> None:
    responses = conform("responses", pd.DataFrame([_response("r1", "v", "p1")]))
    data = groups.build(
        responses,
        empty_table("variants"),
        empty_table("inferences"),
        _scores(["r1"]),
        DemographicsConfig(),
        AnalysisConfig(),
        1,
    )
    assert data.reference == "all" and set(data.responses["group"]) == {"all"}


def test_rate_observations_are_zero_one_per_status() -> None:
    responses = conform(
        "responses", pd.DataFrame([_response("a", "v", "p"), _response("b", "v", "p", status="filtered")])
    )
    data = groups.build(
        responses,
        empty_table("variants"),
        empty_table("inferences"),
        _scores(["a"]),
        DemographicsConfig(),
        AnalysisConfig(),
        1,
    )
    rates = groups.rate_observations(data).set_index(["response_id", "metric"])["value"]
    assert rates[("b", "rate_filtered")] == 1.0 and rates[("a", "rate_filtered")] == 0.0
    assert rates[("b", "rate_refused")] == 0.0


def test_all_is_derived_only_where_er_ip_and_ex_are_all_scored() -> None:
    rows = [("a", "s", m, v) for m, v in (("ER", 2.0), ("IP", 1.0), ("EX", 0.0))]
    rows += [("b", "s", "ER", 1.0), ("b", "s", "IP", 1.0)]  # no EX: no ALL
    rows += [("a", "recorded:paper", f"paper_{m}", 1.0) for m in ("ER", "IP", "EX")]
    scores = pd.DataFrame(rows, columns=["response_id", "scorer", "metric", "value"])
    derived, described = groups.derive_all(scores)
    values = derived.set_index(["response_id", "metric"])["value"].to_dict()
    assert values == {("a", "ALL"): 1.0, ("a", "paper_ALL"): 1.0}
    assert set(described) == {"ALL", "paper_ALL"}


@pytest.mark.parametrize("metrics, expected", [(None, {"ER"}), (["ER"], {"ER"}), (["other"], set())])
def test_metric_selection(metrics: list[str] | None, expected: set[str]) -> None:
    responses = conform("responses", pd.DataFrame([_response("r1", "v", "p1")]))
    data = groups.build(
        responses,
        empty_table("variants"),
        empty_table("inferences"),
        _scores(["r1"]),
        DemographicsConfig(),
        AnalysisConfig(metrics=metrics),
        1,
    )
    assert set(data.metrics()) == expected
