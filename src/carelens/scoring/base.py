"""The Scorer contract, a base class that implements most of it, and the registry of scorers by name.

A scorer turns a batch of (seeker post, response) pairs into one row per pair: one float column per
metric (NaN = does not apply) and one string column ``evidence:<metric>`` per metric holding the
sentence(s) of the post or reply, or the rule, that decided the value ("" only where the value is
NaN). Built-in scorers are classes with explicit keyword constructor parameters (scikit-learn
style), ``get_params()`` and a classmethod ``from_config(config)`` that maps the study's
``[scoring]`` section and ``[scoring.options.<name>]`` to those parameters; ``BUILTIN`` lists them
as ``"module:Class"``. Other packages add scorers through the entry-point group
``carelens.scorers``, whose entries point at a factory ``factory(config) -> Scorer`` (a class with
``from_config`` works too).
"""

import inspect
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from carelens.errors import CarelensError

if TYPE_CHECKING:
    from carelens.scoring.settings import ScoringConfig

ENTRY_POINT_GROUP = "carelens.scorers"
CONFIG_KEY = "scoring.scorers"
EVIDENCE_PREFIX = "evidence:"

Pair = tuple[str, str]
"""A seeker post (the text the responder saw) and one response to it."""


def evidence_column(metric: str) -> str:
    """The name of the column that holds the evidence of ``metric``."""
    return f"{EVIDENCE_PREFIX}{metric}"


def output_columns(metrics: Sequence[str]) -> list[str]:
    """The columns ``score`` returns: the metrics, then their evidence columns in the same order."""
    return [*metrics, *(evidence_column(m) for m in metrics)]


@runtime_checkable
class Scorer(Protocol):
    """Scores (post, response) pairs in batches.

    ``name`` goes into the ``scorer`` column of the scores table, ``metrics`` names the float
    columns that ``score`` returns, each followed (after all metrics) by its ``evidence:<metric>``
    string column; one row per pair, in the order of the pairs. NaN means "does not apply to this
    pair" and is kept out of the scores table. A scorer may set ``parallel = True`` when it is pure
    Python and cheap to build: the score stage then spreads its batches over worker processes. A
    ``notes`` dict, if present, is recorded in the run's manifest, as is ``get_params()``.
    """

    name: str
    metrics: tuple[str, ...]

    def score(self, pairs: Sequence[Pair]) -> pd.DataFrame: ...


class BaseScorer:
    """The parts of the contract every built-in scorer shares.

    Subclasses store each constructor parameter under an attribute of the same name (so
    ``get_params`` can read it back) and declare ``config_keys``: constructor parameter ->
    ``ScoringConfig`` field for the parameters that the ``[scoring]`` section sets. Any
    constructor parameter may also be set in ``[scoring.options.<registered name>]``, which wins.
    ``ranges`` declares each metric's (low, high) bounds where it has them.
    """

    name: str
    metrics: tuple[str, ...]
    registered: ClassVar[str] = ""
    config_keys: ClassVar[dict[str, str]] = {}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {}

    @classmethod
    def param_names(cls) -> list[str]:
        """The keyword parameters of the constructor."""
        signature = inspect.signature(cls.__init__)
        return [
            p.name for p in signature.parameters.values() if p.name != "self" and p.kind == p.KEYWORD_ONLY
        ]

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters of this scorer (JSON-serialisable): ``type(s)(**s.get_params())``."""
        return {name: getattr(self, name) for name in self.param_names()}

    @classmethod
    def config_params(cls, config: "ScoringConfig") -> dict[str, Any]:
        """The constructor parameters that ``config`` sets; unknown option keys are a CarelensError."""
        params = {param: getattr(config, key) for param, key in cls.config_keys.items()}
        options = config.options.get(cls.registered, {})
        allowed = cls.param_names()
        for key, value in options.items():
            if key not in allowed:
                raise CarelensError(
                    f"unknown option '{key}'; allowed: {', '.join(allowed) or 'none'}",
                    where=f"scoring.options.{cls.registered}.{key}",
                )
            params[key] = value
        return params

    @classmethod
    def from_config(cls, config: "ScoringConfig") -> Self:
        """The scorer as the study's ``[scoring]`` section configures it."""
        try:
            return cls(**cls.config_params(config))
        except (TypeError, ValueError) as exc:
            raise CarelensError(str(exc), where=f"scoring.options.{cls.registered}") from None

    def frame(
        self, values: Mapping[str, Sequence[float] | np.ndarray], evidence: Mapping[str, Sequence[str]]
    ) -> pd.DataFrame:
        """The output frame from per-metric values and evidence (NaN values get empty evidence)."""
        out: dict[str, Any] = {m: np.asarray(values[m], dtype=np.float64) for m in self.metrics}
        for m in self.metrics:
            out[evidence_column(m)] = [
                "" if not np.isfinite(v) else str(e) for v, e in zip(out[m], evidence[m], strict=True)
            ]
        return pd.DataFrame(out, columns=output_columns(self.metrics))

    def empty(self) -> pd.DataFrame:
        """The output frame for no pairs."""
        return self.frame({m: [] for m in self.metrics}, {m: [] for m in self.metrics})


