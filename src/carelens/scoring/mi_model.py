"""The MI behaviour-code model: one MITI 4.2.1 code per reply sentence.

Three variants, by ``encoder``. ``finetuned`` (the shipped default): a fine-tuned MiniLM's sentence
vector and the interpretable cues of ``carelens.scoring.mi_features`` under one linear layer
(``carelens.scoring.mi_finetune``). ``none``: a multinomial logistic regression over word uni- and
bi-grams (TF-IDF, sublinear counts) and the cues, numpy only. ``minilm``: the same plus the sentence's
frozen MiniLM embedding. The linear weights are plain arrays (``NAME.npz``) with a JSON card beside
them; the fine-tuned encoder's weights are in ``NAME.encoder.npz``.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from carelens.errors import CarelensError
from carelens.scoring.mi_features import FEATURES, sentence_features

CODES: tuple[str, ...] = ("GI", "PERS", "PWP", "Q", "SR", "CR", "AF", "SEEK", "EMPH", "CON", "NC")
CODE_NAMES: dict[str, str] = {
    "GI": "giving information",
    "PERS": "persuade",
    "PWP": "persuade with permission",
    "Q": "question",
    "SR": "simple reflection",
    "CR": "complex reflection",
    "AF": "affirm",
    "SEEK": "seeking collaboration",
    "EMPH": "emphasizing autonomy",
    "CON": "confront",
    "NC": "not coded",
}
TOKEN_PATTERN = r"[a-z]+(?:'[a-z]+)?|\?"
NGRAMS = (1, 2)
ENCODERS = ("finetuned", "none", "minilm")
SHIPPED = Path(__file__).parent / "mi_data"


def _vectorizer(vocabulary: dict[str, int] | None = None, min_df: int = 2) -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        lowercase=True,
        token_pattern=TOKEN_PATTERN,
        ngram_range=NGRAMS,
        vocabulary=vocabulary,
        min_df=min_df if vocabulary is None else 1,
        preprocessor=lambda text: text.lower().replace("’", "'"),
    )


def tfidf(counts: Any, idf: np.ndarray) -> np.ndarray:
    """Sublinear TF-IDF rows, L2-normalised (dense)."""
    dense = np.asarray(counts.todense(), dtype=np.float32)
    weighted = np.where(dense > 0, 1 + np.log(np.maximum(dense, 1)), 0) * idf
    norms = np.linalg.norm(weighted, axis=1, keepdims=True)
    return (weighted / np.where(norms == 0, 1, norms)).astype(np.float32)


@dataclass
class CodeModel:
    """Fitted weights; ``classes`` are codes in the row order of ``coef``."""

    encoder: str
    vocabulary: dict[str, int]
    idf: np.ndarray
    cue_mean: np.ndarray
    cue_scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    classes: tuple[str, ...]
    card: dict[str, Any]
    network: Any = None  # the fine-tuned encoder (``finetuned`` only)

    def embeddings(self, sentences: list[str]) -> np.ndarray | None:
        """The sentence vectors of the variant: fine-tuned, frozen MiniLM, or none."""
        if self.encoder == "finetuned":
            from carelens.scoring.mi_finetune import pooled

            return pooled(self.network, sentences)
        if self.encoder == "minilm":
            from carelens.scoring.sentence_embed import embed_sentences

            return embed_sentences(sentences)
        return None

    def design(
        self, sentences: list[str], post_words: list[set[str]], embeddings: np.ndarray | None
    ) -> np.ndarray:
        """The feature matrix: (TF-IDF,) standardised cues (, frozen embeddings); for the fine-tuned
        variant, its sentence vectors then the cues."""
        cues = np.stack([sentence_features(s, w) for s, w in zip(sentences, post_words, strict=True)])
        standard = (cues - self.cue_mean) / self.cue_scale
        if self.encoder == "none":
            return np.hstack([tfidf(_vectorizer(self.vocabulary).transform(sentences), self.idf), standard])
        if embeddings is None:
            raise ValueError(f"the {self.encoder} variant needs sentence embeddings")
        if self.encoder == "finetuned":
            return np.hstack([embeddings, standard]).astype(np.float32)
        counts = _vectorizer(self.vocabulary).transform(sentences)
        return np.hstack([tfidf(counts, self.idf), standard, embeddings]).astype(np.float32)

    def decision(self, design: np.ndarray) -> np.ndarray:
        return design.astype(np.float64) @ self.coef.T.astype(np.float64) + self.intercept

    def predict(self, sentences: list[str], post_words: list[set[str]]) -> tuple[list[str], np.ndarray]:
        """The code and the code probabilities of each sentence."""
        if not sentences:
            return [], np.zeros((0, len(self.classes)))
        scores = self.decision(self.design(sentences, post_words, self.embeddings(sentences)))
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        return [self.classes[i] for i in scores.argmax(axis=1)], probs

    def save(self, folder: Path, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            folder / f"{name}.npz",
            idf=self.idf.astype(np.float32),
            cue_mean=self.cue_mean.astype(np.float32),
            cue_scale=self.cue_scale.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
        )
        meta = {**self.card, "encoder": self.encoder, "classes": list(self.classes), "terms": terms}
        (folder / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        if self.network is not None:
            from carelens.scoring.mi_finetune import save_network

            save_network(self.network, folder / f"{name}.encoder.npz")
        return folder / f"{name}.npz"


def load_model(path: Path) -> CodeModel:
    """A model saved by ``CodeModel.save`` (``NAME.npz`` with ``NAME.json`` beside it)."""
    meta_path = path.with_suffix(".json")
    if not path.exists() or not meta_path.exists():
        raise CarelensError(
            "no MI code model here (NAME.npz and NAME.json); run `python -m carelens.scoring.mi_train`",
            where=str(path),
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    arrays = np.load(path)
    if tuple(meta["cue_features"]) != FEATURES:
        raise CarelensError("the model was trained with other cue features; retrain it", where=str(path))
    terms = meta.pop("terms")
    network = None
    if meta["encoder"] == "finetuned":
        from carelens.scoring.mi_finetune import load_network

        network = load_network(path.with_suffix(".encoder.npz"))
    return CodeModel(
        encoder=meta["encoder"],
        vocabulary={t: i for i, t in enumerate(terms)},
        idf=arrays["idf"],
        cue_mean=arrays["cue_mean"],
        cue_scale=arrays["cue_scale"],
        coef=arrays["coef"],
        intercept=arrays["intercept"],
        classes=tuple(meta["classes"]),
        card=meta,
        network=network,
    )
