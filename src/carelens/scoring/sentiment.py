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

from carelens.scoring.base import BaseScorer, Pair
from carelens.scoring.hf import class_probability, label_index, load_classifier
from carelens.scoring.text import words


class VaderScorer(BaseScorer):
    """VADER compound score and negative share of the response; the evidence lists the response's
    words that carry a valence in VADER's lexicon (with it), the words that decided the score."""

    name = "sentiment"
    registered = "sentiment"
    parallel = True  # pure Python and cheap to build: may run in worker processes
    metrics = ("vader_compound", "vader_negative")
    ranges = {"vader_compound": (-1.0, 1.0), "vader_negative": (0.0, 1.0)}

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def _valence_words(self, text: str) -> str:
        lexicon = self._analyzer.lexicon
        found = dict.fromkeys(w for w in words(text) if w in lexicon)
        if not found:
            return "no word of the response is in VADER's lexicon"
        return "VADER lexicon words: " + ", ".join(f"{w} ({lexicon[w]:+.1f})" for w in found)

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        polarity = [self._analyzer.polarity_scores(response) for _, response in pairs]
        evidence = [self._valence_words(response) for _, response in pairs]
        return self.frame(
            {
                "vader_compound": [p["compound"] for p in polarity],
                "vader_negative": [p["neg"] for p in polarity],
            },
            {"vader_compound": evidence, "vader_negative": evidence},
        )


class SiebertScorer(BaseScorer):
    """Probability that the response is negative (SiEBERT RoBERTa-large; needs the model locally)."""

    registered = "sentiment-roberta"
    metrics = ("siebert_negative",)
    ranges = {"siebert_negative": (0.0, 1.0)}
    config_keys = {"model": "sentiment_model"}
    config_key = "scoring.sentiment_model"

    def __init__(
        self, *, model: str = "siebert/sentiment-roberta-large-english", max_length: int = 512
    ) -> None:
        self.model = model
        self.max_length = max_length
        self.name = "sentiment-roberta"
        self._tokenizer, self._model = load_classifier(model, self.config_key)
        self._index = label_index(self._model, ("NEGATIVE",), model, self.config_key)

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame:
        texts = [response for _, response in pairs]
        probs = class_probability(
            self._tokenizer, self._model, texts, self._index, max_length=self.max_length
        )
        rule = f"the response (first {self.max_length} tokens) classified by {self.model}"
        return self.frame({"siebert_negative": probs}, {"siebert_negative": [rule] * len(texts)})
