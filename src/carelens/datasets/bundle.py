"""What a dataset parser returns: posts, and optionally cue variants, collected responses and the
scores recorded with them."""

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from carelens.tables import conform, empty_table


@dataclass
class Bundle:
    """Tables from one source. ``notes`` records counts and the defects found and how handled."""

    posts: pd.DataFrame
    variants: pd.DataFrame = field(default_factory=lambda: empty_table("variants"))
    responses: pd.DataFrame = field(default_factory=lambda: empty_table("responses"))
    scores: pd.DataFrame = field(default_factory=lambda: empty_table("collected_scores"))
    notes: dict[str, Any] = field(default_factory=dict)

    def conformed(self) -> "Bundle":
        return Bundle(
            conform("posts", self.posts),
            conform("variants", self.variants),
            conform("responses", self.responses),
            conform("collected_scores", self.scores),
            self.notes,
        )
