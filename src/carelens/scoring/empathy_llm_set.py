"""The frozen LLM-reply validation set of the empathy scorer: ids and two labellers' levels.

210 real replies from the mh-eval release (Gabriel et al. 2024): 30 recorded GPT-4 replies in each
of the five prompt conditions and 60 peer replies, drawn once with ``draw(seed=13)``, then labelled
ER/IP/EX (0/1/2) with the guide in ``docs/empathy-labelling.md``: ``first_*`` in the draw's order,
``second_*`` by the same labeller later in a shuffled order (a test-retest figure), and
``independent_*`` by a second labeller who saw only the guide, the posts and the replies (in another
shuffled order, without the responders or any other labels): the inter-rater figure. The file stores
only the parser's stable ``response_id`` and the labels; the texts are read at evaluation time from
``CARELENS_DATA_MIRROR`` with ``carelens.datasets.mh_eval.parse_gpt4``. No model is trained or
tuned on it.

``write_ratings`` turns it into the ratings format of ``carelens models validate``, one rater per
labeller, so the scorer-vs-labeller and labeller-vs-labeller figures come from the same command.
"""

from pathlib import Path

import pandas as pd

from carelens.errors import CarelensError

SET_PATH = Path(__file__).parent / "data" / "empathy_llm_replies.csv"
MECHANISMS = ("ER", "IP", "EX")
PER_CONDITION = 30
PEER = 60


def _replies() -> tuple[pd.DataFrame, pd.Series]:
    from carelens.datasets.mh_eval import parse_gpt4

    bundle = parse_gpt4()
    posts = bundle.posts.drop_duplicates("post_id").set_index("post_id")["text"]
    return bundle.responses, posts


def draw(seed: int = 13) -> pd.DataFrame:
    """The sample: 30 GPT-4 replies per prompt condition and 60 peer replies, at most one per post
    within each condition; columns response_id, condition, post, response."""
    responses, posts = _replies()
    picked = []
    for condition, group in sorted(responses.groupby("condition"), key=lambda kv: str(kv[0])):
        size = PEER if condition == "peer" else PER_CONDITION
        one_per_post = group.sample(frac=1.0, random_state=seed).drop_duplicates("post_id")
        picked.append(one_per_post.head(size))
    sample = pd.concat(picked, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return pd.DataFrame(
        {
            "response_id": sample["response_id"],
            "condition": sample["condition"],
            "post": sample["post_id"].map(posts),
            "response": sample["text"],
        }
    )


def load_set(path: Path = SET_PATH) -> pd.DataFrame:
    """The labelled set with its texts: response_id, condition, post, response, <labeller>_<mech>."""
    labels = pd.read_csv(path, dtype={"response_id": str, "condition": str})
    responses, posts = _replies()
    by_id = responses.set_index("response_id")
    missing = sorted(set(labels["response_id"]) - set(by_id.index))
    if missing:
        raise CarelensError(
            f"{len(missing)} response ids not in the mh-eval data, e.g. {missing[:3]}", where=str(path)
        )
    rows = by_id.loc[labels["response_id"]]
    return labels.assign(post=rows["post_id"].map(posts).to_numpy(), response=rows["text"].to_numpy())


def labellers(frame: pd.DataFrame) -> list[str]:
    """The labellers of the set, from its ``<labeller>_ER`` columns."""
    return [c.removesuffix("_ER") for c in frame.columns if c.endswith("_ER")]


def write_ratings(out: Path, path: Path = SET_PATH) -> Path:
    """The set in the ratings format of ``carelens models validate`` (one rater per labeller)."""
    frame = load_set(path)
    rows = [
        {
            "item_id": row["response_id"],
            "post": row["post"],
            "response": row["response"],
            "rater": labeller,
            "question": mechanism,
            "value": int(row[f"{labeller}_{mechanism}"]),
        }
        for _, row in frame.iterrows()
        for labeller in labellers(frame)
        for mechanism in MECHANISMS
    ]
    pd.DataFrame(rows).to_csv(out, index=False)
    return out
