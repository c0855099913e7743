"""Fidelity checks: exact-diff, similarity, length, rewrite retention; failures flagged, never dropped."""

import numpy as np
import pandas as pd
import pytest
from demographics_fixtures import POSTS, hashed_embed

from carelens.demographics.cues import original_row, variant_row
from carelens.demographics.fidelity import check_fidelity, only_cue_added, retained_share
from carelens.demographics.settings import DemographicsConfig

CELL = {"race": "black", "gender": None, "age": None}
CUE = "My mama be telling me to just pray on it."


def test_only_cue_added() -> None:
    text = POSTS["p1"]
    assert only_cue_added(text, CUE + " " + text, CUE) is None
    edited = text.replace("weeks", "days") + " " + CUE
    assert only_cue_added(text, edited, CUE) == "text other than the cue changed"
    assert only_cue_added(text, CUE + " " + CUE + " " + text, CUE) == "cue appears 2 times"
    assert only_cue_added(text, text, CUE) == "cue appears 0 times"
    assert "already in the post" in only_cue_added(CUE + " x", CUE + " " + CUE + " x", CUE)
    # whitespace around the cue is allowed, nowhere else
    assert only_cue_added("A. B.", "A.\n\nCUE B.", "CUE") is None
    assert only_cue_added("A. B.", "A.  CUE B.", "CUE") is None
    assert only_cue_added("A. B.", "A.CUE B .", "CUE") is not None


def test_retained_share() -> None:
    assert retained_share("one two three four", "one two extra three four") == 1.0
    assert retained_share("one two three four", "one three") == 0.5


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows)


def test_check_fidelity_flags_and_keeps_failures() -> None:
    text = POSTS["p1"]
    config = DemographicsConfig(min_similarity=0.5, max_length_change=0.5, min_retained=0.9)
    good = variant_row("p1", CELL, "implicit", "bank", CUE, "x", CUE + " " + text)
    edited = variant_row("p1", CELL, "implicit", "bank", CUE, "x", CUE + " " + text.replace("work", "school"))
    long = variant_row("p1", CELL, "explicit", "template:custom", "x " * 80, "", "x " * 80 + text)
    woven = text.replace("weeks.", "weeks, and my mama be telling me to just pray on it.")
    rewrite_ok = variant_row("p1", CELL, "implicit", "rewrite:m", CUE, "x", woven)
    rewrite_lost = variant_row("p1", CELL, "implicit", "rewrite:m", CUE, "x", "I can't sleep. " + CUE)
    failed_call = variant_row("p1", CELL, "implicit", "rewrite:m", CUE, "x", "")
    failed_call.update(fidelity_ok=False, fidelity_note="rewrite filtered:")
    orphan = variant_row("p9", CELL, "explicit", "template:paper", "[black] --", "", "[black] -- hi")
    rows = [original_row("p1", text), good, edited, long, rewrite_ok, rewrite_lost, failed_call, orphan]
    out = check_fidelity(_frame(rows), {"p1": text}, config, embed=hashed_embed)
    assert len(out) == len(rows)
    ok = dict(zip(out["variant_id"], out["fidelity_ok"], strict=True))
    note = dict(zip(out["variant_id"], out["fidelity_note"], strict=True))
    assert ok[rows[0]["variant_id"]] and out.loc[0, "similarity"] == 1.0
    assert ok[good["variant_id"]] and note[good["variant_id"]] == ""
    assert not ok[edited["variant_id"]] and note[edited["variant_id"]] == "text other than the cue changed"
    assert not ok[long["variant_id"]] and "length change" in note[long["variant_id"]]
    assert ok[rewrite_ok["variant_id"]], note[rewrite_ok["variant_id"]]
    assert not ok[rewrite_lost["variant_id"]] and "words kept" in note[rewrite_lost["variant_id"]]
    assert not ok[failed_call["variant_id"]]
    assert note[failed_call["variant_id"]] == "rewrite filtered:; variant has no text"
    assert not ok[orphan["variant_id"]] and note[orphan["variant_id"]] == "original post not found"


def test_similarity_threshold_uses_the_embedding() -> None:
    text = POSTS["p4"]
    unrelated = "Completely different words about gardening tomatoes and fixing bicycles on sunny weekends."
    rows = [variant_row("p4", CELL, "implicit", "bank", unrelated, "x", text + " " + unrelated)]
    loose_config = DemographicsConfig(min_similarity=0.1, max_length_change=5.0)
    strict_config = DemographicsConfig(min_similarity=0.9, max_length_change=5.0)
    loose = check_fidelity(_frame(rows), {"p4": text}, loose_config, hashed_embed)
    strict = check_fidelity(_frame(rows), {"p4": text}, strict_config, hashed_embed)
    expected = float(np.dot(*hashed_embed([text, text + " " + unrelated])))
    assert loose.loc[0, "similarity"] == pytest.approx(expected, abs=1e-6)
    assert bool(loose.loc[0, "fidelity_ok"]) and not bool(strict.loc[0, "fidelity_ok"])
    assert strict.loc[0, "fidelity_note"].startswith("similarity ")


def test_real_encoder_keeps_a_cued_post_close() -> None:
    text = POSTS["p1"] + " " + POSTS["p4"]
    rows = [variant_row("p1", CELL, "implicit", "bank", CUE, "x", CUE + " " + text),
            variant_row("p1", CELL, "implicit", "bank", "x", "x", "x Bananas are yellow, sold in bunches.")]
    out = check_fidelity(_frame(rows), {"p1": text}, DemographicsConfig())
    assert out.loc[0, "similarity"] > DemographicsConfig().min_similarity and bool(out.loc[0, "fidelity_ok"])
    assert out.loc[1, "similarity"] < 0.3 and not bool(out.loc[1, "fidelity_ok"])
