"""Hugging Face text classifiers, loaded strictly from local files (never from the network)."""

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from carelens.errors import CarelensError


class ScorerUnavailable(CarelensError):
    """A scorer whose model cannot be loaded here; the score stage skips it with this message."""


def load_classifier(model: str, where: str) -> tuple[Any, Any]:
    """Tokenizer and model for ``model`` (a hub name already in the local HF cache, or a folder).

    Raises ScorerUnavailable, naming the config key ``where``, when the files are not available
    locally; it never tries to download them, so it cannot hang without a network.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=True)
        classifier = AutoModelForSequenceClassification.from_pretrained(model, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ScorerUnavailable(
            f"model '{model}' is not available offline ({type(exc).__name__}); download it once on a "
            f"machine with network access (e.g. `hf download {model}`) into the Hugging Face cache, or set "
            "this key to a local folder holding the model",
            where=where,
        ) from None
    classifier.eval()
    return tokenizer, classifier


def label_index(classifier: Any, wanted: Sequence[str], model: str, where: str) -> int:
    """The output index of the first label in ``wanted`` (case-insensitive) the model declares."""
    labels = {str(name).lower(): int(idx) for name, idx in classifier.config.label2id.items()}
    for name in wanted:
        if name.lower() in labels:
            return labels[name.lower()]
    raise CarelensError(f"model '{model}' has labels {sorted(labels)}, none of {list(wanted)}", where=where)


def class_probability(
    tokenizer: Any,
    classifier: Any,
    texts: Sequence[str],
    index: int,
    batch_size: int = 16,
    max_length: int = 512,
) -> np.ndarray:
    """Softmax probability of class ``index`` for each text, in batches sorted by length."""
    import torch

    order = np.argsort([len(t) for t in texts])
    out = np.empty(len(texts), dtype=np.float64)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in idx],
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            )
            probs = torch.softmax(classifier(**batch).logits, dim=-1)[:, index]
            out[idx] = probs.numpy()
    return out
