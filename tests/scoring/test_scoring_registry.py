"""The scorer registry: built-in names, entry-point plugins, unknown names, output checks."""

from importlib.metadata import EntryPoint

import pandas as pd
import pytest

from carelens.config import parse_study
from carelens.errors import CarelensError
from carelens.scoring import base
from carelens.scoring.settings import ScoringConfig
from carelens.scoring.text import TextScorer


class ShoutScorer:
    """A plugin scorer for the tests: the share of upper-case letters, with a configurable name."""

    metrics = ("shout",)

    def __init__(self, config: ScoringConfig) -> None:
        self.name = config.options.get("shout", {}).get("label", "shout")

    def score(self, pairs):
        return pd.DataFrame({"shout": [sum(c.isupper() for c in r) / max(1, len(r)) for _, r in pairs]})


def make_shout(config: ScoringConfig) -> ShoutScorer:
    return ShoutScorer(config)


class Broken:
    name = "broken"
    metrics = ("a", "b")

    def __init__(self, config: ScoringConfig) -> None:
        del config

    def score(self, pairs):
        return pd.DataFrame({"a": [1.0] * len(pairs)})


@pytest.fixture
def plugins(monkeypatch):
    """Install two entry points in the carelens.scorers group: a working one and a missing module."""
    points = [
        EntryPoint("shout", f"{__name__}:make_shout", base.ENTRY_POINT_GROUP),
        EntryPoint("ghost", "carelens_no_such_module:factory", base.ENTRY_POINT_GROUP),
    ]

    def fake_entry_points(group=None):
        return [p for p in points if p.group == group]

    monkeypatch.setattr(base, "entry_points", fake_entry_points)
    base._plugin_entry_points.cache_clear()
    yield
    base._plugin_entry_points.cache_clear()


def test_builtin_scorer_is_created_and_follows_the_protocol():
    scorer = base.create_scorer("text", ScoringConfig(scorers=["text"]))
    assert isinstance(scorer, TextScorer) and isinstance(scorer, base.Scorer)
    assert base.scorer_names()[: len(base.BUILTIN)] == list(base.BUILTIN)


def test_unknown_name_is_an_error_naming_the_key_and_the_allowed_names():
    with pytest.raises(CarelensError) as info:
        base.create_scorer("empaty", ScoringConfig(scorers=["text"]))
    message = str(info.value)
    assert message.startswith("scoring.scorers: unknown scorer 'empaty'; allowed: empathy, offensive")
    assert "judge" in message


def test_study_file_rejects_unknown_scorer_with_key_path():
    text = '[study]\nname = "t"\n[[data]]\ndataset = "epitome"\n[scoring]\nscorers = ["text", "vader"]\n'
    with pytest.raises(CarelensError) as info:
        parse_study(text, "s.toml")
    assert "scoring.scorers" in str(info.value) and "unknown scorer(s) ['vader']" in str(info.value)


def test_entry_point_plugin_is_registered_configured_and_scored(plugins):
    assert "shout" in base.scorer_names()
    config = ScoringConfig(scorers=["text", "shout"], options={"shout": {"label": "shouting"}})
    scorer = base.create_scorer("shout", config)
    assert scorer.name == "shouting"
    frame = base.run_scorer(scorer, [("post", "HELLO"), ("post", "hello")])
    assert frame["shout"].tolist() == [1.0, 0.0]


def test_broken_plugin_is_a_clear_error(plugins):
    with pytest.raises(CarelensError) as info:
        base.create_scorer("ghost", ScoringConfig(scorers=["text"]))
    assert "scoring.scorers: scorer plugin 'ghost' (carelens_no_such_module:factory) failed to load" in str(
        info.value
    )


def test_output_of_the_wrong_shape_is_rejected():
    with pytest.raises(RuntimeError, match="expected 2 rows with columns \\['a', 'b'\\]"):
        base.run_scorer(Broken(ScoringConfig()), [("p", "r"), ("p", "s")])


def test_empty_batch_gives_empty_frame_with_the_metrics():
    frame = base.run_scorer(TextScorer(), [])
    assert list(frame.columns) == list(TextScorer.metrics) and frame.empty
