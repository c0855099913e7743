"""Whole-text MiniLM embeddings: windows for long texts, truncation, independence from the batch."""

import numpy as np
import pytest

from carelens.encoder import encode
from carelens.scoring.embedder import (
    FLOAT32_ENV,
    WINDOW,
    _cpu_has_bf16,
    embed,
    precision,
    truncate_text,
    word_pieces,
)


def test_short_texts_match_the_sentence_transformers_encoder():
    texts = ["I'm sorry you're going through this.", "Have you talked to anyone about it?"]
    ours, reference = embed(texts), encode(texts)
    assert np.all((ours * reference).sum(1) > 0.999)


def test_long_text_is_embedded_whole_not_cut_at_the_first_window():
    long_text = "I lost my job last month. " * 40 + "But my dog makes me happy and I love hiking. " * 30
    assert len(word_pieces([long_text])[0]) > 2 * WINDOW
    whole, first_window = embed([long_text]), embed([long_text], truncate_tokens=WINDOW)
    assert float((whole * first_window).sum()) < 0.99
    assert np.isclose(np.linalg.norm(whole), 1.0, atol=1e-5)


def test_truncation_keeps_the_first_word_pieces():
    assert truncate_text(["Hello there, General Kenobi!"], 2) == ["hello there"]
    assert truncate_text(["Unchanged Text"], None) == ["Unchanged Text"]


@pytest.mark.parametrize("float32, tolerance", [(False, 1e-2), (True, 1e-5)])
def test_batch_mates_barely_move_an_embedding_and_empty_text_is_zero(float32, tolerance, monkeypatch):
    if float32:
        monkeypatch.setenv(FLOAT32_ENV, "1")
    assert precision() == ("float32" if float32 or not _cpu_has_bf16() else "bfloat16-autocast")
    text = "My panic attacks have been getting worse."
    alone = embed([text])
    batched = embed([text, "a much longer sentence with many more words to change the padding " * 5, ""] * 4)
    assert np.abs(alone[0] - batched[0]).max() < tolerance
    assert np.array_equal(embed([text]), alone)
    assert not batched[2].any()
