"""The span empathy model: a reply-level FastModel joined by sentence heads learnt from EPITOME's rationales.

EPITOME's labellers marked, for every reply with a level above 0, the words that communicate the
mechanism (its rationale spans). A sentence of a reply takes the reply's level for a mechanism when it
lies in that mechanism's rationale (it contains a span, lies inside one, or half of its words are
rationale words) and level 0 otherwise; a reply with a level whose rationale matches none of its
sentences gives that mechanism no sentence labels. Per mechanism, a class-weighted logistic regression
over the sentence's word uni/bigram TF-IDF and MiniLM embedding learns those labels.

A text's level probabilities are the reply-level FastModel's, mixed with those of its sentence most
likely to carry the mechanism (highest P(level >= 1)): ``(1 - w) * reply + w * sentence``, with
``w = sentence_weight``. The sentence is where a mechanism is communicated, so a specific question or
an interpretation counts wherever it stands, and sentences that carry nothing do not add up.
"""

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from carelens.scoring.embedder import embed
from carelens.scoring.empathy_models import (
    LEVELS,
    MECHANISMS,
    FastModel,
    FastParams,
    Progress,
    fit_heads,
    heads_proba,
    word_vectorizer,
)
from carelens.scoring.empathy_windows import sentences
from carelens.scoring.text import WORD

SPAN_SEPARATOR = "|"
UNLABELLED = -1  # a sentence of a reply whose rationale matched none of its sentences


@dataclass
class SpanParams:
    sentence_weight: float = 0.3
    min_rationale_share: float = 0.5  # of a sentence's words in the rationale, when no span matches it
    reply: FastParams = field(default_factory=FastParams)
    sentence: FastParams = field(default_factory=FastParams)


