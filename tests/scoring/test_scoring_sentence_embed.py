"""Fixed-shape sentence embeddings: independent of the batch, close to float32, whole sentences kept."""

import numpy as np

from carelens.encoder import encode
from carelens.scoring.embedder import word_pieces
from carelens.scoring.sentence_embed import WHOLE_WIDTHS, embed_sentences, embed_whole_sentences

SENTENCES = [
    "I can't sleep and I keep thinking about the accident.",
    "Thanks.",
    "Have you been able to talk to anyone about how you feel?",
    "My sister says I should see a doctor but I don't know where to start or what I'd even say to them.",
]
LONG = "I have been feeling low for months and " * 12 + "tonight I finally told my brother everything."


def test_an_embedding_never_depends_on_its_batch_mates():
    for embed in (embed_sentences, embed_whole_sentences):
        together = embed([*SENTENCES, LONG, *SENTENCES[::-1]])
        for index, sentence in enumerate([*SENTENCES, LONG]):
            assert np.array_equal(embed([sentence])[0], together[index])
        assert np.array_equal(embed(SENTENCES[::-1]), embed(SENTENCES)[::-1])


def test_the_number_of_rows_per_batch_does_not_change_an_embedding():
    texts = [*SENTENCES, LONG]
    for budget in (40, 300, 5000):  # a few rows per batch (the minimum), some, one batch for all
        assert np.array_equal(embed_sentences(texts, tokens=budget), embed_sentences(texts))
        whole = embed_sentences(texts, max_pieces=254, widths=WHOLE_WIDTHS, tokens=budget)
        assert np.array_equal(whole, embed_whole_sentences(texts))


def test_whole_sentences_are_kept_and_close_to_the_float32_encoder():
    assert 62 < len(word_pieces([LONG])[0]) < 254
    whole, cut, reference = embed_whole_sentences([LONG]), embed_sentences([LONG]), encode([LONG])
    assert float((whole * reference).sum()) > 0.999
    assert float((cut * reference).sum()) < float((whole * reference).sum())
    ours, reference = embed_whole_sentences(SENTENCES), encode(SENTENCES)
    assert np.all((ours * reference).sum(1) > 0.999)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
