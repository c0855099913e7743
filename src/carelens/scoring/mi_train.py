"""Train and evaluate the MI behaviour-code model; write its weights and model card.

``python -m carelens.scoring.mi_train [--encoder finetuned|none|minilm] [--seed N] [--out DIR]`` (the
shipped models: ``--encoder finetuned --seed 0`` and ``--encoder none``, with ``--out
src/carelens/scoring/mi_data``). The labelled real sentences are read from the datasets
(``CARELENS_DATA_MIRROR``) by response id and sentence index and checked against their stored hashes;
the hand-written sentences are committed. The fine-tuned variant also reads ``train_labels_more.csv``
(the logistic-regression variants did not gain from it: docs/mi-model-card.md). The regularisation
strength of the logistic regressions is chosen by grouped cross-validation on the training sentences
only; the frozen evaluation set (``eval_labels.csv``) is scored once, after fitting, and never trained
on.
"""

import argparse
import hashlib
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carelens import __version__
from carelens.datasets.bundle import Bundle
from carelens.errors import CarelensError
from carelens.progress import console
from carelens.scoring.mi_features import FEATURES, sentence_features
from carelens.scoring.mi_model import CODES, ENCODERS, SHIPPED, CodeModel, _vectorizer, tfidf
from carelens.scoring.mi_text import content_words, sentence_hash, split_sentences

EVAL_FILE = SHIPPED / "eval_labels.csv"
TRAIN_FILE = SHIPPED / "train_labels.csv"
MORE_FILE = SHIPPED / "train_labels_more.csv"
HANDWRITTEN_FILE = SHIPPED / "handwritten.csv"
C_GRID = (1.0, 4.0, 16.0, 64.0)
COMMAND = (
    "python -m carelens.scoring.mi_train --encoder {encoder} --seed {seed} --out src/carelens/scoring/mi_data"
)


def _parsers() -> dict[str, Callable[[], Bundle]]:
    from carelens.datasets.counsel_chat import parse as parse_counsel_chat
    from carelens.datasets.mh_eval import parse_gpt4, parse_reddit

    return {"mh-eval-gpt4": parse_gpt4, "mh-eval-reddit": parse_reddit, "counsel-chat": parse_counsel_chat}


@cache
def _bundle(dataset: str) -> tuple[dict[str, str], dict[str, str]]:
    """Response id -> text and response id -> post text of one dataset."""
    parsers = _parsers()
    if dataset not in parsers:
        raise CarelensError(f"unknown dataset '{dataset}' in MI labels; allowed: {sorted(parsers)}")
    bundle = parsers[dataset]()
    posts = dict(zip(bundle.posts["post_id"], bundle.posts["text"], strict=True))
    responses = bundle.responses
    texts = dict(zip(responses["response_id"], responses["text"], strict=True))
    post_of = {r: posts[p] for r, p in zip(responses["response_id"], responses["post_id"], strict=True)}
    return texts, post_of


def labelled_real(path: Path) -> pd.DataFrame:
    """The labelled real sentences of a label file, with their texts and posts read from the datasets."""
    labels = pd.read_csv(path)
    rows = []
    for line, row in enumerate(labels.itertuples(index=False), start=2):
        texts, post_of = _bundle(row.dataset)
        if row.response_id not in texts:
            raise CarelensError(
                f"response {row.response_id} not found in {row.dataset}", where=f"{path}:{line}"
            )
        sentences = split_sentences(texts[row.response_id])
        if row.index >= len(sentences) or sentence_hash(sentences[row.index]) != row.sha:
            raise CarelensError(
                "the labelled sentence has changed (text or sentence splitter); relabel it",
                where=f"{path}:{line}",
            )
        if row.code not in CODES:
            raise CarelensError(
                f"unknown code '{row.code}'; allowed: {', '.join(CODES)}", where=f"{path}:{line}"
            )
        rows.append(
            {
                "sentence": sentences[row.index],
                "post": post_of[row.response_id],
                "code": row.code,
                "group": f"{row.dataset}:{row.response_id}",
                "stratum": row.stratum,
                "source": row.dataset,
            }
        )
    return pd.DataFrame(rows)


def handwritten() -> pd.DataFrame:
    frame = pd.read_csv(HANDWRITTEN_FILE, keep_default_na=False)
    unknown = sorted(set(frame["code"]) - set(CODES))
    if unknown:
        raise CarelensError(f"unknown code(s) {unknown}", where=str(HANDWRITTEN_FILE))
    return frame.assign(
        group="hand:" + frame["group"].astype(str), stratum="handwritten", source="handwritten"
    )[["sentence", "post", "code", "group", "stratum", "source"]]