def _folded(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def split_sentences(text: str) -> list[str]:
    """The sentences of a text (the whole text when it has no sentence end; none when it has no words)."""
    return sentences(text) or ([text] if WORD.search(text) else [])


def sentence_labels(
    texts: Sequence[str], levels: np.ndarray, rationales: Sequence[Sequence[str]], min_share: float = 0.5
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The sentences of ``texts``, the text each belongs to, and their levels per mechanism.

    ``levels`` is (texts, mechanisms); ``rationales[i][j]`` is text i's rationale for mechanism j
    (spans joined by ``|``, empty for level 0). A sentence gets the text's level where it lies in the
    rationale and 0 elsewhere; ``UNLABELLED`` for every sentence of a text with a level whose
    rationale matches none of them. Without a span that contains it or lies in it, a sentence is in
    the rationale when at least ``min_share`` of its distinct words are rationale words.
    """
    out: list[str] = []
    owner: list[int] = []
    labels: list[list[int]] = []
    for index, text in enumerate(texts):
        parts = split_sentences(text)
        rows = np.zeros((len(parts), len(MECHANISMS)), dtype=int)
        for j in range(len(MECHANISMS)):
            level = int(levels[index, j])
            if level == 0:
                continue
            spans = [_folded(s) for s in rationales[index][j].split(SPAN_SEPARATOR) if s.strip()]
            marked = [_in_rationale(_folded(p), spans, min_share) for p in parts]
            rows[:, j] = [level if m else 0 for m in marked] if any(marked) else UNLABELLED
        out.extend(parts)
        owner.extend([index] * len(parts))
        labels.extend(rows.tolist())
    return out, np.asarray(owner, dtype=int), np.asarray(labels, dtype=int).reshape(-1, len(MECHANISMS))


def _in_rationale(sentence: str, spans: list[str], min_share: float) -> bool:
    if any(sentence in span or span in sentence for span in spans):
        return True
    words = set(WORD.findall(sentence))
    marked = set(WORD.findall(" ".join(spans)))
    return bool(words) and len(words & marked) / len(words) >= min_share


class SpanModel:
    """A reply-level FastModel mixed with sentence heads trained on EPITOME's rationale spans."""

    kind = "span"

    def __init__(self, params: SpanParams | None = None, memo: dict[str, np.ndarray] | None = None) -> None:
        """``memo`` keeps sentence embeddings across the models of one training run (not saved)."""
        self.params = params or SpanParams()
        self.truncate_tokens = None
        self.reply = FastModel(self.params.reply)
        self.vectorizer: Any = None
        self.heads: list[Any] = []
        self.memo = memo

    @staticmethod
    def fit_steps() -> int:
        return 2 * len(MECHANISMS)

    def fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        embeddings: np.ndarray | None = None,
        progress: Progress | None = None,
        *,
        rationales: Sequence[Sequence[str]],
    ) -> "SpanModel":
        """Fit on replies, their levels and their rationales (per reply, one string per mechanism)."""
        self.reply.fit(texts, labels, embeddings, progress)
        parts, _, part_labels = sentence_labels(texts, labels, rationales, self.params.min_rationale_share)
        vectors = self._embed(parts)
        self.vectorizer = word_vectorizer(self.params.sentence).fit(parts)
        x = self._features(parts, vectors)
        self.heads = []
        for j in range(len(MECHANISMS)):
            keep = np.flatnonzero(part_labels[:, j] != UNLABELLED)
            self.heads.append(fit_heads(x[keep], part_labels[keep, j : j + 1], self.params.sentence)[0])
            if progress:
                progress(1)
        return self

    def _embed(self, parts: list[str]) -> np.ndarray:
        """Embeddings of ``parts``, each distinct text embedded once (and kept in ``memo`` if set)."""
        if not parts:
            return embed([])
        memo: dict[str, np.ndarray] = {} if self.memo is None else self.memo
        new = sorted({p for p in parts if p not in memo})
        if new:
            memo.update(zip(new, embed(new), strict=True))
        return np.vstack([memo[p] for p in parts])

    def _features(self, parts: list[str], vectors: np.ndarray) -> Any:
        import scipy.sparse as sp

        return sp.hstack([self.vectorizer.transform(parts), sp.csr_matrix(vectors)]).tocsr()

    def sentence_proba(self, parts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """(sentences, mechanisms, levels) probabilities of the sentence heads."""
        if not parts:
            return np.zeros((0, len(MECHANISMS), LEVELS))
        return heads_proba(
            self.heads, self._features(parts, self._embed(parts) if vectors is None else vectors)
        )

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        return self.predict_with_sentences(texts, embeddings)[0]

    def predict_with_sentences(
        self, texts: list[str], embeddings: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[list[str]]]:
        """Level probabilities (texts, mechanisms, levels) and, per text and mechanism, the sentence
        that entered the mix ("" for a text without sentences): the evidence of a level."""
        parts: list[str] = []
        owner: list[int] = []
        for index, text in enumerate(texts):
            pieces = split_sentences(text)
            parts.extend(pieces)
            owner.extend([index] * len(pieces))
        if embeddings is None:  # texts and sentences in one pass; a one-sentence text is embedded once
            vectors = self._embed([*texts, *parts])
            embeddings, sentence_vectors = vectors[: len(texts)], vectors[len(texts) :]
        else:
            sentence_vectors = self._embed(parts)
        reply = self.reply.predict_proba(texts, embeddings)
        sentence = self.sentence_proba(parts, sentence_vectors)
        proba, best = mix(reply, sentence, np.asarray(owner, dtype=int), self.params.sentence_weight)
        return proba, [[parts[b] if b >= 0 else "" for b in row] for row in best]

    def save(self, folder: Path) -> None:
        self.reply.save(folder)
        joblib.dump(
            {"params": asdict(self.params), "vectorizer": self.vectorizer, "heads": self.heads},
            folder / "span.joblib",
        )

    @classmethod
    def load(cls, folder: Path) -> "SpanModel":
        state = joblib.load(folder / "span.joblib")
        params = state["params"]
        model = cls(
            SpanParams(
                sentence_weight=params["sentence_weight"],
                min_rationale_share=params["min_rationale_share"],
                reply=FastParams(**params["reply"]),
                sentence=FastParams(**params["sentence"]),
            )
        )
        model.reply = FastModel.load(folder)
        model.vectorizer, model.heads = state["vectorizer"], state["heads"]
        return model


def mix(
    reply: np.ndarray, sentence: np.ndarray, owner: np.ndarray, weight: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per text and mechanism ``(1 - weight) * reply + weight * s``, with ``s`` the probabilities of its
    sentence with the highest P(level >= 1) (a text without sentences: level 0 for certain); and the
    index of that sentence (texts, mechanisms), -1 where a text has none."""
    best = np.zeros_like(reply)
    best[:, :, 0] = 1.0
    chosen = np.full(reply.shape[:2], -1)
    strength = sentence[:, :, 1:].sum(-1)
    top = np.full(reply.shape[:2], -1.0)
    for row, text in enumerate(owner):  # the first of equally strong sentences decides
        stronger = strength[row] > top[text]
        top[text, stronger] = strength[row, stronger]
        best[text, stronger] = sentence[row, stronger]
        chosen[text, stronger] = row
    return (1.0 - weight) * reply + weight * best, chosen
