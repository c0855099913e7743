"""The two empathy classifiers: ER, IP and EX levels (0/1/2) from the text of a response.

- ``FastModel``: per mechanism, a class-weighted logistic regression over word uni/bigram TF-IDF
  features and the frozen MiniLM embedding of the response. Trains in seconds once the embeddings
  are computed.
- ``FullModel``: MiniLM fine-tuned on the response with one 3-class head per mechanism (a shared
  encoder, class-weighted cross-entropy), its probabilities averaged with a ``FastModel``'s.

Both see the response only. Adding the frozen embedding of the seeker post to the fast head did not
change its 5-fold CV figures; fine-tuning on post and response as a pair (256 tokens) gave mixed
results on one grouped split after 3 epochs (ER .802/.783, IP .766/.518, EX .938/.777 against
.792/.727, .828/.559, .929/.763 for the response alone) at about three times the cost. ``predict_proba``
returns an array of shape (n, 3 mechanisms, 3 levels).
"""

import copy
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp

from carelens.scoring.embedder import WINDOW, embed, fast_precision, padded_batch, truncate_text, word_pieces

MECHANISMS = ("ER", "IP", "EX")
LEVELS = 3
Progress = Callable[[int], None]
"""Called with the number of work units just finished (for progress bars)."""


@dataclass
class FastParams:
    C: float = 1.0
    class_weight: str = "balanced"
    ngram_max: int = 2
    min_df: int = 2
    max_iter: int = 3000


@dataclass
class FullParams:
    epochs: int = 4
    batch_size: int = 16
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    dropout: float = 0.1
    class_weight_power: float = 0.5  # class weights (n / (k * count)) ** power
    max_tokens: int = WINDOW
    fast_weight: float = 0.3  # share of the FastModel in the averaged probabilities
    fast: FastParams = field(default_factory=FastParams)


def word_vectorizer(params: FastParams) -> Any:
    """Word uni/bigram (up to ``ngram_max``) TF-IDF, keeping "?" and "!" as words."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, params.ngram_max),
        min_df=params.min_df,
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w+\b|[?!]",
    )


def fit_heads(x: Any, labels: np.ndarray, params: FastParams, progress: Progress | None = None) -> list[Any]:
    """One logistic regression per column of ``labels`` over the features ``x``."""
    from sklearn.linear_model import LogisticRegression

    heads = []
    for j in range(labels.shape[1]):
        head = LogisticRegression(C=params.C, class_weight=params.class_weight, max_iter=params.max_iter)
        heads.append(head.fit(x, labels[:, j]))
        if progress:
            progress(1)
    return heads


def heads_proba(heads: list[Any], x: Any) -> np.ndarray:
    """(rows, heads, levels) probabilities of one fitted head per mechanism (levels a head never saw: 0)."""
    out = np.zeros((x.shape[0], len(heads), LEVELS))
    for j, head in enumerate(heads):
        out[:, j, head.classes_] = head.predict_proba(x)
    return out


class FastModel:
    """TF-IDF + frozen MiniLM embedding -> logistic regression, one per mechanism."""

    kind = "fast"

    def __init__(self, params: FastParams | None = None, truncate_tokens: int | None = None) -> None:
        self.params = params or FastParams()
        self.truncate_tokens = truncate_tokens
        self.vectorizer: Any = None
        self.heads: list[Any] = []

    def features(self, texts: list[str], embeddings: np.ndarray | None = None) -> Any:
        if embeddings is None:
            embeddings = embed(texts, self.truncate_tokens)
        words = self.vectorizer.transform(truncate_text(texts, self.truncate_tokens))
        return sp.hstack([words, sp.csr_matrix(embeddings)]).tocsr()

    def fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        embeddings: np.ndarray | None = None,
        progress: Progress | None = None,
    ) -> "FastModel":
        self.vectorizer = word_vectorizer(self.params).fit(truncate_text(texts, self.truncate_tokens))
        self.heads = fit_heads(self.features(texts, embeddings), labels, self.params, progress)
        return self

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        return heads_proba(self.heads, self.features(texts, embeddings))

    def save(self, folder: Path) -> None:
        joblib.dump(
            {
                "params": asdict(self.params),
                "truncate_tokens": self.truncate_tokens,
                "vectorizer": self.vectorizer,
                "heads": self.heads,
            },
            folder / "fast.joblib",
        )

    @classmethod
    def load(cls, folder: Path) -> "FastModel":
        state = joblib.load(folder / "fast.joblib")
        model = cls(FastParams(**state["params"]), state["truncate_tokens"])
        model.vectorizer, model.heads = state["vectorizer"], state["heads"]
        return model


def _network(dropout: float) -> Any:
    import torch

    from carelens.encoder import load_encoder

    class EmpathyNet(torch.nn.Module):
        """MiniLM encoder, mean pooling, one linear layer giving 3 levels for each mechanism."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = copy.deepcopy(load_encoder()[0].auto_model)
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(MECHANISMS) * LEVELS)

        def pooled(self, ids: Any, mask: Any) -> Any:
            hidden = self.encoder(
                input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)
            ).last_hidden_state
            return (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)

        def logits(self, pooled: Any) -> Any:
            return self.head(self.dropout(pooled)).view(-1, len(MECHANISMS), LEVELS)

    return EmpathyNet()


