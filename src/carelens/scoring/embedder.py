"""MiniLM sentence embeddings of whole texts: long texts are cut into windows and averaged.

The sentence-transformers ``encode`` silently truncates at 256 word pieces; a response scored
"whole" must not lose its end, so each text is split into windows of at most ``WINDOW`` word
pieces, every window is embedded (mean pooling, as all-MiniLM-L6-v2 was trained), and the window
embeddings are averaged weighted by their length, then L2-normalised. ``truncate_tokens`` keeps
only the first N word pieces instead (the EPITOME paper used 64).

On CPUs with native bfloat16 (AVX512-BF16 / AMX) the encoders run under bfloat16 autocast, about
five times faster than float32, with embeddings within cosine 0.9999 of the float32 ones. The same
inputs always give the same outputs, but a text's embedding can move by about 1e-3 per component
with the texts batched beside it (the CPU kernels change with the batch shape), which may flip a
prediction that sits on a class boundary. Set ``CARELENS_FLOAT32=1`` to run in float32 (batch
effects about 1e-7), as on CPUs without native bfloat16. Dynamic int8 quantisation is not used: it
scales activations per batch, so batch mates move embeddings by about 5e-2.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import Any

import numpy as np

from carelens.encoder import load_encoder

WINDOW = 254  # word pieces per window, plus [CLS] and [SEP] = the encoder's 256


FLOAT32_ENV = "CARELENS_FLOAT32"


@cache
def _cpu_has_bf16() -> bool:
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def bf16_supported() -> bool:
    """Whether to use bfloat16: the CPU computes it natively and ``CARELENS_FLOAT32`` is not set."""
    return os.environ.get(FLOAT32_ENV, "") in ("", "0") and _cpu_has_bf16()


def precision() -> str:
    """The precision the encoders run in here: ``bfloat16-autocast`` or ``float32``."""
    return "bfloat16-autocast" if bf16_supported() else "float32"


@contextmanager
def fast_precision() -> Iterator[None]:
    """bfloat16 autocast where the CPU supports it natively, else float32."""
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16) if bf16_supported() else nullcontext():
        yield


@cache
def _encoder_parts() -> tuple[Any, Any]:
    sentence_model = load_encoder()
    model = sentence_model[0].auto_model
    model.eval()
    return sentence_model.tokenizer, model


def word_pieces(texts: list[str], truncate_tokens: int | None = None) -> list[list[int]]:
    """Token ids of each text without special tokens, cut to ``truncate_tokens`` if given."""
    tokenizer, _ = _encoder_parts()
    ids = tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    return [list(i[:truncate_tokens]) if truncate_tokens else list(i) for i in ids]


def padded_batch(pieces: list[list[int]], cls: int, sep: int, pad: int) -> tuple[Any, Any]:
    """Input ids and attention mask of word-piece lists wrapped in [CLS] ... [SEP], padded to the
    longest (for training, where shapes may vary)."""
    import torch

    width = max(len(p) for p in pieces) + 2
    ids = torch.full((len(pieces), width), pad, dtype=torch.long)
    mask = torch.zeros((len(pieces), width), dtype=torch.long)
    for row, p in enumerate(pieces):
        ids[row, : len(p) + 2] = torch.tensor([cls, *p, sep])
        mask[row, : len(p) + 2] = 1
    return ids, mask


def embed(texts: list[str], truncate_tokens: int | None = None, batch_size: int = 64) -> np.ndarray:
    """One L2-normalised 384-dim embedding per text (float32); an empty text gets zeros."""
    import torch

    tokenizer, model = _encoder_parts()
    pieces = word_pieces(texts, truncate_tokens)
    windows: list[tuple[int, list[int]]] = []
    for index, ids in enumerate(pieces):
        windows.extend((index, ids[start : start + WINDOW]) for start in range(0, len(ids), WINDOW))
    sums = np.zeros((len(texts), model.config.hidden_size), dtype=np.float64)
    order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
    cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
    with torch.inference_mode(), fast_precision():
        for start in range(0, len(order), batch_size):
            batch = [windows[w] for w in order[start : start + batch_size]]
            width = max(len(ids) for _, ids in batch) + 2
            input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, (_, ids) in enumerate(batch):
                input_ids[row, : len(ids) + 2] = torch.tensor([cls, *ids, sep])
                mask[row, : len(ids) + 2] = 1
            hidden = model(
                input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
            for row, (index, ids) in enumerate(batch):
                sums[index] += pooled[row].float().numpy() * len(ids)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms == 0, 1, norms)).astype(np.float32)


def truncate_text(texts: list[str], truncate_tokens: int | None) -> list[str]:
    """The texts cut to their first ``truncate_tokens`` word pieces (lower-cased), or unchanged."""
    if not truncate_tokens:
        return list(texts)
    tokenizer, _ = _encoder_parts()
    return [tokenizer.decode(ids) for ids in word_pieces(texts, truncate_tokens)]
