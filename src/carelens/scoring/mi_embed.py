"""MiniLM embeddings of short sentences, the same for a sentence whatever is batched beside it.

Each distinct sentence is embedded once per call. Sentences are cut to ``MAX_PIECES`` word pieces,
padded to one of a few fixed widths and run in batches of a fixed number of rows (empty rows fill
the last batch), so every forward pass of a width has the same shape: a sentence's embedding then
depends only on the sentence, not on its batch mates or the batch size, and the codes built on it are
batch- and order-invariant even under bfloat16 autocast (see ``carelens.scoring.embedder``).
"""

import numpy as np

from carelens.scoring.embedder import _encoder_parts, fast_precision

MAX_PIECES = 62
WIDTHS = (16, 32, 64)  # with [CLS] and [SEP]
ROWS = 32


def _width(n_pieces: int) -> int:
    return next(w for w in WIDTHS if n_pieces + 2 <= w)


def embed_sentences(sentences: list[str]) -> np.ndarray:
    """One L2-normalised 384-dim float32 embedding per sentence (mean pooling, as MiniLM was trained)."""
    import torch

    tokenizer, model = _encoder_parts()
    unique = sorted(set(sentences))
    out = np.zeros((len(unique), model.config.hidden_size), dtype=np.float32)
    if unique:
        pieces = tokenizer(unique, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        pieces = [list(p[:MAX_PIECES]) for p in pieces]
        cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
        by_width: dict[int, list[int]] = {}
        for index, ids in enumerate(pieces):
            by_width.setdefault(_width(len(ids)), []).append(index)
        with torch.inference_mode(), fast_precision():
            for width, members in sorted(by_width.items()):
                for start in range(0, len(members), ROWS):
                    batch = members[start : start + ROWS]
                    input_ids = torch.full((ROWS, width), pad, dtype=torch.long)
                    mask = torch.zeros((ROWS, width), dtype=torch.long)
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
