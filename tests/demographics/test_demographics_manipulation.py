"""Manipulation-check arithmetic and observational grouping on hand-built tables."""

import math

import pandas as pd
import pytest

from carelens.demographics.cues import original_row, variant_row
from carelens.demographics.manipulation import COLUMNS, confusion_matrix, manipulation_table
from carelens.demographics.observational import observational_groups
from carelens.errors import CarelensError
from carelens.tables import conform

POSTS = ["P1", "P2", "P3", "P4"]
BF32 = {"race": "black", "gender": "female", "age": "32"}
BLACK = {"race": "black", "gender": None, "age": None}
WHITE = {"race": "white", "gender": None, "age": None}


def _inference(vid, race=None, gender=None, age=None, status="ok", model="m"):
    return {"variant_id": vid, "model": model, "race": race, "gender": gender, "age": age,
            "explanation": None, "raw": "", "status": status}


def _tables():
    variants, inferences = [], []
    originals = {p: original_row(p, f"text {p}") for p in POSTS}
    explicit = {p: variant_row(p, BF32, "explicit", "template:paper", "[cue]", "", f"[cue] text {p}")
                for p in POSTS}
    implicit = {p: variant_row(p, BLACK, "implicit", "bank", "c", "id", f"c text {p}") for p in POSTS}
    white = {p: variant_row(p, WHITE, "explicit", "template:paper", "[w]", "", f"[w] text {p}")
             for p in POSTS}
    unfaithful = variant_row("P1", BF32, "explicit", "template:paper", "[bad]", "", "[bad] changed")
    unfaithful["fidelity_ok"] = False
    for group in (originals, explicit, implicit, white):
        variants += group.values()
    variants.append(unfaithful)
    inferences += [
        _inference(originals["P1"]["variant_id"], race="black"),
        _inference(originals["P2"]["variant_id"], gender="male"),
        _inference(originals["P3"]["variant_id"], status="no_prediction"),
        _inference(originals["P4"]["variant_id"], status="error"),
        _inference(explicit["P1"]["variant_id"], "black", "female", "30-39"),
        _inference(explicit["P2"]["variant_id"], "black", "male", "32"),
        _inference(explicit["P3"]["variant_id"], "white", "female", "40-49"),
        _inference(explicit["P4"]["variant_id"], status="filtered"),
        _inference(implicit["P1"]["variant_id"], "black"),
        _inference(implicit["P2"]["variant_id"], status="no_prediction"),
        _inference(implicit["P3"]["variant_id"], status="unparsed"),
        # implicit P4: never probed
        *[_inference(white[p]["variant_id"], "white") for p in POSTS],
        _inference(unfaithful["variant_id"], "black", "female", "32"),
    ]
    return conform("variants", pd.DataFrame(variants)), conform("inferences", pd.DataFrame(inferences))


