"""What a dataset parser returns: posts, and optionally cue variants and collected responses."""

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
    notes: dict[str, Any] = field(default_factory=dict)

    def conformed(self) -> "Bundle":
        return Bundle(
            conform("posts", self.posts),
            conform("variants", self.variants),
            conform("responses", self.responses),
            self.notes,
        )
