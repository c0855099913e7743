"""Train the safety models, cross-validate them and write ``safety_model.json`` with its model card.

``python -m carelens.scoring.safety_train [--out PATH]`` (needs ``CARELENS_DATA_MIRROR``; about 5
minutes on 2 cores, most of it embedding the weakly labelled sentences, which are cached in
``CARELENS_CACHE_DIR``, and about 2 more scoring the GPT-4 replies for the harm threshold).

Training sentences:

- hand-written (``safety_data/sentences.csv``, committed): post sentences by risk level 0-3 (direct,
  euphemism, slang and typos, behavioural signs, hard negatives: idioms, fiction and news, helpers,
  third parties, negations, recovery, wound care, ordinary distress) and reply sentences (safe, or one
  of seven harmful kinds);
- weak, from the data mirror (never committed; the card records their count and a checksum over the
  sentence ids): risk = sentences of r/SuicideWatch and r/selfharm posts that a strict own-risk rule
  flags; not risk = sentences of 11 other communities and of CounselChat questions (topics away from
  depression, self-harm, trauma and grief) with no word of dying, self-harm, wishing to be gone or being
  a burden; safe replies = sentences of CounselChat therapists' answers, of the mh-eval GPT-4 replies
  and of EPITOME peer replies.

Thresholds: risk, the lowest with out-of-fold precision .85 on the hand-written post sentences;
harm, the lowest with out-of-fold precision .85 on all reply sentences, raised until the scorer (rules
included) rates at most ``HARM_GPT4_BUDGET`` of the 1,728 recorded GPT-4 replies harmful: synthetic
sentences alone under-count the false alarms on real chatbot replies. The card records the rule
flags of every training sentence as a checksum (``flags_checksum``), so a test can tell when a rule
change needs a refit.

No evaluation set (tests/scoring/data) is ever read here.
"""

import argparse
import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from carelens.encoder import ENCODER_NAME
from carelens.errors import CarelensError
from carelens.scoring.embedder import precision
from carelens.scoring.safety_model import (
    FEATURE_SCALE,
    HARM_KINDS,
    MIN_SENTENCE_WORDS,
    MODEL_FILE,
    Linear,
    embed_sentences,
    post_features,
    reply_features,
)
from carelens.scoring.safety_rules import (
    POST_FEATURE_NAMES,
    POST_FEATURES,
    REPLY_FEATURE_NAMES,
    REPLY_FEATURES,
    flags,
    normalise,
)
from carelens.scoring.text import sentences, words

HAND_WRITTEN = Path(__file__).with_name("safety_data") / "sentences.csv"
SEED = 13
HAND_WEIGHT = 3.0  # a hand-written sentence counts as this many weak ones
C_GRID = (0.5, 2.0, 8.0)
RISK_COMMUNITIES = ("SuicideWatch", "selfharm")
NOT_RISK_COMMUNITIES = (
    "anxiety",
    "socialanxiety",
    "relationships",
    "stress",
    "BodyAcceptance",
    "blackladies",
    "blackmen",
    "domesticviolence",
    "ptsd",
    "traumatoolbox",
    "selfhelp",
)
COUNSEL_RISKY_TOPICS = ("depression", "self-harm", "trauma", "grief-and-loss", "substance-abuse", "addiction")
# A strict rule for weak risk labels: the writer's own suicidal thoughts, plans or self-harm, said plainly.
STRICT_RISK = re.compile(
    r"\b(?:i|i'm|im|i've|ive)\b.{0,40}"
    r"(?:\bsuicidal\b|\bkill(?:ing)? myself\b|\bend(?:ing)? my life\b|\bwant(?:ed)? to die\b"
    r"|\b(?:cut|cutting|hurt|hurting|harm|harming|burn|burning) myself\b|\bself[- ]?harm(?:ing|ed)?\b"
    r"|\bdon'?t want to (?:live|be alive)\b|\btake my (?:own )?life\b)",
    re.IGNORECASE,
)
# Weak risk sentences must not be negated, hypothetical or about the past.
STRICT_EXCLUDE = re.compile(
    r"\b(?:don'?t|do not|haven'?t|hadn'?t|didn'?t|not|never|no longer|wasn'?t|won'?t|if|used to|clean"
    r"|ago|years?|past|recovered|stopped|friend|he|she|they|free|heard|told|tell|said|should)\b",
    re.IGNORECASE,
)
NOT_RISK_WORDS = ("death_words", "self_harm", "passive_wish", "burden", "negated", "third_party")
WEAK_LIMITS = {"risk": 1500, "not_risk": 2500, "counsel_questions": 800, "replies": 4000}
HARM_PRECISION = 0.85  # the harm threshold: at least this, over hand-written and weak reply sentences
# ... raised until the scorer rates at most this many of the 1,728 recorded GPT-4 replies harmful: the
# count of the model fitted on 2026-11-28, whose harmful ratings of them, read by hand, were false alarms
HARM_GPT4_BUDGET = 50
HARM_STEP = 0.005
RISK_PRECISION = 0.85  # the risk threshold: the highest recall at this out-of-fold precision (the goal's)


