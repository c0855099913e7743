"""The empathy models: training on a subset, the model card, the scorer, the CLI."""

import hashlib
import json

import numpy as np
import pytest
from sklearn.model_selection import GroupShuffleSplit
from typer.testing import CliRunner

from carelens.datasets.epitome import MECHANISM_FILES
from carelens.datasets.fetch import dataset_file, sha256_file
from carelens.datasets.sources import EPITOME
from carelens.errors import CarelensError
from carelens.scoring import empathy
from carelens.scoring.commands import app
from carelens.scoring.empathy import EmpathyScorer
from carelens.scoring.empathy_models import MECHANISMS, FullModel, FullParams
from carelens.scoring.empathy_train import epitome_pairs, load_model, model_path, read_card, train_empathy
from carelens.scoring.settings import ScoringConfig

REPLIES = [
    "I'm so sorry, that sounds awful. How long have you felt this way?",
    "Same here lol",
    "I understand, I went through a breakup too and it took months to feel okay.",
]


def test_card_records_data_split_and_figures(small_fast_model):
    card = read_card(small_fast_model)
    files = [dataset_file(EPITOME, name) for name in MECHANISM_FILES.values()]
    digests = sorted((p.name, sha256_file(p)) for p in files)
    assert card["data"]["checksum"] == hashlib.sha256("".join(d for _, d in digests).encode()).hexdigest()
    pairs, _ = epitome_pairs(240, seed=card["seed"])
    train, test = next(
        GroupShuffleSplit(1, test_size=0.1, random_state=card["seed"]).split(pairs, groups=pairs["sp_id"])
    )
    assert not set(pairs["sp_id"].iloc[train]) & set(pairs["sp_id"].iloc[test])
    assert (card["split"]["train_pairs"], card["split"]["test_pairs"]) == (len(train), len(test))
    for mechanism in ("ER", "IP", "EX"):
        figures = card["heldout"][mechanism]
        matrix = np.array(figures["confusion_matrix"])
        assert matrix.sum() == len(test)
        assert figures["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
        precision = np.divide(np.diag(matrix), matrix.sum(0), out=np.zeros(3), where=matrix.sum(0) > 0)
        recall = np.divide(np.diag(matrix), matrix.sum(1), out=np.zeros(3), where=matrix.sum(1) > 0)
        f1 = np.divide(
            2 * precision * recall, precision + recall, out=np.zeros(3), where=precision + recall > 0
        )
        assert figures["macro_f1"] == pytest.approx(f1.mean())
        assert len(card["cv"][mechanism]["folds_accuracy"]) == 2
    markdown = (small_fast_model / "card.md").read_text(encoding="utf-8")
    assert "| Emotional Reactions (ER) |" in markdown and "0.808 / 0.787" in markdown


def test_scorer_levels_do_not_depend_on_batch_mates(small_fast_model):
    scorer = EmpathyScorer.from_config(ScoringConfig(empathy_model=str(small_fast_model)))
    assert scorer.name == "empathy-fast-w64" and scorer.card_path == small_fast_model / "card.json"
    levels = list(MECHANISMS)
    together = scorer.score([("post", r) for r in REPLIES])[levels]
    alone = [scorer.score([("post", r)])[levels].iloc[0].tolist() for r in REPLIES]
    assert together.to_numpy().tolist() == alone
    assert set(np.unique(together.to_numpy())) <= {0.0, 1.0, 2.0}


def test_truncation_must_match_the_model(small_fast_model):
    with pytest.raises(CarelensError, match="scoring.truncate_tokens: is 64 but the model"):
        EmpathyScorer.from_config(ScoringConfig(empathy_model=str(small_fast_model), truncate_tokens=64))


def test_missing_model_folder_is_an_error(tmp_path):
    with pytest.raises(CarelensError, match="scoring.empathy_model"):
        EmpathyScorer.from_config(ScoringConfig(empathy_model=str(tmp_path)))


def test_first_use_trains_and_caches_the_model(cache_dir, monkeypatch):
    calls = []

    def quick(variant, **kwargs):
        calls.append((variant, kwargs))
        return train_empathy(variant, truncate_tokens=kwargs["truncate_tokens"], limit=150, cv_folds=0)

    monkeypatch.setattr(empathy, "train_empathy", quick)
    with pytest.raises(CarelensError, match="truncate_tokens: the span variant .* cannot be truncated"):
        EmpathyScorer.from_config(ScoringConfig(truncate_tokens=64))  # the default variant reads sentences
    config = ScoringConfig(truncate_tokens=64, empathy_variant="fast")
    scorer = EmpathyScorer.from_config(config)
    assert scorer.name == "empathy-fast-t64-w64"
    assert (model_path("fast", 64) / "card.json").exists() and str(cache_dir) in str(scorer.card_path)
    EmpathyScorer.from_config(config)  # cached now: no second training
    assert calls == [("fast", {"truncate_tokens": 64, "cv_folds": 5})]


def test_full_variant_trains_saves_and_reloads(tmp_path):
    params = FullParams(epochs=1, batch_size=16, max_tokens=32)
    folder = train_empathy("full", limit=40, cv_folds=0, params=params, target=tmp_path / "empathy-full")
    model, card = load_model(folder)
    assert isinstance(model, FullModel) and card["variant"] == "full" and card["cv"] is None
    assert card["hyperparameters"]["max_tokens"] == 32
    long_reply = "I hear you. " * 60  # several 32-piece windows
    probs = model.predict_proba(REPLIES + [long_reply])
    assert probs.shape == (4, 3, 3) and np.allclose(probs.sum(-1), 1)
    again, _ = load_model(folder)
    assert np.allclose(again.predict_proba(REPLIES + [long_reply]), probs)


def test_cli_trains_prints_the_card_and_rejects_unknown_models(cache_dir):
    runner = CliRunner()
    result = runner.invoke(
        app, ["train", "empathy", "--variant", "fast", "--limit", "150", "--cv-folds", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "# Model card: empathy-fast" in result.output
    card = json.loads((cache_dir / "models" / "empathy-fast-v2" / "card.json").read_text())
    assert card["data"]["limit"] == 150
    shown = runner.invoke(app, ["card", "empathy", "--variant", "fast"])
    assert shown.exit_code == 0 and "# Model card: empathy-fast" in shown.output
    for args, message in (
        (["train", "sentiment"], "MODEL: unknown model 'sentiment'; allowed: empathy"),
        (["train", "empathy", "--variant", "huge"], "--variant: unknown variant 'huge'"),
        (["card", "empathy", "--variant", "full"], "no trained model"),
    ):
        failed = runner.invoke(app, args)
        assert isinstance(failed.exception, CarelensError) and message in str(failed.exception)
