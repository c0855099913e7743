"""Offensiveness (offline default) and the paper's ToxiGen RoBERTa toxicity classifier.

``offensive`` (alt-profanity-check): the probability that a text is offensive, from a linear model
over word n-grams trained on hateful and offensive tweets. It measures profanity, insults and slurs.
It does not measure subtle toxicity, condescension or unsafe advice, and it reacts to the words
alone: a caring reply that quotes "I hate myself" scores high, which is why only the response is
scored, never the post.

``toxigen`` (``tomh/toxigen_roberta``, Hartvigsen et al. 2022): the probability that a text is
toxic, including implicit hate towards demographic groups, as used by the paper. It must already
be in the local Hugging Face cache (or be given as a folder); otherwise the scorer is unavailable.
"""

from collections.abc import Sequence

import pandas as pd

from carelens.scoring.base import Pair
from carelens.scoring.hf import class_probability, label_index, load_classifier
from carelens.scoring.settings import ScoringConfig


class OffensiveScorer:
    """Probability that the response is offensive (alt-profanity-check)."""

    name = "offensive"
    parallel = True  # cheap to build: may run in worker processes
    metrics = ("offensive",)

    def __init__(self, config: ScoringConfig | None = None) -> None:
        del config
        from profanity_check import predict_prob

        self._predict_prob = predict_prob

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        probs = self._predict_prob([response for _, response in pairs])
        return pd.DataFrame({"offensive": probs})


class ToxigenScorer:
    """Probability that the response is toxic (ToxiGen RoBERTa; needs the model locally)."""

    name = "toxigen"
    metrics = ("toxigen_toxicity",)
    config_key = "scoring.toxigen_model"

    def __init__(self, config: ScoringConfig) -> None:
        self._model_name = config.toxigen_model
        self._tokenizer, self._model = load_classifier(self._model_name, self.config_key)
        self._index = label_index(self._model, ("LABEL_1", "toxic"), self._model_name, self.config_key)

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        texts = [response for _, response in pairs]
        return pd.DataFrame(
            {"toxigen_toxicity": class_probability(self._tokenizer, self._model, texts, self._index)}
        )
