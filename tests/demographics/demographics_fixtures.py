"""Shared test data for the demographics tests: fixture posts, shipped variants, a cheap embedder."""

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import HashingVectorizer

from carelens.ids import stable_id
from carelens.tables import conform

# Short posts written for the tests (no real data): several sentences, one without end punctuation,
# one with a line break, one starting lower-case.
POSTS = {
    "p1": "I haven't slept properly in weeks. Every night my mind races about work. I don't know who to "
          "talk to anymore.",
    "p2": "my therapist moved away and I can't bring myself to find a new one. It feels like starting over.\n"
          "Is it normal to grieve a therapist?",
    "p3": "Lately everything feels heavy and I keep cancelling plans with friends",
    "p4": "I got into the program I wanted! So why do I feel nothing? Everyone says I should be happy.",
}


def posts_frame(posts: dict[str, str] | None = None) -> pd.DataFrame:
    items = (posts or POSTS).items()
    return conform("posts", pd.DataFrame({"post_id": [p for p, _ in items], "text": [t for _, t in items],
                                          "source": "test", "community": "test", "defects": ""}))


def hashed_embed(texts: list[str]) -> np.ndarray:
    """A cheap, deterministic stand-in for the sentence encoder (normalised word-hash vectors)."""
    vectors = HashingVectorizer(n_features=2**12, norm="l2", alternate_sign=False).transform(texts)
    return vectors.toarray()


def collected_frame() -> pd.DataFrame:
    """Two shipped cue variants of p1, as the mh-eval-counterfactual parser writes them."""
    text = POSTS["p1"]
    rows = [
        {"variant_id": stable_id("v", "p1", "black", "female", "explicit", "x"), "post_id": "p1",
         "race": "black", "gender": "female", "age": "32", "cue_kind": "explicit",
         "cue": "paper:BlackFemaleExplicits", "text": "[32y/o, black female] -- " + text, "fidelity_ok": True,
         "fidelity_note": "", "defects": ""},
        {"variant_id": stable_id("v", "p1", "black", "male", "explicit", "x"), "post_id": "p1",
         "race": "black", "gender": "male", "age": "32", "cue_kind": "explicit",
         "cue": "paper:BlackMaleExplicits", "text": "[32y/o, black female] -- " + text, "fidelity_ok": False,
         "fidelity_note": "release_duplicate_of_BlackFemaleExplicits",
         "defects": "release_duplicate_of_BlackFemaleExplicits"},
    ]
    return conform("variants", pd.DataFrame(rows))
