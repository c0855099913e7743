"""The LLM-reply calibration of the empathy scorer: a prior shift fitted on a development set that
shares no post with the frozen validation set."""

import json
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from carelens.errors import CarelensError
from carelens.scoring import empathy_calibration as calibration
from carelens.scoring.empathy_llm_set import SET_PATH

SHIPPED = ("empathy-span-w64", "empathy-fast-w64")  # the calibrations carelens ships


def test_reweighting_with_unit_weights_changes_nothing_and_rows_stay_distributions():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(3), size=(40, 3))
    assert np.allclose(calibration.reweight(proba, np.ones((3, 3))), proba)
    shifted = calibration.reweight(proba, np.array([[1.0, 2.0, 5.0]] * 3))
    assert np.allclose(shifted.sum(-1), 1.0) and (shifted[..., 2] >= proba[..., 2] - 1e-12).all()


def test_fit_recovers_a_prior_shift_and_improves_agreement():
    rng = np.random.default_rng(7)
    texts, per_text = 150, 1
    proba = rng.dirichlet(np.ones(3), size=(texts * per_text, 3))
    owner = np.repeat(np.arange(texts), per_text)
    true_weights = np.array([[1.0, 1.0, 1.0], [1.0, 0.5, 3.0], [1.0, 2.0, 0.5]])
    truth = np.stack(
        [calibration._levels(proba[:, j, :] * true_weights[j], owner, texts) for j in range(3)], axis=1
    )
    weights, figures = calibration.fit(proba, owner, truth)
    for j, mechanism in enumerate(("ER", "IP", "EX")):
        fitted = calibration._levels(proba[:, j, :] * weights[j], owner, texts)
        kappa = cohen_kappa_score(truth[:, j], fitted, labels=[0, 1, 2])
        assert figures[mechanism]["kappa_after"] == pytest.approx(kappa, abs=1e-3)
        assert figures[mechanism]["kappa_after"] >= figures[mechanism]["kappa_before"]
    assert np.allclose(weights[0], 1.0)  # no shift where none was needed (ties go to 1)
    assert figures["IP"]["kappa_after"] > 0.9 and figures["IP"]["kappa_before"] < 0.6
    assert np.allclose(weights[1, 1:], [0.5, 3.0], rtol=0.2)  # the grid point next to the true shift


def test_weights_that_do_not_help_out_of_sample_are_dropped(monkeypatch):
    monkeypatch.setattr(calibration, "GRID", np.exp(np.linspace(-2.0, 2.0, 9)))  # coarse: quick
    rng = np.random.default_rng(3)
    texts = 120
    proba = rng.dirichlet(np.ones(3), size=(texts, 3))
    owner = np.arange(texts)
    truth = np.stack(  # ER and EX: the model is right, nothing to gain; IP: a real shift
        [
            calibration._levels(proba[:, 0, :], owner, texts),
            calibration._levels(proba[:, 1, :] * np.array([1.0, 0.3, 4.0]), owner, texts),
            calibration._levels(proba[:, 2, :], owner, texts),
        ],
        axis=1,
    )
    fitted, _ = calibration.fit(proba, owner, truth)
    kept, figures = calibration.keep_where_it_generalises(fitted, proba, owner, truth)
    assert [figures[m]["kept"] for m in ("ER", "IP", "EX")] == [False, True, False]
    assert np.allclose(kept[[0, 2]], 1.0) and np.allclose(kept[1], fitted[1])


def test_the_development_set_shares_no_reply_or_post_with_the_frozen_set():
    dev = pd.read_csv(calibration.DEV_PATH, dtype=str)
    frozen = pd.read_csv(SET_PATH, dtype=str)
    assert len(dev) >= 150 and dev["response_id"].is_unique
    assert not set(dev["response_id"]) & set(frozen["response_id"])
    for mechanism in ("ER", "IP", "EX"):
        assert set(dev[mechanism]) <= {"0", "1", "2"}
    for scorer in SHIPPED:
        card = json.loads(calibration.calibration_path(scorer).read_text())
        assert card["model"] == scorer and card["dev_set"]["replies"] == len(dev)
    if os.environ.get("CARELENS_DATA_MIRROR"):
        from carelens.datasets.mh_eval import parse_gpt4

        post_of = parse_gpt4().responses.set_index("response_id")["post_id"]
        assert not set(post_of.loc[dev["response_id"]]) & set(post_of.loc[frozen["response_id"]])


def test_a_calibration_file_for_another_model_is_refused(tmp_path):
    card = json.loads(calibration.calibration_path("empathy-span-w64").read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps(card | {"model_fingerprint": "0" * 16}))  # retrained on other data
    from carelens.scoring.empathy import EmpathyScorer

    with pytest.raises(CarelensError, match="scoring.options.empathy.calibration"):
        EmpathyScorer(calibration=str(other))
    assert EmpathyScorer(calibration="none").name == card["model"]
    assert EmpathyScorer().name == card["model"] + "-llmcal"
    assert not EmpathyScorer(window_words=None).name.endswith("-llmcal")  # fitted for windows only
    broken = tmp_path / "broken.json"
    broken.write_text('{"weights": {"ER": [1, 1]}}')
    with pytest.raises(CarelensError, match="empathy calibration"):
        calibration.load_calibration(broken)
