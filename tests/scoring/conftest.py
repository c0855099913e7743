"""Shared fixtures for the scoring tests: small empathy models trained once per session."""

from pathlib import Path

import pytest

from carelens.scoring.empathy_train import train_empathy


@pytest.fixture(scope="session")
def small_fast_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fast empathy model trained on about 240 EPITOME pairs with 2-fold CV (a few seconds)."""
    folder = tmp_path_factory.mktemp("models") / "empathy-fast"
    return train_empathy("fast", limit=240, cv_folds=2, target=folder)


@pytest.fixture(scope="session")
def small_span_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A span empathy model (the default variant) trained on about 240 EPITOME pairs with 2-fold CV."""
    folder = tmp_path_factory.mktemp("models") / "empathy-span"
    return train_empathy("span", limit=240, cv_folds=2, target=folder)