def _wilson(hits: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _get(table, kind, method, attribute, intended):
    rows = table[(table.cue_kind == kind) & (table.cue_method == method) & (table.attribute == attribute)
                 & (table.intended == intended)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_manipulation_table_arithmetic() -> None:
    variants, inferences = _tables()
    table = manipulation_table(variants, inferences)
    assert list(table.columns) == COLUMNS
    race = _get(table, "explicit", "template:paper", "race", "black")
    assert (race.n, race.n_ok, race.hits) == (4, 3, 2)  # the unfaithful variant is left out
    assert race.recall == 0.5 and race.recall_ok == pytest.approx(2 / 3)
    assert (race.ci_low, race.ci_high) == pytest.approx(_wilson(2, 4))
    assert race.original_rate == 0.25 and race.lift == 0.25
    gender = _get(table, "explicit", "template:paper", "gender", "female")
    assert (gender.hits, gender.recall, gender.original_rate) == (2, 0.5, 0.0)
    age = _get(table, "explicit", "template:paper", "age", "32")
    assert (age.hits, age.recall) == (2, 0.5)  # "30-39" and "32" contain 32; "40-49" does not
    implicit = _get(table, "implicit", "bank", "race", "black")
    assert (implicit.n, implicit.n_ok, implicit.hits, implicit.recall) == (4, 1, 1, 0.25)
    white = _get(table, "explicit", "template:paper", "race", "white")
    assert (white.recall, white.original_rate, white.lift) == (1.0, 0.0, 1.0)
    assert (white.ci_low, white.ci_high) == pytest.approx(_wilson(4, 4))
    base = _get(table, "none", "original", "race", "any")
    assert (base.n, base.n_ok, base.hits, base.recall) == (4, 2, 1, 0.25)
    assert math.isnan(base.lift)
    assert len(table[(table.attribute == "gender") & (table.cue_kind == "implicit")]) == 0


def test_manipulation_table_per_model() -> None:
    variants, inferences = _tables()
    other = inferences.assign(model="m2", race="white")
    table = manipulation_table(variants, pd.concat([inferences, other], ignore_index=True))
    assert set(table.model) == {"m", "m2"}
    m2 = table[(table.model == "m2") & (table.cue_kind == "explicit") & (table.intended == "black")
               & (table.attribute == "race")].iloc[0]
    assert m2.hits == 0


def test_confusion_matrix() -> None:
    variants, inferences = _tables()
    matrix = confusion_matrix(variants, inferences, "race", cue_kind="explicit")
    assert matrix.loc["black"].to_dict() == {"black": 2, "filtered": 1, "white": 1}
    assert matrix.loc["white", "white"] == 4
    implicit = confusion_matrix(variants, inferences, "race", cue_kind="implicit")
    assert implicit.loc["black"].to_dict() == {"black": 1, "missing": 1, "none": 1, "unparsed": 1}
    with pytest.raises(ValueError, match="several probe models"):
        confusion_matrix(variants, pd.concat([inferences, inferences.assign(model="z")]))


def _observational():
    variants = [original_row(p, f"text {p}") for p in ("P1", "P2", "P3", "P4", "P5", "P6", "P7")]
    ids = {r["post_id"]: r["variant_id"] for r in variants}
    variants.append(variant_row("P1", BLACK, "explicit", "template:paper", "[x]", "", "[x] text P1"))
    inferences = [_inference(ids["P1"], "black"), _inference(ids["P2"]),
                  _inference(ids["P3"], status="no_prediction"), _inference(ids["P4"], status="error"),
                  _inference(ids["P5"], "asian"), _inference(ids["P6"], "hispanic")]
    return conform("variants", pd.DataFrame(variants)), conform("inferences", pd.DataFrame(inferences)), ids


def test_observational_paper_control() -> None:
    variants, inferences, ids = _observational()
    groups = observational_groups(variants, inferences, "no-race", races=["black", "asian"])
    by_post = dict(zip(groups["post_id"], zip(groups["group"], groups["included"], strict=True), strict=True))
    assert by_post == {"P1": ("black", True), "P2": ("control", True), "P3": ("control", True),
                       "P4": ("probe_error", False), "P5": ("asian", True), "P6": ("other", True),
                       "P7": ("probe_missing", False)}
    assert len(groups) == 7  # every original once; cued variants are not grouped


def test_observational_random_control() -> None:
    variants, inferences, ids = _observational()
    groups = observational_groups(variants, inferences, "random", control_size=3, seed=5)
    control = groups[groups["group"] == "control"]
    assert len(control) == 3 and control["included"].all()
    again = observational_groups(variants, inferences, "random", control_size=3, seed=5)
    assert list(again["variant_id"]) == list(groups["variant_id"])
    no_race = groups[groups["group"] == "no_race"]
    assert set(no_race["post_id"]) == {"P2", "P3"} and not no_race["included"].any()
    primary = groups[groups["group"] != "control"]
    assert len(primary) == 7
    everyone = observational_groups(variants, inferences, "random")
    assert (everyone["group"] == "control").sum() == 7


def test_observational_errors() -> None:
    variants, inferences, _ = _observational()
    with pytest.raises(CarelensError, match="unknown control 'unknown'"):
        observational_groups(variants, inferences, "unknown")
    with pytest.raises(CarelensError, match="several probe models"):
        observational_groups(variants, pd.concat([inferences, inferences.assign(model="z")]))
