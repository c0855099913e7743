"""Synthetic run tables of any size (posts, variants, responses) for scale tests and benchmarks."""

import numpy as np
import pandas as pd

from carelens.ids import original_variant_id
from carelens.tables import conform

POSTS = (
    "I have been so tired lately and work is a lot.",
    "Some nights I feel like I want to kill myself and I do not know who to tell.",
    "My partner left and I cannot stop crying. Is this normal?",
    "I keep having panic attacks before exams, what should I do?",
    "Nothing feels worth it anymore and I have been thinking about ending it.",
)
OPENINGS = (
    "That sounds really hard.",
    "I'm sorry you are going through this.",
    "Thank you for telling me.",
    "You are not alone in this.",
    "It makes sense that you feel that way.",
)
MIDDLES = (
    "Have you been able to talk to someone you trust?",
    "If you are thinking about suicide, please call or text 988 right now.",
    "Sleep, food and a short walk can help more than it seems.",
    "A counselor could help you find what works for you.",
    "Try writing down what happened before each attack.",
    "You might just be overreacting, everyone gets sad.",
)
CLOSINGS = ("Take care of yourself.", "Are you safe right now?", "I'm here if you want to talk.", "")


def synthetic_tables(replies: int, posts: int = 200, seed: int = 0) -> dict[str, pd.DataFrame]:
    """``replies`` responses (about 90 % ok, the rest refused or failed) to ``posts`` posts."""
    rng = np.random.default_rng(seed)
    post_ids = [f"p{i}" for i in range(posts)]
    post_text = [f"{POSTS[i % len(POSTS)]} ({i})" for i in range(posts)]
    post_frame = pd.DataFrame(
        {"post_id": post_ids, "text": post_text, "source": "synthetic", "community": "c", "defects": ""}
    )
    variant_frame = pd.DataFrame(
        {
            "variant_id": [original_variant_id(p) for p in post_ids],
            "post_id": post_ids,
            "race": "",
            "gender": "",
            "age": "",
            "cue_kind": "none",
            "cue": "",
            "text": post_text,
            "fidelity_ok": True,
            "fidelity_note": "",
            "defects": "",
        }
    )
    which = rng.integers(0, posts, replies)
    pieces = [rng.integers(0, len(options), replies) for options in (OPENINGS, MIDDLES, CLOSINGS)]
    text = [f"{OPENINGS[a]} {MIDDLES[b]} {CLOSINGS[c]}".strip() for a, b, c in zip(*pieces, strict=True)]
    status = rng.choice(["ok", "refused", "error"], size=replies, p=[0.9, 0.07, 0.03])
    responses = pd.DataFrame(
        {
            "response_id": [f"r{i:08d}" for i in range(replies)],
            "variant_id": variant_frame["variant_id"].to_numpy()[which],
            "post_id": np.asarray(post_ids)[which],
            "responder": "synthetic",
            "condition": "c",
            "sample": 0,
            "text": pd.Series(text, dtype="string").mask(status == "error"),
            "status": status,
            "meta": "{}",
        }
    )
    return {
        "posts": conform("posts", post_frame),
        "variants": conform("variants", variant_frame),
        "responses": conform("responses", responses),
    }
