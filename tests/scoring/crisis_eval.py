"""Precision and recall of the safety scorer on the labelled (post, reply) sets in data/.

``PYTHONPATH=src python tests/scoring/crisis_eval.py [-v] [--judge RESPONDER]`` prints, for every
set, one row per item and, for the frozen and the independent sets, the confusion of
``post_risk_level``, the reply items per risk level and the harm confusion.

- ``crisis_frozen.csv`` (154 pairs): the frozen evaluation set, written before the learned model and
  never trained on; the first model's figures on it (aggregate, not per pair) led to the changes the
  model card lists (see data/README.md and docs/safety-model-card.md).
- ``crisis_independent.csv``: written after the model by a second writer who never saw the model,
  its training data, its rules or the frozen set; scored once, never used to change anything.
- ``crisis_independent2.csv``: written by a third writer from a brief alone (forum-style posts,
  subtle harm inside kind replies), frozen before the model it was first used to check.
- ``crisis_independent3.csv``: written by a fourth writer from a similar brief (many kinds of
  writers, very brief and very long messages), frozen before any model was scored on it.
- ``crisis_independent4.csv``: written by two more writers from one brief (long chatbot-style replies,
  replies that miss best practice without harm), frozen before any scorer ran on it.
- ``crisis_pairs.csv``, ``crisis_pairs_fresh.csv``, ``crisis_pairs_fresh2.csv``: written for the
  earlier rule-based scorer (its development and unseen sets); never used to train the learned model.

Items are scored end to end: a help item of a risk post the scorer missed counts as absent.
``harmful`` is the detection of a harmful reply (``avoids_harm`` = 0); ``post_risk_indirect`` is
``post_risk`` on the risk posts that never say suicide, kill myself or self-harm (recall only).
``-v`` lists the frozen pairs whose risk or harm is wrong; ``--judge RESPONDER`` rates the frozen set
with a judge model and the safety rubric (carelens.scoring.safety_judge) instead of the scorer.
``--real`` adds what the written sets cannot show, false alarms on real text (needs
``CARELENS_DATA_MIRROR``): the share of real mh-eval posts flagged at risk (12 per community), in the
two crisis communities and in the others, and the share of 600 recorded GPT-4 replies rated harmful,
with the deciding sentences to read; and the scorer against two labellers on ``crisis_real_fresh.csv``
(the real-post evaluation set: 156 real posts from the 13 mh-eval communities the safety trainer never
reads, labelled before the scorer was run on them; texts from the mirror) and on
``crisis_real_posts.csv`` (156 more, labelled the same way; the evaluation set until 2026-11-29, when
eight candidates had been scored on it, and development data since). ``--dev`` adds the development
sets changes are decided on: the 468 labelled real development posts, the written development posts
and the harm figures of ``crisis_dev_a.csv``, ``crisis_dev_b.csv`` and ``crisis_dev_c.csv`` (needs
``CARELENS_DATA_MIRROR``).
"""

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_score, recall_score

from carelens.scoring.safety import SafetyScorer
from carelens.scoring.safety_train import RISK_COMMUNITIES

DATA = Path(__file__).parent / "data"
FROZEN = "crisis_frozen.csv"
INDEPENDENT = "crisis_independent.csv"
INDEPENDENT_2 = "crisis_independent2.csv"
INDEPENDENT_3 = "crisis_independent3.csv"
INDEPENDENT_4 = "crisis_independent4.csv"
REAL_FRESH = "crisis_real_fresh.csv"
REAL_POSTS = "crisis_real_posts.csv"
REAL_DEV = "crisis_real_dev.csv"
REAL_SENTENCES = "crisis_real_sentences.csv"
DEV_PAIRS = ("crisis_dev_a.csv", "crisis_dev_b.csv", "crisis_dev_c.csv")
FMT = {"float_format": lambda v: f"{v:.3f}"}
OLD_SETS = ("crisis_pairs.csv", "crisis_pairs_fresh.csv", "crisis_pairs_fresh2.csv")
ITEMS = (
    "post_risk",
    "acknowledges_risk",
    "encourages_help",
    "gives_resource",
    "asks_about_safety",
    "harmful",
)


def load(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / name, dtype={"post": str, "response": str}, keep_default_na=False)
    frame = frame.replace("", np.nan)
    frame["harmful"] = 1 - frame["avoids_harm"].astype(float)
    return frame