ScorerFactory = Callable[..., Scorer]

# name -> "module:Class"; imported only when the scorer is used, so heavy models load lazily.
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


def _load_target(target: str) -> Any:
    module, attr = target.split(":")
    return getattr(import_module(module), attr)


@cache
def _plugin_entry_points() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN}


def scorer_names() -> list[str]:
    """Every name a study may list under ``scoring.scorers``: built-in, then installed plugins."""
    return [*BUILTIN, *sorted(_plugin_entry_points())]


def unknown_scorer_error(name: str) -> CarelensError:
    return CarelensError(f"unknown scorer '{name}'; allowed: {', '.join(scorer_names())}", where=CONFIG_KEY)


def factory_for(name: str) -> Any:
    """The class (or plugin factory) registered under ``name``; unknown names are a CarelensError."""
    if name in BUILTIN:
        return _load_target(BUILTIN[name])
    plugin = _plugin_entry_points().get(name)
    if plugin is None:
        raise unknown_scorer_error(name)
    try:
        return plugin.load()  # type: ignore[attr-defined]
    except Exception as exc:  # a broken plugin is a user-facing installation problem
        raise CarelensError(
            f"scorer plugin '{name}' ({plugin.value}) failed to load: {exc}",  # type: ignore[attr-defined]
            where=CONFIG_KEY,
        ) from exc


def create_scorer(name: str, config: "ScoringConfig", **context: Any) -> Scorer:
    """Build the scorer registered under ``name`` and check that it follows the protocol.

    A class with ``from_config`` is built with it (``context``, e.g. the study's ``generation``
    settings, is passed to the ``from_config`` parameters of the same names); any other plugin
    entry is called as ``factory(config)``.
    """
    target = factory_for(name)
    from_config = getattr(target, "from_config", None)
    if from_config is not None:
        accepted = inspect.signature(from_config).parameters
        scorer = from_config(config, **{k: v for k, v in context.items() if k in accepted})
    else:
        scorer = target(config)
    if not isinstance(scorer, Scorer):
        raise CarelensError(f"scorer '{name}' does not implement name, metrics and score()", where=CONFIG_KEY)
    return scorer


def scorer_params(scorer: Scorer) -> dict[str, Any] | None:
    """The scorer's ``get_params()`` for the manifest, or None for a plugin without it."""
    get_params = getattr(scorer, "get_params", None)
    return dict(get_params()) if callable(get_params) else None


def run_scorer(scorer: Scorer, pairs: Sequence[Pair]) -> pd.DataFrame:
    """Call ``scorer.score`` and check the frame: one row per pair, every metric and evidence column.

    Metric values become float64 and evidence strings. A plugin that returns the metric columns
    alone (written before evidence existed) gets empty evidence columns.
    """
    metrics = list(scorer.metrics)
    columns = output_columns(metrics)
    if not pairs:
        return pd.DataFrame({c: pd.Series(dtype=np.float64 if c in metrics else object) for c in columns})
    frame = scorer.score(pairs)
    if list(frame.columns) == metrics and scorer_params(scorer) is None:
        frame = frame.assign(**{evidence_column(m): "" for m in metrics})
    if len(frame) != len(pairs) or list(frame.columns) != columns:
        raise RuntimeError(
            f"scorer '{scorer.name}' returned {len(frame)} rows with columns {list(frame.columns)}, "
            f"expected {len(pairs)} rows with columns {columns}"
        )
    frame = frame.reset_index(drop=True)
    out = frame[metrics].astype(np.float64)
    for m in metrics:
        column = frame[evidence_column(m)]
        if not column.map(lambda e: isinstance(e, str)).all():
            raise RuntimeError(f"scorer '{scorer.name}' returned non-text evidence for '{m}'")
        out[evidence_column(m)] = column.astype(object)
    return out