class FullModel:
    """Fine-tuned MiniLM (response only), averaged with a FastModel."""

    kind = "full"

    def __init__(
        self, params: FullParams | None = None, truncate_tokens: int | None = None, seed: int = 13
    ) -> None:
        self.params = params or FullParams()
        self.truncate_tokens = truncate_tokens
        self.seed = seed
        self.net: Any = None
        self.fast = FastModel(self.params.fast, truncate_tokens)

    @staticmethod
    def fit_steps(n: int, params: FullParams) -> int:
        """Progress units of ``fit``: optimiser steps plus the three fast heads."""
        return params.epochs * math.ceil(n / params.batch_size) + len(MECHANISMS)

    def _tokens(self) -> tuple[int, int, int]:
        from carelens.encoder import load_encoder

        tok = load_encoder().tokenizer
        return tok.cls_token_id, tok.sep_token_id, tok.pad_token_id

    def fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        embeddings: np.ndarray | None = None,
        progress: Progress | None = None,
    ) -> "FullModel":
        import torch

        p = self.params
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.fast.fit(texts, labels, embeddings, progress)
        self.net = _network(p.dropout)
        self.net.train()
        pieces = [
            ids[: p.max_tokens] or [self._tokens()[2]] for ids in word_pieces(texts, self.truncate_tokens)
        ]
        weights = []
        for j in range(len(MECHANISMS)):
            counts = np.bincount(labels[:, j], minlength=LEVELS).clip(min=1)
            weights.append(
                torch.tensor((len(labels) / (LEVELS * counts)) ** p.class_weight_power, dtype=torch.float)
            )
        optimizer = torch.optim.AdamW(
            [
                {"params": self.net.encoder.parameters(), "lr": p.learning_rate},
                {"params": self.net.head.parameters(), "lr": p.head_learning_rate},
            ],
            weight_decay=p.weight_decay,
        )
        steps = p.epochs * math.ceil(len(texts) / p.batch_size)
        warmup = max(1, int(p.warmup * steps))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps)
        )
        target = torch.tensor(labels, dtype=torch.long)
        cls, sep, pad = self._tokens()
        lengths = np.array([len(x) for x in pieces])
        for _ in range(p.epochs):
            # Shuffle, sort by length within pools of 20 batches (less padding), shuffle the batches.
            order = rng.permutation(len(texts))
            pool = p.batch_size * 20
            order = np.concatenate(
                [
                    c[np.argsort(lengths[c], kind="stable")]
                    for c in np.array_split(order, max(1, math.ceil(len(order) / pool)))
                ]
            )
            batches = [order[i : i + p.batch_size] for i in range(0, len(order), p.batch_size)]
            for b in rng.permutation(len(batches)):
                idx = batches[b]
                ids, mask = padded_batch([pieces[i] for i in idx], cls, sep, pad)
                with fast_precision():
                    logits = self.net.logits(self.net.pooled(ids, mask)).float()
                loss = torch.stack(
                    [
                        torch.nn.functional.cross_entropy(logits[:, j], target[idx, j], weight=weights[j])
                        for j in range(len(MECHANISMS))
                    ]
                ).sum()
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                if progress:
                    progress(1)
        self.net.eval()
        return self

    def network_proba(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Probabilities of the fine-tuned network alone; long texts are averaged over windows."""
        import torch

        cls, sep, pad = self._tokens()
        windows: list[tuple[int, list[int]]] = []
        for index, ids in enumerate(word_pieces(texts, self.truncate_tokens)):
            ids = ids or [pad]
            windows.extend(
                (index, ids[s : s + self.params.max_tokens])
                for s in range(0, len(ids), self.params.max_tokens)
            )
        pooled_sum = torch.zeros((len(texts), self.net.encoder.config.hidden_size))
        counts = torch.zeros((len(texts), 1))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        with torch.inference_mode(), fast_precision():
            for start in range(0, len(order), batch_size):
                batch = [windows[w] for w in order[start : start + batch_size]]
                ids, mask = padded_batch([w for _, w in batch], cls, sep, pad)
                pooled = self.net.pooled(ids, mask).float()
                for row, (index, piece) in enumerate(batch):
                    pooled_sum[index] += pooled[row] * len(piece)
                    counts[index] += len(piece)
        with torch.inference_mode():
            return torch.softmax(self.net.logits(pooled_sum / counts), dim=-1).numpy().astype(np.float64)

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        w = self.params.fast_weight
        return (1 - w) * self.network_proba(texts) + w * self.fast.predict_proba(texts, embeddings)

    def save(self, folder: Path) -> None:
        import torch

        self.fast.save(folder)
        torch.save(self.net.state_dict(), folder / "network.pt")
        params = asdict(self.params)
        (folder / "full.json").write_text(
            json.dumps(
                {"params": params, "truncate_tokens": self.truncate_tokens, "seed": self.seed}, indent=2
            ),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path) -> "FullModel":
        import torch

        state = json.loads((folder / "full.json").read_text(encoding="utf-8"))
        params = state["params"]
        params["fast"] = FastParams(**params["fast"])
        model = cls(FullParams(**params), state["truncate_tokens"], state["seed"])
        model.fast = FastModel.load(folder)
        model.net = _network(model.params.dropout)
        model.net.load_state_dict(torch.load(folder / "network.pt", weights_only=True))
        model.net.eval()
        return model
