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

import numpy as np
import pandas as pd

from carelens.scoring.base import BaseScorer, Pair
from carelens.scoring.hf import class_probability, label_index, load_classifier
from carelens.scoring.text import sentences


class OffensiveScorer(BaseScorer):
    """Probability that the response is offensive (alt-profanity-check); the evidence is the
    response's most offensive sentence by the same model, with its probability."""

    name = "offensive"
    registered = "offensive"
    parallel = True  # cheap to build: may run in worker processes
    metrics = ("offensive",)
    ranges = {"offensive": (0.0, 1.0)}

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self._predict_prob = predict_prob

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        responses = [response for _, response in pairs]
        split = [sentences(r) or [r] for r in responses]
        flat = [s for parts in split for s in parts]
        probs = self._predict_prob([*responses, *flat]) if responses else np.zeros(0)
        evidence, at = [], len(responses)
        for parts in split:
            part_probs = probs[at : at + len(parts)]
            top = int(np.argmax(part_probs))
            evidence.append(f"most offensive sentence ({part_probs[top]:.2f}): {parts[top]}")
            at += len(parts)
        return self.frame({"offensive": probs[: len(responses)]}, {"offensive": evidence})


class ToxigenScorer(BaseScorer):
    """Probability that the response is toxic (ToxiGen RoBERTa; needs the model locally)."""

    registered = "toxigen"
    metrics = ("toxigen_toxicity",)
    ranges = {"toxigen_toxicity": (0.0, 1.0)}
    config_keys = {"model": "toxigen_model"}
    config_key = "scoring.toxigen_model"

    def __init__(self, *, model: str = "tomh/toxigen_roberta", max_length: int = 512) -> None:
        self.model = model
        self.max_length = max_length
        self.name = "toxigen"
        self._tokenizer, self._model = load_classifier(model, self.config_key)
        self._index = label_index(self._model, ("LABEL_1", "toxic"), model, self.config_key)

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        texts = [response for _, response in pairs]
        probs = class_probability(
            self._tokenizer, self._model, texts, self._index, max_length=self.max_length
        )
        rule = f"the response (first {self.max_length} tokens) classified by {self.model}"
        return self.frame({"toxigen_toxicity": probs}, {"toxigen_toxicity": [rule] * len(texts)})
