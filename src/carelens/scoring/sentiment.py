"""Sentiment of a response: VADER (offline default) and the paper's SiEBERT classifier.

``sentiment`` (VADER, Hutto & Gilbert 2014): a lexicon-and-rules model tuned on social-media text.
``vader_compound`` is the normalised sum of word valences (-1 most negative, +1 most positive),
``vader_negative`` the share of the text's valence that is negative (0 to 1). It measures the
emotional tone of the words, not whether the reply is kind or helpful: empathic replies that
name the seeker's pain ("I'm so sorry you lost your job") read as negative.

``sentiment-roberta`` (``siebert/sentiment-roberta-large-english``, Hartmann et al. 2023): the
probability that the response is negative, as used by the paper. It must already be in the local
Hugging Face cache (or be given as a folder); otherwise the scorer is unavailable.
"""

from collections.abc import Sequence

import pandas as pd

from carelens.scoring.base import Pair
from carelens.scoring.hf import class_probability, label_index, load_classifier
from carelens.scoring.settings import ScoringConfig


class VaderScorer:
    """VADER compound score and negative share of the response."""

    name = "sentiment"
    parallel = True  # pure Python and cheap to build: may run in worker processes
    metrics = ("vader_compound", "vader_negative")

    def __init__(self, config: ScoringConfig | None = None) -> None:
        del config
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        polarity = [self._analyzer.polarity_scores(response) for _, response in pairs]
        return pd.DataFrame(
            {
                "vader_compound": [p["compound"] for p in polarity],
                "vader_negative": [p["neg"] for p in polarity],
            }
        )


class SiebertScorer:
    """Probability that the response is negative (SiEBERT RoBERTa-large; needs the model locally)."""

    name = "sentiment-roberta"
    metrics = ("siebert_negative",)
    config_key = "scoring.sentiment_model"

    def __init__(self, config: ScoringConfig) -> None:
        self._model_name = config.sentiment_model
        self._tokenizer, self._model = load_classifier(self._model_name, self.config_key)
        self._index = label_index(self._model, ("NEGATIVE",), self._model_name, self.config_key)

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        texts = [response for _, response in pairs]
        return pd.DataFrame(
            {"siebert_negative": class_probability(self._tokenizer, self._model, texts, self._index)}
        )
