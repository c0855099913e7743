"""MiniLM embeddings of sentences, the same for a sentence whatever is batched beside it.

Each distinct sentence is embedded once per call. Sentences are cut to ``max_pieces`` word pieces,
padded to one of a few fixed ``widths`` and run in batches of a fixed number of rows per width (about
``TOKENS`` word pieces a batch; empty rows fill a width's last batch), so every forward pass of a
width has the same shape: a sentence's embedding then depends only on the sentence, not on its batch
mates or the batch size, and the scores built on it are batch- and order-invariant even under
bfloat16 autocast (see ``carelens.scoring.embedder``). The number of rows does not change an
embedding (tested); the width does, so the widths are part of a model's definition.

The MI codes use the defaults (short sentences); the safety scorer keeps whole sentences up to the
encoder's 256 positions (``embed_whole_sentences``).
"""

from typing import Any

import numpy as np

from carelens.scoring.embedder import _encoder_parts, fast_precision

MAX_PIECES = 62
WIDTHS = (16, 32, 64)  # with [CLS] and [SEP]
TOKENS = 1536  # word pieces per forward pass: fewer empty filler rows than a fixed row count
MIN_ROWS = 4
WHOLE_WIDTHS = (12, 16, 20, 24, 32, 48, 64, 128, 256)


def embed_sentences(
    sentences: list[str],
    max_pieces: int = MAX_PIECES,
    widths: tuple[int, ...] = WIDTHS,
    tokens: int = TOKENS,
    model: Any = None,
) -> np.ndarray:
    """One L2-normalised 384-dim float32 embedding per sentence (mean pooling, as MiniLM was trained);
    ``model`` replaces MiniLM's own weights (a fine-tuned copy, same tokenizer)."""
    import torch

    if max_pieces + 2 > widths[-1]:
        raise ValueError(f"max_pieces {max_pieces} does not fit the widest shape {widths[-1]}")
    tokenizer, base = _encoder_parts()
    model = base if model is None else model
    unique = sorted(set(sentences))
    out = np.zeros((len(unique), model.config.hidden_size), dtype=np.float32)
    if unique:
        pieces = tokenizer(unique, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        pieces = [list(p[:max_pieces]) for p in pieces]
        cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
        by_width: dict[int, list[int]] = {}
        for index, ids in enumerate(pieces):
            by_width.setdefault(next(w for w in widths if len(ids) + 2 <= w), []).append(index)
        with torch.inference_mode(), fast_precision():
            for width, members in sorted(by_width.items()):
                rows = max(MIN_ROWS, tokens // width)
                for start in range(0, len(members), rows):
                    batch = members[start : start + rows]
                    input_ids = torch.full((rows, width), pad, dtype=torch.long)
                    mask = torch.zeros((rows, width), dtype=torch.long)
                    for row, index in enumerate(batch):
                        ids = pieces[index]
                        input_ids[row, : len(ids) + 2] = torch.tensor([cls, *ids, sep])
                        mask[row, : len(ids) + 2] = 1
                    mask[len(batch) :, 0] = 1  # filler rows attend to one pad token
                    hidden = model(
                        input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(input_ids)
                    ).last_hidden_state.float()
                    pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
                    out[batch] = pooled[: len(batch)].numpy()
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    position = {s: i for i, s in enumerate(unique)}
    return out[[position[s] for s in sentences]] if sentences else out


def embed_whole_sentences(sentences: list[str]) -> np.ndarray:
    """As ``embed_sentences``, cut only where the encoder stops (254 word pieces, as in float32)."""
    return embed_sentences(sentences, max_pieces=254, widths=WHOLE_WIDTHS)