def checksum(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _blocks(frame: pd.DataFrame, encoder: str) -> tuple[Any, np.ndarray, np.ndarray | None]:
    """Counts input, raw cues and (MiniLM) embeddings of a labelled frame."""
    post_words = [content_words(p) for p in frame["post"]]
    cues = np.stack([sentence_features(s, w) for s, w in zip(frame["sentence"], post_words, strict=True)])
    embeddings = _embeddings(tuple(frame["sentence"])) if encoder == "minilm" else None
    return list(frame["sentence"]), cues, embeddings


_EMBEDDED: dict[str, np.ndarray] = {}


def _embeddings(sentences: tuple[str, ...]) -> np.ndarray:
    """MiniLM embeddings, each sentence embedded once per training run (they do not depend on batch mates)."""
    from carelens.scoring.sentence_embed import embed_sentences

    missing = sorted(set(sentences) - set(_EMBEDDED))
    if missing:
        _EMBEDDED.update(zip(missing, embed_sentences(missing), strict=True))
    return np.stack([_EMBEDDED[s] for s in sentences])


def _cue_scaling(cues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale that standardise the cues (a constant cue keeps scale 1)."""
    mean, scale = cues.mean(axis=0), cues.std(axis=0)
    return mean, np.where(scale < 1e-6, 1.0, scale)


def fit_finetuned(frame: pd.DataFrame, seed: int) -> CodeModel:
    """Fine-tune MiniLM and the head on a labelled frame (``carelens.scoring.mi_finetune``)."""
    from carelens.scoring.mi_finetune import FineTuning
    from carelens.scoring.mi_finetune import fit as fine_tune

    sentences, cues, _ = _blocks(frame, "none")
    mean, scale = _cue_scaling(cues)
    codes = np.array([CODES.index(c) for c in frame["code"]])
    standard = ((cues - mean) / scale).astype(np.float32)
    network, coef, intercept = fine_tune(sentences, standard, codes, len(CODES), seed)
    return CodeModel(
        encoder="finetuned",
        vocabulary={},
        idf=np.zeros(0, dtype=np.float32),
        cue_mean=mean.astype(np.float32),
        cue_scale=scale.astype(np.float32),
        coef=coef,
        intercept=intercept,
        classes=CODES,
        card={"cue_features": list(FEATURES), "C": None, "fine_tuning": FineTuning().to_json()},
        network=network,
    )


def fit(frame: pd.DataFrame, encoder: str, c: float | None, seed: int) -> CodeModel:
    """Fit vocabulary, IDF, cue scaling and the logistic regression on a labelled frame (or fine-tune)."""
    from sklearn.linear_model import LogisticRegression

    if encoder == "finetuned":
        return fit_finetuned(frame, seed)
    if c is None:
        raise ValueError("the logistic regression needs C")
    sentences, cues, embeddings = _blocks(frame, encoder)
    vectorizer = _vectorizer()
    counts = vectorizer.fit_transform(sentences)
    vocabulary = {t: int(i) for t, i in vectorizer.vocabulary_.items()}
    document_frequency = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = (np.log((1 + len(sentences)) / (1 + document_frequency)) + 1).astype(np.float32)
    mean, scale = _cue_scaling(cues)
    blocks = [tfidf(counts, idf), (cues - mean) / scale]
    if embeddings is not None:
        blocks.append(embeddings)
    design = np.hstack(blocks)
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed)
    classifier.fit(design, frame["code"])
    return CodeModel(
        encoder=encoder,
        vocabulary=vocabulary,
        idf=idf,
        cue_mean=mean.astype(np.float32),
        cue_scale=scale.astype(np.float32),
        coef=classifier.coef_.astype(np.float32),
        intercept=classifier.intercept_.astype(np.float32),
        classes=tuple(classifier.classes_),
        card={"cue_features": list(FEATURES), "C": c},
    )


def figures(truth: list[str], predicted: list[str]) -> dict[str, Any]:
    """Per-code precision, recall, F1 and support; accuracy, macro-F1 and Cohen's kappa."""
    from sklearn.metrics import (
        accuracy_score,
        cohen_kappa_score,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=list(CODES), zero_division=0)
    present = [i for i, n in enumerate(s) if n > 0]
    merged = [["R" if c in ("SR", "CR") else c for c in codes] for codes in (truth, predicted)]
    rp, rr, rf, rs = precision_recall_fscore_support(*merged, labels=["R"], zero_division=0)
    return {
        "reflection_sr_or_cr": {
            "precision": round(float(rp[0]), 3),
            "recall": round(float(rr[0]), 3),
            "f1": round(float(rf[0]), 3),
            "support": int(rs[0]),
        },
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 3),
        "macro_f1_present_codes": round(float(np.mean([f[i] for i in present])), 3),
        "kappa": round(float(cohen_kappa_score(truth, predicted)), 3),
        "per_code": {
            code: {
                "precision": round(float(p[i]), 3),
                "recall": round(float(r[i]), 3),
                "f1": round(float(f[i]), 3),
                "support": int(s[i]),
            }
            for i, code in enumerate(CODES)
        },
        "confusion_matrix": {
            "labels": list(CODES),
            "rows_true": confusion_matrix(truth, predicted, labels=list(CODES)).tolist(),
        },
    }


def predict_frame(model: CodeModel, frame: pd.DataFrame) -> list[str]:
    sentences, _, embeddings = _blocks(frame, model.encoder)
    if model.encoder == "finetuned":
        embeddings = model.embeddings(sentences)
    scores = model.decision(model.design(sentences, [content_words(p) for p in frame["post"]], embeddings))
    return [model.classes[i] for i in scores.argmax(axis=1)]


def cross_validate(
    frame: pd.DataFrame, encoder: str, c: float | None, folds: int, seed: int
) -> dict[str, Any]:
    """Grouped K-fold (a reply's sentences stay together) on the training sentences."""
    from sklearn.model_selection import GroupKFold

    truth: list[str] = []
    predicted: list[str] = []
    splits = GroupKFold(n_splits=folds).split(frame, groups=frame["group"])
    for fold, (train_index, test_index) in enumerate(splits, start=1):
        model = fit(frame.iloc[train_index], encoder, c, seed)
        truth += list(frame.iloc[test_index]["code"])
        predicted += predict_frame(model, frame.iloc[test_index])
        if encoder == "finetuned":
            console.print(f"  fold {fold} of {folds} done")
    return figures(truth, predicted)


def train_mi(encoder: str = "none", out: Path | None = None, seed: int = 13, folds: int = 5) -> Path:
    """Train on the real and hand-written training sentences, evaluate on the frozen set, save."""
    if encoder not in ENCODERS:
        raise CarelensError(f"unknown encoder '{encoder}'; allowed: {', '.join(ENCODERS)}", where="--encoder")
    started = time.perf_counter()
    console.print("[bold]Reading the labelled sentences from the datasets ...[/bold]")
    parts = [labelled_real(TRAIN_FILE), handwritten()]
    label_files = [TRAIN_FILE, HANDWRITTEN_FILE]
    if encoder == "finetuned":
        parts.append(labelled_real(MORE_FILE))
        label_files.append(MORE_FILE)
    train = pd.concat(parts, ignore_index=True)
    frozen = labelled_real(EVAL_FILE)
    overlap = set(train["group"]) & set(frozen["group"])
    if overlap:
        raise CarelensError(
            f"{len(overlap)} replies are in both the training and the evaluation set", where=str(EVAL_FILE)
        )
    purpose = "" if encoder == "finetuned" else ", choosing C"
    console.print(f"[bold]{folds}-fold grouped cross-validation on {len(train)} sentences{purpose}[/bold]")
    grid: tuple[float | None, ...] = (None,) if encoder == "finetuned" else C_GRID
    cv = {c: cross_validate(train, encoder, c, folds, seed) for c in grid}
    best = max(grid, key=lambda c: (cv[c]["macro_f1_present_codes"], -(c or 0)))
    model = fit(train, encoder, best, seed)
    predicted = predict_frame(model, frozen)
    random_stratum = (frozen["stratum"] == "random").to_numpy()
    model.card.update(
        {
            "model": f"mi-codes-{encoder}",
            "carelens_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": COMMAND.format(encoder=encoder, seed=seed),
            "seed": seed,
            "data": {
                "train_real_sentences": int((train["stratum"] != "handwritten").sum()),
                "label_files": [p.name for p in label_files],
                "train_handwritten_sentences": int((train["stratum"] == "handwritten").sum()),
                "train_code_counts": train["code"].value_counts().to_dict(),
                "eval_sentences": len(frozen),
                "eval_random_stratum": int(random_stratum.sum()),
                "labels_sha256": checksum(*label_files),
                "eval_labels_sha256": checksum(EVAL_FILE),
            },
            "cv_macro_f1_by_C": {str(c): cv[c]["macro_f1_present_codes"] for c in grid if c is not None},
            "cv": cv[best],
            "frozen_eval": figures(list(frozen["code"]), predicted),
            "frozen_eval_random_stratum": figures(
                list(frozen.loc[random_stratum, "code"]),
                [p for p, keep in zip(predicted, random_stratum, strict=True) if keep],
            ),
            "train_seconds": round(time.perf_counter() - started, 1),
        }
    )
    folder = out or SHIPPED
    path = model.save(folder, f"mi_model_{encoder}" if encoder != "none" else "mi_model")
    console.print(f"[bold]model written to {path}[/bold]")
    return path


def render_card(card: dict[str, Any]) -> str:
    """The model card in Markdown: data, choice of C, per-code figures on CV and the frozen set."""
    data = card["data"]
    if card["encoder"] == "finetuned":
        how = (
            "MiniLM fine-tuned end to end with a linear head over its sentence vector and the cues "
            f"(carelens.scoring.mi_finetune; {card['fine_tuning']})"
        )
    else:
        how = (
            f"logistic regression C = {card['C']} (chosen by grouped 5-fold cross-validation on the "
            f"training sentences: {card['cv_macro_f1_by_C']})"
        )
    lines = [
        f"# Model card: {card['model']}",
        "",
        "MITI 4.2.1 behaviour code of each reply sentence (see docs/mi-coding-guide.md for the codes, "
        "the labelled sets and the rules that turn codes into the `mi` metrics).",
        "",
        f"- Created {card['created']} with carelens {card['carelens_version']}; seed {card['seed']}; "
        f"encoder: {card['encoder']}; {how}.",
        f"- Reproduce: `{card['command']}` (with CARELENS_DATA_MIRROR set); {card['train_seconds']} s "
        "on a shared 2-core machine.",
        f"- Training data: {data['train_real_sentences']} sentences of real replies "
        f"({', '.join(f for f in data['label_files'] if f != 'handwritten.csv')}) and "
        f"{data['train_handwritten_sentences']} hand-written sentences "
        f"(handwritten.csv); labels sha256 `{data['labels_sha256'][:16]}…`. "
        f"Codes: {data['train_code_counts']}.",
        f"- Frozen evaluation set: {data['eval_sentences']} sentences (eval_labels.csv, sha256 "
        f"`{data['eval_labels_sha256'][:16]}…`), of which {data['eval_random_stratum']} were drawn at random "
        "and the rest among cue-word matches (see the guide); never trained on, scored once.",
        "",
        "## Figures",
        "",
        "| code | CV P / R / F1 (n) | frozen set P / R / F1 (n) | frozen random stratum P / R / F1 (n) |",
        "|---|---|---|---|",
    ]
    blocks = [card["cv"], card["frozen_eval"], card["frozen_eval_random_stratum"]]

    def cell(v: dict[str, Any]) -> str:
        return f"{v['precision']:.2f} / {v['recall']:.2f} / {v['f1']:.2f} ({v['support']})"

    for code in CODES:
        lines.append(f"| {code} | " + " | ".join(cell(b["per_code"][code]) for b in blocks) + " |")
    lines.append(
        "| SR or CR (any reflection) | " + " | ".join(cell(b["reflection_sr_or_cr"]) for b in blocks) + " |"
    )
    lines.append(
        "| all: accuracy / macro-F1 / kappa | "
        + " | ".join(
            f"{b['accuracy']:.3f} / {b['macro_f1_present_codes']:.3f} / {b['kappa']:.3f}" for b in blocks
        )
        + " |"
    )
    lines += ["", "Macro-F1 averages the codes present in that set."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="finetuned", choices=ENCODERS)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    path = train_mi(args.encoder, args.out, args.seed)
    import json

    card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    path.with_suffix(".md").write_text(render_card(card), encoding="utf-8")
    for key in ("cv_macro_f1_by_C", "C"):
        print(key, card[key])
    for name in ("cv", "frozen_eval", "frozen_eval_random_stratum"):
        block = card[name]
        print(
            f"{name}: n={block['n']} accuracy={block['accuracy']} "
            f"macro-F1={block['macro_f1_present_codes']} kappa={block['kappa']}"
        )
        for code, v in [*block["per_code"].items(), ("SR|CR", block["reflection_sr_or_cr"])]:
            print(f"  {code:5} P={v['precision']:.2f} R={v['recall']:.2f} F1={v['f1']:.2f} n={v['support']}")


if __name__ == "__main__":
    main()