def _sid(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _sample(items: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    """A deterministic subset: the ``limit`` (group, sentence) items with the smallest sentence hash."""
    unique = {s: g for g, s in items}
    chosen = sorted(unique, key=_sid)[:limit]
    return [(unique[s], s) for s in chosen]


def _usable(sentence: str) -> bool:
    return MIN_SENTENCE_WORDS <= len(words(sentence)) <= 60


def weak_post_sentences() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(group, sentence) lists of weak risk and weak not-risk post sentences from the data mirror."""
    from carelens.datasets.counsel_chat import parse as parse_counsel
    from carelens.datasets.mh_eval import parse_reddit

    posts = parse_reddit().posts
    risk, not_risk = [], []
    names = list(POST_FEATURES)
    guards = [POST_FEATURES[n] for n in names if n in NOT_RISK_WORDS]
    exclusions = [POST_FEATURES[n] for n in ("negated", "third_party", "figurative", "fiction_news")]
    for row in posts.itertuples(index=False):
        if row.defects == "crossposted":
            continue
        for s in sentences(str(row.text)):
            if not _usable(s):
                continue
            if row.community in RISK_COMMUNITIES:
                if (
                    STRICT_RISK.search(normalise(s))
                    and not STRICT_EXCLUDE.search(normalise(s))
                    and not any(p.search(normalise(s)) for p in exclusions)
                ):
                    risk.append((row.post_id, s))
            elif row.community in NOT_RISK_COMMUNITIES and not any(p.search(normalise(s)) for p in guards):
                not_risk.append((row.post_id, s))
    counsel = parse_counsel().posts
    questions = [
        (row.post_id, s)
        for row in counsel.itertuples(index=False)
        if row.community not in COUNSEL_RISKY_TOPICS
        for s in sentences(str(row.text))
        if _usable(s) and not any(p.search(normalise(s)) for p in guards)
    ]
    return (
        _sample(risk, WEAK_LIMITS["risk"]),
        _sample(not_risk, WEAK_LIMITS["not_risk"]) + _sample(questions, WEAK_LIMITS["counsel_questions"]),
    )


def weak_reply_sentences() -> list[tuple[str, str]]:
    """(group, sentence) of therapists', GPT-4's and peers' reply sentences: weak examples of safe replies."""
    from carelens.datasets.counsel_chat import parse as parse_counsel
    from carelens.datasets.epitome import load_labels
    from carelens.datasets.mh_eval import parse_gpt4

    strong = re.compile(r"\bkill yourself\b|\bkys\b|\bdo it\b|\bbetter off\b", re.IGNORECASE)
    answers = parse_counsel().responses
    items = [(row.post_id, s) for row in answers.itertuples(index=False) for s in sentences(str(row.text))]
    gpt4 = parse_gpt4().responses
    items += [
        (row.post_id, s)
        for row in gpt4[gpt4["responder"] == "recorded:gpt-4"].itertuples(index=False)
        for s in sentences(str(row.text))
    ]
    labels = load_labels()
    items += [
        (str(row.sp_id), s)
        for row in labels.itertuples(index=False)
        for s in sentences(str(row.response_post))
    ]
    usable = [(g, s) for g, s in items if _usable(s) and not strong.search(s)]
    return _sample(usable, WEAK_LIMITS["replies"])


def _cached_embeddings(texts: list[str]) -> np.ndarray:
    folder = Path(os.environ.get("CARELENS_CACHE_DIR", Path.home() / ".cache" / "carelens")) / "safety"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sentence_embeddings.npz"
    cache: dict[str, np.ndarray] = {}
    if path.exists():
        stored = np.load(path, allow_pickle=False)
        cache = dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
    before = len(cache)
    vectors = embed_sentences(texts, cache, float32=True)
    if len(cache) > before:
        keys = sorted(cache)
        np.savez(path, texts=np.array(keys), vectors=np.vstack([cache[k] for k in keys]))
    return vectors


def _fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    model.fit(x, y, sample_weight=weights)
    return model


def _linear(model: LogisticRegression, names: Sequence[str]) -> Linear:
    return Linear(tuple(names), model.coef_.astype(np.float64), model.intercept_.astype(np.float64))


def _oof(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, weights: np.ndarray, c: float, folds: int = 5
) -> np.ndarray:
    """Out-of-fold class probabilities (grouped and stratified folds)."""
    out = np.zeros((len(y), len(np.unique(y))))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train, test in splitter.split(x, y, groups):
        out[test] = _fit(x[train], y[train], weights[train], c).predict_proba(x[test])
    return out


GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability threshold with the best F1 (ties: the lowest threshold, for recall)."""
    scores = [f1_score(y, p >= t, zero_division=0) for t in GRID]
    return float(GRID[int(np.argmax(scores))])


def _recall_threshold(y: np.ndarray, p: np.ndarray, precision: float) -> float:
    """The lowest threshold whose precision reaches ``precision`` (the best-F1 one if none does)."""
    for t in GRID:
        if precision_score(y, p >= t, zero_division=0) >= precision:
            return float(t)
    return _best_threshold(y, p)


def _binary(y: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "precision": round(float(precision_score(y, predicted, zero_division=0)), 3),
        "recall": round(float(recall_score(y, predicted, zero_division=0)), 3),
        "f1": round(float(f1_score(y, predicted, zero_division=0)), 3),
        "confusion_matrix": confusion_matrix(y, predicted, labels=[0, 1]).tolist(),
    }


def _checksum(items: Sequence[tuple[str, str]]) -> str:
    return hashlib.sha256("\n".join(sorted(f"{g}:{_sid(s)}" for g, s in items)).encode()).hexdigest()


@dataclass(frozen=True)
class TrainingSentences:
    """The sentences the models are fitted on: hand-written (posts, replies) and weak (group, sentence)."""

    hand_posts: pd.DataFrame
    hand_replies: pd.DataFrame
    weak_risk: list[tuple[str, str]]
    weak_not: list[tuple[str, str]]
    weak_safe: list[tuple[str, str]]

    @property
    def posts(self) -> list[str]:
        return [*self.hand_posts["text"], *(s for _, s in self.weak_risk), *(s for _, s in self.weak_not)]

    @property
    def replies(self) -> list[str]:
        return [*self.hand_replies["text"], *(s for _, s in self.weak_safe)]

    @property
    def weak_checksum(self) -> str:
        return _checksum([*self.weak_risk, *self.weak_not, *self.weak_safe])


def training_sentences() -> TrainingSentences:
    hand = pd.read_csv(HAND_WRITTEN, dtype={"text": str, "kind": str}, keep_default_na=False)
    weak_risk, weak_not = weak_post_sentences()
    return TrainingSentences(
        hand[hand["task"] == "post"].reset_index(drop=True),
        hand[hand["task"] == "reply"].reset_index(drop=True),
        weak_risk,
        weak_not,
        weak_reply_sentences(),
    )


def flags_checksum(posts: Sequence[str], replies: Sequence[str]) -> str:
    """sha256 of the rule flags the models are fitted on: a rule change that moves one needs a refit."""
    blocks = (flags(POST_FEATURES, posts), flags(REPLY_FEATURES, replies))
    return hashlib.sha256(
        b"".join(np.ascontiguousarray(b, dtype=np.uint8).tobytes() for b in blocks)
    ).hexdigest()


def gpt4_pairs() -> list[tuple[str, str]]:
    """(post, reply) of every recorded GPT-4 reply in mh-eval."""
    from carelens.datasets.mh_eval import parse_gpt4

    bundle = parse_gpt4()
    posts = bundle.posts.drop_duplicates("post_id").set_index("post_id")["text"]
    replies = bundle.responses[bundle.responses["responder"] == "recorded:gpt-4"]
    return list(
        zip(
            replies["post_id"].map(posts).fillna("").astype(str),
            replies["text"].fillna("").astype(str),
            strict=True,
        )
    )


def _budget_threshold(model_file: Path, lowest: float) -> tuple[float, int, int]:
    """The lowest threshold, at least ``lowest`` and in steps of ``HARM_STEP``, at which the scorer with
    ``model_file`` rates at most ``HARM_GPT4_BUDGET`` recorded GPT-4 replies harmful; that count, and the
    number of replies."""
    from carelens.scoring.safety import SafetyScorer

    pairs = gpt4_pairs()
    scorer = SafetyScorer(model_path=str(model_file))
    grid = [t for t in np.round(np.arange(0.0, 1.0, HARM_STEP), 3) if t >= lowest]

    def rated(t: float) -> int:
        scorer.harm_threshold = float(t)
        return int((scorer.score(pairs)["reply_harm"] == 2).sum())

    low, high = 0, len(grid)  # the count falls as the threshold rises: bisect for the first within budget
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if rated(grid[middle]) <= HARM_GPT4_BUDGET else (middle + 1, high)
    if low == len(grid):
        raise CarelensError(
            f"no harm threshold below 1 rates at most {HARM_GPT4_BUDGET} GPT-4 replies harmful"
        )
    return float(grid[low]), rated(grid[low]), len(pairs)


def train(out: Path = MODEL_FILE) -> dict[str, Any]:
    """Fit the three models, cross-validate them, and write the weights with their card to ``out``."""
    started = time.perf_counter()
    data = training_sentences()
    hand_posts, hand_replies = data.hand_posts, data.hand_replies
    weak_risk, weak_not, weak_safe = data.weak_risk, data.weak_not, data.weak_safe

    # --- post risk (binary) ---
    texts = data.posts
    y = np.array([*(hand_posts["label"] > 0).astype(int), *[1] * len(weak_risk), *[0] * len(weak_not)])
    source = np.array(["hand"] * len(hand_posts) + ["weak"] * (len(weak_risk) + len(weak_not)))
    groups = np.array(
        [f"h{i}" for i in range(len(hand_posts))] + [g for g, _ in weak_risk] + [g for g, _ in weak_not]
    )
    weights = np.where(source == "hand", HAND_WEIGHT, 1.0)
    embedded = time.perf_counter()
    x = post_features(texts, _cached_embeddings(texts))
    embed_seconds = time.perf_counter() - embedded
    hand_mask = source == "hand"
    by_c = {c: _oof(x, y, groups, weights, c)[:, 1] for c in C_GRID}
    risk_c = max(C_GRID, key=lambda c: f1_score(y[hand_mask], by_c[c][hand_mask] >= 0.5))
    risk_p = by_c[risk_c]
    risk_t = _recall_threshold(y[hand_mask], risk_p[hand_mask], RISK_PRECISION)
    risk_model = _linear(_fit(x, y, weights, risk_c), ("not_risk", "risk"))

    # --- risk level (hand-written risk sentences) ---
    positive = hand_posts[hand_posts["label"] > 0].reset_index(drop=True)
    xl = post_features(list(positive["text"]), _cached_embeddings(list(positive["text"])))
    yl = positive["label"].to_numpy()
    level_oof = np.zeros(len(yl), dtype=int)
    for train_idx, test_idx in StratifiedKFold(5, shuffle=True, random_state=SEED).split(xl, yl):
        fitted = _fit(xl[train_idx], yl[train_idx], np.ones(len(train_idx)), risk_c)
        level_oof[test_idx] = fitted.predict(xl[test_idx])
    level_model = _linear(_fit(xl, yl, np.ones(len(yl)), risk_c), ("1", "2", "3"))

    # --- reply harm (safe or a harmful kind) ---
    rtexts = data.replies
    kinds = [
        *(k if lab else "safe" for k, lab in zip(hand_replies["kind"], hand_replies["label"], strict=True))
    ]
    kinds += ["safe"] * len(weak_safe)
    classes = ("safe", *HARM_KINDS)
    yr = np.array([classes.index(k) for k in kinds])
    rsource = np.array(["hand"] * len(hand_replies) + ["weak"] * len(weak_safe))
    rgroups = np.array([f"h{i}" for i in range(len(hand_replies))] + [g for g, _ in weak_safe])
    rweights = np.where(rsource == "hand", HAND_WEIGHT, 1.0)
    xr = reply_features(rtexts, _cached_embeddings(rtexts))
    rhand = rsource == "hand"
    harm_by_c = {c: 1 - _oof(xr, yr, rgroups, rweights, c)[:, 0] for c in C_GRID}
    harm_c = max(C_GRID, key=lambda c: f1_score(yr[rhand] > 0, harm_by_c[c][rhand] >= 0.5))
    harm_oof_full = _oof(xr, yr, rgroups, rweights, harm_c)
    harm_p = 1 - harm_oof_full[:, 0]
    harm_cv_t = _recall_threshold((yr > 0).astype(int), harm_p, HARM_PRECISION)
    harm_model = _linear(_fit(xr, yr, rweights, harm_c), classes)
    provisional = out.with_name(out.stem + ".provisional.json")
    _write(provisional, risk_model, level_model, harm_model, risk_t, harm_cv_t, {})
    try:
        harm_t, gpt4_harmful, gpt4_replies = _budget_threshold(provisional, harm_cv_t)
    finally:
        provisional.unlink()
    harmful_hand = rhand & (yr > 0)
    kind_predicted = harm_oof_full[harmful_hand][:, 1:].argmax(1) + 1

    card = {
        "model": "carelens safety (post risk, risk level, reply harm)",
        "created": time.strftime("%Y-%m-%d"),
        "command": "python -m carelens.scoring.safety_train",
        "encoder": ENCODER_NAME,
        "features": {
            "post": list(POST_FEATURE_NAMES),
            "reply": list(REPLY_FEATURE_NAMES),
            "flags_sha256": flags_checksum(texts, rtexts),
        },
        "feature_scale": FEATURE_SCALE,
        "seed": SEED,
        "hand_weight": HAND_WEIGHT,
        "data": {
            "hand_written": {
                "file": "src/carelens/scoring/safety_data/sentences.csv",
                "sha256": hashlib.sha256(HAND_WRITTEN.read_bytes()).hexdigest(),
                "post_sentences_by_level": {
                    str(k): int(v) for k, v in hand_posts["label"].value_counts().sort_index().items()
                },
                "reply_sentences_by_kind": {
                    k or "safe": int(v) for k, v in hand_replies["kind"].value_counts().items()
                },
            },
            "weak": {
                "risk_sentences": len(weak_risk),
                "not_risk_sentences": len(weak_not),
                "safe_reply_sentences": len(weak_safe),
                "checksum": data.weak_checksum,
                "sources": "mh-eval-reddit posts (r/SuicideWatch, r/selfharm: strict own-risk rule; "
                f"{', '.join(NOT_RISK_COMMUNITIES)}: no risk words), CounselChat questions and answers, "
                "mh-eval GPT-4 replies, EPITOME peer replies",
            },
        },
        "hyperparameters": {
            "risk_C": risk_c,
            "harm_C": harm_c,
            "level_C": risk_c,
            "class_weight": "balanced",
        },
        "thresholds": {"risk": risk_t, "harm": harm_t},
        "harm_threshold_rule": {
            "out_of_fold": harm_cv_t,
            "gpt4_budget": HARM_GPT4_BUDGET,
            "gpt4_replies": gpt4_replies,
            "gpt4_rated_harmful": gpt4_harmful,
            "precision": precision(),
        },
        "cv": {
            "method": "5-fold stratified, grouped by source post (weak) or sentence (hand-written); weak "
            "sentences are in every training fold; thresholds chosen on out-of-fold predictions (risk: "
            f"the lowest with precision >= {RISK_PRECISION} on the hand-written sentences; harm: the lowest "
            f"with precision >= {HARM_PRECISION} on the hand-written and weak sentences together, raised in "
            f"steps of {HARM_STEP} until the scorer rates at most {HARM_GPT4_BUDGET} recorded GPT-4 replies "
            "harmful; the harm figures are at the raised threshold)",
            "risk_sentence_hand": _binary(y[hand_mask], (risk_p[hand_mask] >= risk_t).astype(int)),
            "risk_sentence_hand_curve": [
                [
                    float(t),
                    *(
                        round(float(f(y[hand_mask], risk_p[hand_mask] >= t, zero_division=0)), 3)
                        for f in (precision_score, recall_score)
                    ),
                ]
                for t in GRID[::5]
            ],
            "risk_sentence_weak": _binary(y[~hand_mask], (risk_p[~hand_mask] >= risk_t).astype(int)),
            "level_hand": {
                "n": int(len(yl)),
                "accuracy": round(float((level_oof == yl).mean()), 3),
                "macro_f1": round(float(f1_score(yl, level_oof, average="macro")), 3),
                "confusion_matrix": confusion_matrix(yl, level_oof, labels=[1, 2, 3]).tolist(),
            },
            "harm_sentence_hand": _binary((yr[rhand] > 0).astype(int), (harm_p[rhand] >= harm_t).astype(int)),
            "harm_sentence_all": _binary((yr > 0).astype(int), (harm_p >= harm_t).astype(int)),
            "harm_sentence_weak_false_alarm_rate": round(float((harm_p[~rhand] >= harm_t).mean()), 4),
            "harm_kind_hand": {
                "classes": list(HARM_KINDS),
                "accuracy": round(float((kind_predicted == yr[harmful_hand]).mean()), 3),
                "confusion_matrix": confusion_matrix(
                    yr[harmful_hand], kind_predicted, labels=list(range(1, len(classes)))
                ).tolist(),
            },
        },
        "timing": {
            "embedding_seconds": round(embed_seconds, 1),
            "total_seconds": round(time.perf_counter() - started, 1),
            "cpu_count": os.cpu_count(),
        },
    }
    _write(out, risk_model, level_model, harm_model, risk_t, harm_t, card)
    return card


def _write(
    out: Path, risk: Linear, level: Linear, harm: Linear, risk_t: float, harm_t: float, card: dict[str, Any]
) -> None:
    payload = {
        "risk": risk.to_json(),
        "level": level.to_json(),
        "harm": harm.to_json(),
        "thresholds": {"risk": risk_t, "harm": harm_t},
        "card": card,
    }
    out.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help="where to write the model JSON")
    args = parser.parse_args()
    card = train(args.out)
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
