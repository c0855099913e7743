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
    # a plugin written before evidence existed gets empty evidence and no params
    assert frame["evidence:shout"].tolist() == ["", ""] and base.scorer_params(scorer) is None


def test_broken_plugin_is_a_clear_error(plugins):
    with pytest.raises(CarelensError) as info:
        base.create_scorer("ghost", ScoringConfig(scorers=["text"]))
    assert "scoring.scorers: scorer plugin 'ghost' (carelens_no_such_module:factory) failed to load" in str(
        info.value
    )


def test_output_of_the_wrong_shape_is_rejected():
    with pytest.raises(
        RuntimeError, match="expected 2 rows with columns \\['a', 'b', 'evidence:a', 'evidence:b'\\]"
    ):
        base.run_scorer(Broken(ScoringConfig()), [("p", "r"), ("p", "s")])


class NoEvidenceText(base.BaseScorer):
    name = "bad"
    metrics = ("n",)

    def __init__(self, *, evidence: object = None) -> None:
        self.evidence = evidence

    def score(self, pairs):
        return pd.DataFrame({"n": [1.0] * len(pairs), "evidence:n": [self.evidence] * len(pairs)})


def test_evidence_that_is_not_text_is_rejected():
    with pytest.raises(RuntimeError, match="non-text evidence for 'n'"):
        base.run_scorer(NoEvidenceText(evidence=None), [("p", "r")])
    assert base.run_scorer(NoEvidenceText(evidence="rule"), [("p", "r")])["evidence:n"].tolist() == ["rule"]


def test_empty_batch_gives_empty_frame_with_the_metrics_and_evidence():
    frame = base.run_scorer(TextScorer(), [])
    assert list(frame.columns) == base.output_columns(TextScorer.metrics) and frame.empty


def test_from_config_maps_the_scoring_section_and_its_options_table():
    from carelens.scoring.toxicity import ToxigenScorer

    config = ScoringConfig(
        scorers=["toxigen"], toxigen_model="/models/tox", options={"toxigen": {"max_length": 128}}
    )
    assert ToxigenScorer.config_params(config) == {"model": "/models/tox", "max_length": 128}
    bad = ScoringConfig(scorers=["toxigen"], options={"toxigen": {"max_len": 128}})
    with pytest.raises(
        CarelensError,
        match="scoring.options.toxigen.max_len: unknown option 'max_len'; allowed: model, max_length",
    ):
        ToxigenScorer.config_params(bad)


def test_get_params_are_the_constructor_parameters():
    assert TextScorer().get_params() == {}
    assert NoEvidenceText(evidence="x").get_params() == {"evidence": "x"}
