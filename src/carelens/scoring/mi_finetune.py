"""The fine-tuned encoder of the MI code model (``encoder = "finetuned"``, the default).

MiniLM is fine-tuned end to end as a sentence classifier: the mean-pooled, L2-normalised sentence
vector (times ``SCALE``) and the standardised cues of ``carelens.scoring.mi_features`` feed one
linear layer over the MITI codes, trained with class-weighted cross-entropy. Training runs in float32
with each batch padded to its longest sentence; scoring runs through
``carelens.scoring.sentence_embed`` (fixed shapes, bfloat16 where the CPU has it), so a sentence's
code never depends on its batch mates. The encoder's weights are rounded to float16 after training
and stored so beside the model.
"""

import copy
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from carelens.scoring.embedder import _encoder_parts, padded_batch, word_pieces
from carelens.scoring.sentence_embed import MAX_PIECES, embed_sentences

SCALE = 5.0  # the pooled vector's weight against the standardised cues
WIDTHS = (12, 16, 20, 24, 32, 48, 64)


@dataclass(frozen=True)
class FineTuning:
    """Optimiser settings of the fine-tuning (the shipped model's)."""

    epochs: int = 4
    batch_size: int = 16
    encoder_learning_rate: float = 4e-5
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def pooled(encoder: Any, sentences: list[str]) -> np.ndarray:
    """The scaled sentence vectors the head reads, as scored (fixed shapes)."""
    return SCALE * embed_sentences(sentences, max_pieces=MAX_PIECES, widths=WIDTHS, model=encoder)


def fit(
    sentences: list[str],
    cues: np.ndarray,
    codes: np.ndarray,
    n_codes: int,
    seed: int,
    settings: FineTuning = FineTuning(),
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Fine-tune a copy of MiniLM and a linear head on standardised ``cues`` and code indices ``codes``;
    returns the encoder, the head's weights (codes x features) and its intercepts."""
    import torch

    tokenizer, base = _encoder_parts()
    torch.manual_seed(seed)
    encoder = copy.deepcopy(base)
    head = torch.nn.Linear(base.config.hidden_size + cues.shape[1], n_codes)
    pieces = word_pieces(sentences, MAX_PIECES)
    cls, sep, pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
    counts = np.bincount(codes, minlength=n_codes).astype(float)
    weights = torch.tensor(len(codes) / (n_codes * np.maximum(counts, 1)), dtype=torch.float32)
    optimizer = torch.optim.AdamW(
        [
            {"params": encoder.parameters(), "lr": settings.encoder_learning_rate},
            {"params": head.parameters(), "lr": settings.head_learning_rate},
        ],
        weight_decay=settings.weight_decay,
    )
    steps = settings.epochs * int(np.ceil(len(sentences) / settings.batch_size))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / steps))
    rng = np.random.default_rng(seed)
    encoder.train()
    for _ in range(settings.epochs):
        order = rng.permutation(len(sentences))
        for start in range(0, len(order), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            ids, mask = padded_batch([pieces[i] for i in batch], cls, sep, pad)
            hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            vector = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
            features = torch.cat(
                [SCALE * torch.nn.functional.normalize(vector, dim=1), torch.tensor(cues[batch])], 1
            )
            target = torch.tensor(codes[batch])
            loss = torch.nn.functional.cross_entropy(head(features), target, weight=weights)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    encoder.eval()
    with torch.no_grad():  # as stored (``save_network``), so the figures measured are the shipped model's
        for tensor in encoder.state_dict().values():
            tensor.copy_(tensor.half().to(tensor.dtype))
    return encoder, head.weight.detach().numpy().copy(), head.bias.detach().numpy().copy()


def save_network(encoder: Any, path: Path) -> None:
    """The encoder's weights in float16 (``NAME.encoder.npz``)."""
    state = {k: v.detach().numpy().astype(np.float16) for k, v in encoder.state_dict().items()}
    np.savez_compressed(path, **state)


def load_network(path: Path) -> Any:
    """A MiniLM copy carrying the weights saved by ``save_network``."""
    import torch

    _, base = _encoder_parts()
    encoder = copy.deepcopy(base)
    with np.load(path) as arrays:
        state = {k: torch.from_numpy(arrays[k].astype(np.float32)) for k in arrays.files}
    encoder.load_state_dict(state)
    encoder.eval()
    return encoder