def score(frame: pd.DataFrame, scorer: SafetyScorer | None = None) -> pd.DataFrame:
    scored = (scorer or SafetyScorer()).score(list(zip(frame["post"], frame["response"], strict=True)))
    scored["harmful"] = 1 - scored["avoids_harm"]
    return scored


def _row(item: str, truth: pd.Series, predicted: pd.Series) -> dict[str, object]:
    truth, predicted = truth.astype(int), predicted.fillna(0).astype(int)
    return {
        "item": item,
        "pairs": len(truth),
        "positives": int(truth.sum()),
        "precision": precision_score(truth, predicted, zero_division=0),
        "recall": recall_score(truth, predicted, zero_division=0),
        "f1": 2 * truth.mul(predicted).sum() / max(truth.sum() + predicted.sum(), 1),
    }


def evaluate(frame: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """One row per item: pairs evaluated, positives, precision, recall, F1."""
    rows = []
    for item in ITEMS:
        if item not in frame:
            continue
        labelled = frame[item].notna()
        rows.append(_row(item, frame.loc[labelled, item].astype(float), scored.loc[labelled, item]))
    if "indirect" in frame:
        indirect = frame["indirect"].astype(float) == 1
        rows.append(
            _row("post_risk_indirect", frame.loc[indirect, "post_risk"], scored.loc[indirect, "post_risk"])
        )
    return pd.DataFrame(rows)


def by_level(frame: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Per true risk level (counted per post): posts, share flagged at risk, level confusion."""
    posts = frame.drop_duplicates("post_id").index
    truth = frame.loc[posts, "post_risk_level"].astype(int)
    predicted = scored.loc[posts, "post_risk_level"].astype(int)
    matrix = confusion_matrix(truth, predicted, labels=[0, 1, 2, 3])
    table = pd.DataFrame(
        matrix, index=[f"true {i}" for i in range(4)], columns=[f"pred {i}" for i in range(4)]
    )
    table.insert(0, "posts", matrix.sum(1))
    flagged = [(predicted[truth == level] > 0).mean() for level in range(4)]
    table["flagged at risk"] = np.round(flagged, 3)
    exact = [(predicted[truth == level] == level).mean() for level in range(4)]
    table["level exact"] = np.round(exact, 3)
    return table


def by_level_items(frame: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall of every reply item, per true risk level of the post (pairs)."""
    rows = []
    for level in (1, 2, 3):
        part = frame["post_risk_level"].astype(int) == level
        table = evaluate(frame[part].drop(columns=["indirect"]), scored[part])
        table.insert(0, "level", level)
        rows.append(table[table["item"] != "post_risk"])
    return pd.concat(rows, ignore_index=True)


def harm_table(frame: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Confusion of ``reply_harm`` (rows: true 0/1/2) and recall of each harmful kind."""
    matrix = confusion_matrix(
        frame["reply_harm"].astype(int), scored["reply_harm"].astype(int), labels=[0, 1, 2]
    )
    return pd.DataFrame(
        matrix, index=[f"true {i}" for i in range(3)], columns=[f"pred {i}" for i in range(3)]
    )


def judge_scores(frame: pd.DataFrame, responder: str) -> pd.DataFrame:
    """The frozen set rated by a judge model with the safety rubric, under the scorer's column names."""
    from carelens.scoring.safety_judge import SafetyJudgeScorer

    rated = SafetyJudgeScorer(responder=responder).score(
        list(zip(frame["post"], frame["response"], strict=True))
    )
    rated = rated.rename(columns=lambda c: c.replace("judge_", ""))
    rated[["post_risk", "post_risk_level", "reply_harm"]] = rated[
        ["post_risk", "post_risk_level", "reply_harm"]
    ].fillna(0)
    rated["avoids_harm"] = rated["avoids_harm"].fillna(1)
    rated["harmful"] = 1 - rated["avoids_harm"]
    return rated


def report(name: str, frame: pd.DataFrame, scored: pd.DataFrame) -> None:
    """Every table of a set with risk levels and harm kinds: items, levels, items per level, harm."""
    print(f"{name}:")
    print(evaluate(frame, scored).to_string(index=False, **FMT))
    print("\npost risk level per post (rows: true level):")
    print(by_level(frame, scored).to_string(**FMT))
    print("\nreply items per true risk level:")
    print(by_level_items(frame, scored).to_string(index=False, **FMT))
    print("\nreply_harm (rows: true):")
    print(harm_table(frame, scored).to_string())
    kinds = frame["harm_kind"].fillna("")
    recall = {k: float((scored.loc[kinds == k, "reply_harm"] == 2).mean()) for k in sorted(set(kinds) - {""})}
    print("\nharmful recall per kind:", {k: round(v, 2) for k, v in recall.items()})


@cache
def reddit_posts() -> pd.DataFrame:
    """The mh-eval Reddit posts (from the mirror), read once for all the real-text checks."""
    from carelens.datasets.mh_eval import parse_reddit

    return parse_reddit().posts


def real_text_check(scorer: SafetyScorer) -> None:
    """False alarms on real text: posts flagged at risk per community kind, GPT-4 replies rated harmful."""
    from carelens.datasets.mh_eval import parse_gpt4

    posts = reddit_posts()
    posts = posts[posts["defects"] != "crossposted"]
    sample = pd.concat([g.sample(n=min(12, len(g)), random_state=3) for _, g in posts.groupby("community")])
    flagged = scorer.score([(text, "") for text in sample["text"]])["post_risk"].to_numpy() == 1
    crisis = sample["community"].isin(RISK_COMMUNITIES).to_numpy()
    print(
        f"\nreal posts flagged at risk ({len(sample)} mh-eval posts, 12 per community): "
        f"crisis communities {flagged[crisis].mean():.1%}, "
        f"the other {sample['community'].nunique() - len(RISK_COMMUNITIES)} "
        f"{flagged[~crisis].mean():.1%}"
    )
    bundle = parse_gpt4()
    text_of = dict(zip(bundle.posts["post_id"], bundle.posts["text"], strict=True))
    replies = bundle.responses[bundle.responses["responder"] == "recorded:gpt-4"]
    replies = replies.sample(n=min(600, len(replies)), random_state=1)
    scored = scorer.score([(text_of[p], t) for p, t in zip(replies["post_id"], replies["text"], strict=True)])
    harmful = scored["reply_harm"] == 2
    print(f"recorded GPT-4 replies rated harmful: {harmful.mean():.1%} of {len(scored)}; deciding sentences:")
    for evidence in scored.loc[harmful, "evidence:reply_harm"].head(20):
        print(f"  - {evidence[:160]}")


def score_real_posts(scorer: SafetyScorer, post_ids: list[str]) -> pd.DataFrame:
    """The scorer's scores of mh-eval posts given by id (texts from the mirror), without replies."""
    text_of = reddit_posts().set_index("post_id")["text"]
    return scorer.score([(text_of[p], "") for p in post_ids])


def real_posts(scorer: SafetyScorer, name: str = REAL_FRESH) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A labelled real-post set and the scorer's post scores."""
    labels = pd.read_csv(DATA / name)
    return labels, score_real_posts(scorer, list(labels["post_id"]))


def print_levels(truth: list[int], scored: pd.DataFrame, rows: str) -> None:
    """The confusion of post_risk_level, one printed row per true level."""
    matrix = confusion_matrix(truth, scored["post_risk_level"].astype(int), labels=[0, 1, 2, 3])
    print(f"  post_risk_level (rows: {rows} 0-3, columns: scorer 0-3):")
    print("\n".join("    " + " ".join(f"{v:4d}" for v in row) for row in matrix))


def real_posts_check(scorer: SafetyScorer, name: str) -> None:
    """post_risk against each labeller (precision, recall, F1), the labellers' agreement, and levels."""
    from sklearn.metrics import cohen_kappa_score, f1_score

    labels, scored = real_posts(scorer, name)
    predicted = scored["post_risk"].astype(int)
    print(f"\n{name}: {len(labels)} real posts, {labels['community'].nunique()} communities")
    for who in ("first", "second"):
        truth = labels[f"{who}_post_risk"]
        print(
            f"  post_risk vs {who} labeller ({int(truth.sum())} at risk): precision "
            f"{precision_score(truth, predicted, zero_division=0):.3f}, recall "
            f"{recall_score(truth, predicted, zero_division=0):.3f}, F1 {f1_score(truth, predicted):.3f}"
        )
    kappa = cohen_kappa_score(labels["first_post_risk"], labels["second_post_risk"])
    print(f"  labellers: post_risk kappa {kappa:.3f}, flagged by the scorer {predicted.mean():.1%} of posts")
    print_levels(list(labels["first_post_risk_level"]), scored, "first labeller")


def development_check(scorer: SafetyScorer) -> None:
    """The development sets that changes are decided on (never the frozen ones): the 468 labelled real
    development posts (at risk when either labeller says so), the written development posts, and
    the harm figures of the written development pairs."""
    from sklearn.metrics import f1_score

    dev, sentences = pd.read_csv(DATA / REAL_DEV), pd.read_csv(DATA / REAL_SENTENCES)
    ids = [*dev["post_id"], *sentences["post_id"]]
    truth = np.array([*((dev["first_post_risk"] + dev["second_post_risk"]) > 0), *sentences["post_risk"]])
    levels = [*dev["first_post_risk_level"], *sentences["post_risk_level"]]
    scored = score_real_posts(scorer, ids)
    predicted = scored["post_risk"].astype(int).to_numpy()
    print(
        f"\nreal development posts ({REAL_DEV}, {REAL_SENTENCES}: {len(ids)}, {int(truth.sum())} at risk): "
        f"precision {precision_score(truth, predicted):.3f}, recall {recall_score(truth, predicted):.3f}, "
        f"F1 {f1_score(truth, predicted):.3f}, flagged {predicted.mean():.1%}"
    )
    print_levels(levels, scored, "labelled")
    written = pd.concat([load(name) for name in (*DEV_PAIRS, *OLD_SETS)]).drop_duplicates("post")
    flagged = scorer.score([(post, "") for post in written["post"]])["post_risk"].astype(int)
    risk = written["post_risk"].astype(int)
    print(
        f"written development posts ({len(written)}, {int(risk.sum())} at risk): precision "
        f"{precision_score(risk, flagged):.3f}, recall {recall_score(risk, flagged):.3f}"
    )
    pairs = pd.concat([load(name) for name in DEV_PAIRS], ignore_index=True)
    harm = evaluate(pairs, score(pairs, scorer)).set_index("item").loc["harmful"]
    print(
        f"written development pairs ({', '.join(DEV_PAIRS)}): harmful precision {harm['precision']:.3f}, "
        f"recall {harm['recall']:.3f} ({int(harm['positives'])} harmful)"
    )


def main() -> None:
    scorer = SafetyScorer()
    frozen = load(FROZEN)
    if "--judge" in sys.argv:
        scored = judge_scores(frozen, sys.argv[sys.argv.index("--judge") + 1])
        print(f"judge valid ratings: {int(scored['safety_valid'].sum())}/{len(scored)}")
    else:
        scored = score(frozen, scorer)
    report(FROZEN, frozen, scored)
    if "-v" in sys.argv:
        wrong = frozen[
            (frozen["post_risk"] != scored["post_risk"]) | (frozen["harmful"] != scored["harmful"])
        ]
        for i in wrong.index:
            print(
                f"\n{frozen.loc[i, 'pair_id']} risk {frozen.loc[i, 'post_risk_level']}->"
                f"{scored.loc[i, 'post_risk_level']:.0f} harm {frozen.loc[i, 'reply_harm']}->"
                f"{scored.loc[i, 'reply_harm']:.0f}\n  P: {scored.loc[i, 'evidence:post_risk']}\n"
                f"  R: {scored.loc[i, 'evidence:reply_harm']}"
            )
    for name in (INDEPENDENT, INDEPENDENT_2, INDEPENDENT_3, INDEPENDENT_4):
        independent = load(name)
        print()
        report(name, independent, score(independent, scorer))
    if "--real" in sys.argv:
        real_text_check(scorer)
        real_posts_check(scorer, REAL_FRESH)
        real_posts_check(scorer, REAL_POSTS)
    if "--dev" in sys.argv:
        development_check(scorer)
    for name in OLD_SETS:
        frame = load(name)
        print(f"\n{name}:")
        print(evaluate(frame, score(frame, scorer)).to_string(index=False, **FMT))


if __name__ == "__main__":
    main()
