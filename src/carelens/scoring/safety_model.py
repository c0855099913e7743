"""The learned part of the safety scorer: logistic regressions over sentence embeddings plus rule flags.

Three models, shipped as one small JSON file (``safety_model.json`` beside this module, written by
``python -m carelens.scoring.safety_train``):

- ``risk``: P(a post sentence expresses its writer's own suicidal or self-harm risk);
- ``level``: the C-SSRS-informed level of a risk sentence (1 low, 2 high, 3 imminent);
- ``harm``: the kind of a reply sentence: ``safe`` or one of the harmful kinds in ``HARM_KINDS``.

A sentence's features are its all-MiniLM-L6-v2 embedding (L2-normalised, 384 values) and the 0/1
flags of the named rules in ``carelens.scoring.safety_rules`` times ``FEATURE_SCALE``. The models are
fitted on float32 embeddings (sentence-transformers); scoring embeds with fixed batch shapes
(``carelens.scoring.sentence_embed``), in bfloat16 where the CPU computes it natively: about 1.5
times faster, within cosine .9999 of float32, and a sentence's values never depend on its batch
mates. Both give the same decisions on every labelled evaluation set (docs/safety-model-card.md).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from carelens.errors import CarelensError
from carelens.scoring.safety_rules import POST_FEATURES, REPLY_FEATURES, flags

MODEL_FILE = Path(__file__).with_name("safety_model.json")
FEATURE_SCALE = 1.0
MIN_SENTENCE_WORDS = 4  # weakly labelled sentences are 4-60 words; shorter post sentences join a neighbour
HARM_KINDS = (
    "means_information",
    "encouraging_act",
    "validating_better_off",
    "praising_preparation",
    "dismissing",
    "discouraging_help",
    "joking",
)


def embed_sentences(
    texts: Sequence[str], cache: dict[str, np.ndarray] | None = None, *, float32: bool = False
) -> np.ndarray:
    """MiniLM embeddings of sentences, reusing and filling ``cache``: for scoring (fixed batch shapes)
    or, with ``float32``, as the models were fitted (sentence-transformers)."""
    from carelens.encoder import encode
    from carelens.scoring.sentence_embed import embed_whole_sentences

    cache = {} if cache is None else cache
    new = sorted({t for t in texts if t not in cache})
    if new:
        cache.update(zip(new, (encode if float32 else embed_whole_sentences)(new), strict=True))
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([cache[t] for t in texts])


def post_features(sentences: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    return np.hstack([vectors, FEATURE_SCALE * flags(POST_FEATURES, sentences)])


def reply_features(sentences: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    return np.hstack([vectors, FEATURE_SCALE * flags(REPLY_FEATURES, sentences)])


@dataclass(frozen=True)
class Linear:
    """A fitted (multinomial or binary) logistic regression: ``classes`` and one weight row per class
    (a binary model stores one row, the positive class's)."""

    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per input row."""
        logits = x.astype(np.float64) @ self.coef.T + self.intercept
        if len(self.classes) == 2 and self.coef.shape[0] == 1:
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1 - p, p])
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def to_json(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "coef": np.round(self.coef, 6).tolist(),
            "intercept": np.round(self.intercept, 6).tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Linear":
        return cls(tuple(data["classes"]), np.asarray(data["coef"]), np.asarray(data["intercept"]))


@dataclass(frozen=True)
class SafetyModel:
    risk: Linear
    level: Linear
    harm: Linear
    risk_threshold: float
    harm_threshold: float
    card: dict[str, Any]


def load_model(path: Path | str | None = None) -> SafetyModel:
    """The model in ``path`` (default: the shipped ``safety_model.json``)."""
    return _load(str(path or MODEL_FILE))


@cache
def _load(path: str) -> SafetyModel:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return SafetyModel(
            risk=Linear.from_json(data["risk"]),
            level=Linear.from_json(data["level"]),
            harm=Linear.from_json(data["harm"]),
            risk_threshold=float(data["thresholds"]["risk"]),
            harm_threshold=float(data["thresholds"]["harm"]),
            card=data["card"],
        )
    except (OSError, ValueError, KeyError) as exc:
        raise CarelensError(
            f"cannot read the safety model ({exc}); "
            "retrain it with `python -m carelens.scoring.safety_train`",
            where=path,
        ) from exc
