"""The EPITOME empathy scorer: ER, IP and EX levels (0 none, 1 weak, 2 strong) of a response.

Emotional Reactions (warmth, compassion, concern), Interpretations (communicating an understanding
of the seeker's feelings and experiences) and Explorations (probing those experiences), after
Sharma et al. (2020). The classifier is trained locally from EPITOME (``carelens models train
empathy``); the first use trains it automatically when no model is cached. The scorer's name
(``empathy-span-w64-llmcal``: the model, ``-t64`` when truncated, the window size of the scoring rule
and ``-llmcal`` when the LLM-reply calibration applies)
goes into the scores table so a report can say which model scored; ``card_path`` is its model card.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from carelens.errors import CarelensError
from carelens.progress import console
from carelens.scoring.base import BaseScorer, Pair
from carelens.scoring.empathy_calibration import calibration_path, fingerprint, load_calibration, reweight
from carelens.scoring.empathy_models import MECHANISMS
from carelens.scoring.empathy_spans import SpanModel
from carelens.scoring.empathy_train import DEFAULT_VARIANT, load_model, model_path, train_empathy
from carelens.scoring.empathy_windows import WINDOW_WORDS, decide, quote, split_all


def resolve_model(variant: str, truncate_tokens: int | None, model_dir: str | None) -> Path:
    """The model folder to use, training the variant first when the cache has none."""
    if model_dir:
        folder = Path(model_dir).expanduser()
        if not (folder / "card.json").exists():
            raise CarelensError(
                "no trained empathy model (card.json) in this folder",
                where=f"scoring.empathy_model = {folder}",
            )
        return folder
    folder = model_path(variant, truncate_tokens)
    if not (folder / "card.json").exists():
        console.print(
            f"[bold]No cached empathy model at {folder}: training the {variant} "
            "variant once (run `carelens models train empathy` to do this ahead).[/bold]"
        )
        # The full variant's cross-validation takes several trainings; `models train` runs it.
        train_empathy(variant, truncate_tokens=truncate_tokens, cv_folds=0 if variant == "full" else 5)
    return folder


class EmpathyScorer(BaseScorer):
    """Predicted ER, IP and EX levels of each response, decided over its windows (see
    ``empathy_windows``); the evidence of each level is the window of the reply that decided it, or with
    the span model the sentence of that window that entered its mix.

    ``window_words`` None scores the whole reply as one text (the scorer's name then lacks the
    ``-w<N>`` suffix). ``calibration``: ``"auto"`` applies the shipped LLM-reply calibration
    (``empathy_calibration``) when it was fitted for this very model (same predictions on fixed probe
    texts) and window size, ``"none"`` never, a
    path applies that calibration file (which must fit the model and window); a calibrated scorer's
    name ends in ``-llmcal``.
    """

    registered = "empathy"
    metrics = MECHANISMS
    ranges = {m: (0.0, 2.0) for m in MECHANISMS}
    config_keys = {
        "variant": "empathy_variant",
        "truncate_tokens": "truncate_tokens",
        "model_dir": "empathy_model",
    }

    def __init__(
        self,
        *,
        variant: str = DEFAULT_VARIANT,
        truncate_tokens: int | None = None,
        model_dir: str | None = None,
        window_words: int | None = WINDOW_WORDS,
        calibration: str = "auto",
    ) -> None:
        self.variant, self.truncate_tokens, self.model_dir = variant, truncate_tokens, model_dir
        self.window_words, self.calibration = window_words, calibration
        folder = resolve_model(variant, truncate_tokens, model_dir)
        self.model, self.card = load_model(folder)
        trained_with = self.card.get("truncate_tokens")
        if truncate_tokens is not None and truncate_tokens != trained_with:
            raise CarelensError(
                f"is {truncate_tokens} but the model in {folder} was trained with "
                f"truncate_tokens={trained_with}",
                where="scoring.truncate_tokens",
            )
        self.name: str = self.card["model"] + (f"-w{window_words}" if window_words else "")
        self.card_path = folder / "card.json"
        self.weights = self._calibration()
        if self.weights is not None:
            self.name += "-llmcal"

    def _calibration(self) -> np.ndarray | None:
        """The level weights to apply, or None (see the class docstring)."""
        if self.calibration == "none":
            return None
        if self.calibration == "auto":
            path = calibration_path(self.name)
            if not path.exists():
                return None
        else:
            path = Path(self.calibration).expanduser()
        weights, card = load_calibration(path)
        fits = (
            card.get("model") == self.name
            and card.get("window_words") == self.window_words
            and card.get("model_fingerprint") == fingerprint(self.model)
        )
        if fits:
            return weights
        if self.calibration == "auto":
            return None
        raise CarelensError(
            f"was fitted for another model ({card.get('model')}, fingerprint "
            f"{card.get('model_fingerprint')}, windows of {card.get('window_words')} words), "
            f"not this {self.name}",
            where=f"scoring.options.empathy.calibration = {path}",
        )

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        texts = [response for _, response in pairs]
        parts, owner = split_all(texts, self.window_words)
        said: list[list[str]] | None = None  # per window and mechanism, the sentence that decided
        if not parts:
            proba = np.zeros((0, len(MECHANISMS), 3))
        elif isinstance(self.model, SpanModel):
            proba, said = self.model.predict_with_sentences(parts)
        else:
            proba = self.model.predict_proba(parts)
        if self.weights is not None:
            proba = reweight(proba, self.weights)
        levels, deciding = decide(proba, owner, len(texts))
        evidence: dict[str, list[str]] = {m: [] for m in MECHANISMS}
        for t in range(len(texts)):
            for j, m in enumerate(MECHANISMS):
                w = deciding[t, j]
                if w < 0:
                    evidence[m].append("the reply has no words: level 0")
                    continue
                shown = quote(said[w][j] if said and said[w][j] else parts[w])
                if levels[t, j] == 0:
                    evidence[m].append(
                        f"no part of the reply reaches level 1; closest (P = {proba[w, j, 1:].sum():.2f}): "
                        + shown
                    )
                else:
                    evidence[m].append(f"level {levels[t, j]} (P = {proba[w, j, levels[t, j]]:.2f}): {shown}")
        return self.frame({m: levels[:, j].astype(float) for j, m in enumerate(MECHANISMS)}, evidence)
