"""The Scorer protocol and the registry of scorers by name.

A scorer turns a batch of (seeker post, response) pairs into one row of metric values per pair.
Built-in scorers are listed in ``BUILTIN``; other packages add their own through the entry-point
group ``carelens.scorers``, whose entries point at a factory ``factory(config) -> Scorer``
(``config`` is the study's ``ScoringConfig``; a scorer's own options live in
``[scoring.options.<name>]``).
"""

from collections.abc import Callable, Sequence
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from carelens.errors import CarelensError

if TYPE_CHECKING:
    from carelens.scoring.settings import ScoringConfig

ENTRY_POINT_GROUP = "carelens.scorers"
CONFIG_KEY = "scoring.scorers"

Pair = tuple[str, str]
"""A seeker post (the text the responder saw) and one response to it."""


@runtime_checkable
class Scorer(Protocol):
    """Scores (post, response) pairs in batches.

    ``name`` goes into the ``scorer`` column of the scores table, ``metrics`` names the columns that
    ``score`` returns: a frame with one row per pair (same order) and one float column per metric.
    NaN means "does not apply to this pair" and is kept out of the scores table. A scorer may set
    ``parallel = True`` when it is pure Python and cheap to build: the score stage then spreads its
    batches over worker processes. A ``notes`` dict, if present, is recorded in the run's manifest.
    """

    name: str
    metrics: tuple[str, ...]

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame: ...


ScorerFactory = Callable[["ScoringConfig"], Scorer]

# name -> "module:factory"; imported only when the scorer is used, so heavy models load lazily.
BUILTIN: dict[str, str] = {
    "empathy": "carelens.scoring.empathy:EmpathyScorer",
    "offensive": "carelens.scoring.toxicity:OffensiveScorer",
    "toxigen": "carelens.scoring.toxicity:ToxigenScorer",
    "sentiment": "carelens.scoring.sentiment:VaderScorer",
    "sentiment-roberta": "carelens.scoring.sentiment:SiebertScorer",
    "safety": "carelens.scoring.safety:SafetyScorer",
    "text": "carelens.scoring.text:TextScorer",
    "judge": "carelens.scoring.judge:JudgeScorer",
    "mi": "carelens.scoring.mi:MIScorer",
}

DEFAULT_SUITE: tuple[str, ...] = ("empathy", "offensive", "sentiment", "safety", "text", "mi")
"""The offline scorers a study runs unless it names others."""


def _load_target(target: str) -> ScorerFactory:
    module, attr = target.split(":")
    factory: ScorerFactory = getattr(import_module(module), attr)
    return factory


@cache
def _plugin_entry_points() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN}


def scorer_names() -> list[str]:
    """Every name a study may list under ``scoring.scorers``: built-in, then installed plugins."""
    return [*BUILTIN, *sorted(_plugin_entry_points())]


def unknown_scorer_error(name: str) -> CarelensError:
    return CarelensError(f"unknown scorer '{name}'; allowed: {', '.join(scorer_names())}", where=CONFIG_KEY)


def factory_for(name: str) -> ScorerFactory:
    """The factory registered under ``name``; unknown names are a CarelensError listing the allowed ones."""
    if name in BUILTIN:
        return _load_target(BUILTIN[name])
    plugin = _plugin_entry_points().get(name)
    if plugin is None:
        raise unknown_scorer_error(name)
    try:
        loaded = plugin.load()  # type: ignore[attr-defined]
    except Exception as exc:  # a broken plugin is a user-facing installation problem
        raise CarelensError(
            f"scorer plugin '{name}' ({plugin.value}) failed to load: {exc}",  # type: ignore[attr-defined]
            where=CONFIG_KEY,
        ) from exc
    return loaded  # type: ignore[no-any-return]


def create_scorer(name: str, config: "ScoringConfig") -> Scorer:
    """Build the scorer registered under ``name`` and check that it follows the protocol."""
    scorer = factory_for(name)(config)
    if not isinstance(scorer, Scorer):
        raise CarelensError(f"scorer '{name}' does not implement name, metrics and score()", where=CONFIG_KEY)
    return scorer


def run_scorer(scorer: Scorer, pairs: Sequence[Pair]) -> pd.DataFrame:
    """Call ``scorer.score`` and check the frame it returns: one row per pair, one column per metric."""
    frame = scorer.score(pairs) if pairs else pd.DataFrame(columns=list(scorer.metrics), dtype=float)
    if len(frame) != len(pairs) or list(frame.columns) != list(scorer.metrics):
        raise RuntimeError(
            f"scorer '{scorer.name}' returned {len(frame)} rows with columns {list(frame.columns)}, "
            f"expected {len(pairs)} rows with columns {list(scorer.metrics)}"
        )
    return frame.astype(np.float64).reset_index(drop=True)
