"""The EPITOME empathy scorer: ER, IP and EX levels (0 none, 1 weak, 2 strong) of a response.

Emotional Reactions (warmth, compassion, concern), Interpretations (communicating an understanding
of the seeker's feelings and experiences) and Explorations (probing those experiences), after
Sharma et al. (2020). The classifier is trained locally from EPITOME (``carelens models train
empathy``); the first use trains it automatically when no model is cached. The scorer's name
(``empathy-fast`` or ``empathy-full``, ``-t64`` when truncated) goes into the scores table so a
report can say which model scored; ``card_path`` is its model card.
"""

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from carelens.errors import CarelensError
from carelens.progress import console
from carelens.scoring.base import Pair
from carelens.scoring.empathy_models import MECHANISMS
from carelens.scoring.empathy_train import load_model, model_path, train_empathy
from carelens.scoring.settings import ScoringConfig


def resolve_model(config: ScoringConfig) -> Path:
    """The model folder for this config, training it first when the cache has none."""
    if config.empathy_model:
        folder = Path(config.empathy_model).expanduser()
        if not (folder / "card.json").exists():
            raise CarelensError(
                "no trained empathy model (card.json) in this folder",
                where=f"scoring.empathy_model = {folder}",
            )
        return folder
    folder = model_path(config.empathy_variant, config.truncate_tokens)
    if not (folder / "card.json").exists():
        console.print(
            f"[bold]No cached empathy model at {folder}: training the {config.empathy_variant} "
            "variant once (run `carelens models train empathy` to do this ahead).[/bold]"
        )
        # The full variant's cross-validation takes several trainings; `models train` runs it.
        train_empathy(
            config.empathy_variant,
            truncate_tokens=config.truncate_tokens,
            cv_folds=5 if config.empathy_variant == "fast" else 0,
        )
    return folder


class EmpathyScorer:
    """Predicted ER, IP and EX levels of each response (the post is not used by the model)."""

    metrics = MECHANISMS

    def __init__(self, config: ScoringConfig) -> None:
        folder = resolve_model(config)
        self.model, self.card = load_model(folder)
        trained_with = self.card.get("truncate_tokens")
        if config.truncate_tokens is not None and config.truncate_tokens != trained_with:
            raise CarelensError(
                f"is {config.truncate_tokens} but the model in {folder} was trained with "
                f"truncate_tokens={trained_with}",
                where="scoring.truncate_tokens",
            )
        self.name: str = self.card["model"]
        self.card_path = folder / "card.json"

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        levels = self.model.predict_proba([response for _, response in pairs]).argmax(-1)
        return pd.DataFrame(levels.astype(float), columns=list(MECHANISMS))
