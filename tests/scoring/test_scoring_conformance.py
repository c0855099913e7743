"""Every built-in scorer follows the scorer contract of ``carelens.scoring.base``.

Run for each name in ``BUILTIN``: a scorer whose model cannot be loaded offline is skipped with the
reason. The encoders run in float32 here: under bfloat16 a text's embedding moves by about 1e-3
with its batch mates (see ``carelens.scoring.embedder``), which is documented, not a contract.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

from carelens.scoring.base import (
    BUILTIN,
    create_scorer,
    evidence_column,
    output_columns,
    run_scorer,
)
from carelens.scoring.hf import ScorerUnavailable
from carelens.scoring.settings import JudgeConfig, ScoringConfig

PAIRS = [
    (
        "My dog died last week and I can't stop crying. Everyone says it's just a dog.",
        "I'm so sorry about your dog. Losing a companion like that hurts, and your grief is real. "
        "What was he like?",
    ),
    ("I failed my driving test again.", "Try again next month."),
    ("I feel like nobody at work likes me.", ""),
    (
        "I have been thinking about ending my life. I don't see the point anymore.",
        "Thank you for telling me. It sounds like you are carrying a lot right now. Are you safe tonight? "
        "Please call or text 988 to reach the Suicide and Crisis Lifeline, they are there any time.",
    ),
    ("Can't sleep, my head won't stop.", "You are a stupid idiot, just go to sleep!!"),
    (
        "My parents fight every night and I hide in my room.",
        "That sounds really scary and lonely. It makes sense that you want to hide when the shouting starts. "
        "Is there an adult at school you trust? Have you been able to talk to anyone about it? " * 3,
    ),
    ("I got the job!!", "Congratulations, that's wonderful news."),
]

NAMES = sorted(BUILTIN)


@pytest.fixture(scope="module")
def built(small_span_model, tmp_path_factory):
    """Each scorer built once (or the reason it cannot be), with float32 encoders."""
    cache: dict[str, object] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CARELENS_FLOAT32", "1")

        def get(name: str) -> object:
            if name not in cache:
                config = ScoringConfig(
                    scorers=[name],
                    options={"empathy": {"model_dir": str(small_span_model)}},
                    judge=JudgeConfig(responder="local:smollm2-135m", max_tokens=64),
                )
                try:
                    cache[name] = create_scorer(name, config)
                except ScorerUnavailable as exc:
                    cache[name] = exc
            return cache[name]

        yield get


@pytest.fixture(autouse=True)
def _float32(monkeypatch):
    monkeypatch.setenv("CARELENS_FLOAT32", "1")


def scorer_for(built, name):
    scorer = built(name)
    if isinstance(scorer, Exception):
        pytest.skip(f"'{name}' cannot be loaded offline here: {scorer}")
    assert callable(getattr(scorer, "get_params", None)), f"'{name}' has no get_params()"
    assert callable(getattr(type(scorer), "from_config", None)), f"'{name}' has no from_config()"
    return scorer


def assert_same(a: pd.DataFrame, b: pd.DataFrame, metrics) -> None:
    for m in metrics:
        np.testing.assert_allclose(a[m].to_numpy(float), b[m].to_numpy(float), atol=1e-6, equal_nan=True)
        assert a[evidence_column(m)].tolist() == b[evidence_column(m)].tolist(), m


@pytest.mark.parametrize("name", NAMES)
def test_protocol_fields(built, name):
    scorer = scorer_for(built, name)
    assert isinstance(scorer.name, str) and scorer.name
    assert isinstance(scorer.metrics, tuple) and scorer.metrics
    assert all(isinstance(m, str) and not m.startswith("evidence:") for m in scorer.metrics)
    assert len(set(scorer.metrics)) == len(scorer.metrics)
    assert set(scorer.ranges) <= set(scorer.metrics)
    json.dumps(scorer.get_params())
    assert callable(type(scorer).from_config)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(built, name):
    scorer = scorer_for(built, name)
    first = run_scorer(scorer, PAIRS)
    assert list(first.columns) == output_columns(scorer.metrics)
    assert_same(first, run_scorer(scorer, PAIRS), scorer.metrics)


@pytest.mark.parametrize("name", NAMES)
def test_batch_invariant(built, name):
    scorer = scorer_for(built, name)
    whole = run_scorer(scorer, PAIRS)
    one_by_one = pd.concat([run_scorer(scorer, [p]) for p in PAIRS], ignore_index=True)
    halves = pd.concat([run_scorer(scorer, PAIRS[:3]), run_scorer(scorer, PAIRS[3:])], ignore_index=True)
    assert_same(whole, one_by_one, scorer.metrics)
    assert_same(whole, halves, scorer.metrics)


@pytest.mark.parametrize("name", NAMES)
def test_order_invariant(built, name):
    scorer = scorer_for(built, name)
    whole = run_scorer(scorer, PAIRS)
    backwards = run_scorer(scorer, PAIRS[::-1]).iloc[::-1].reset_index(drop=True)
    assert_same(whole, backwards, scorer.metrics)


@pytest.mark.parametrize("name", NAMES)
def test_nan_policy_evidence_and_ranges(built, name):
    scorer = scorer_for(built, name)
    frame = run_scorer(scorer, PAIRS)
    for m in scorer.metrics:
        low, high = scorer.ranges.get(m, (-math.inf, math.inf))
        for value, evidence in zip(frame[m], frame[evidence_column(m)], strict=True):
            assert isinstance(evidence, str)
            if math.isnan(value):
                assert evidence == "", (m, evidence)
            else:
                assert evidence.strip(), (m, value)
                assert low <= value <= high, (m, value)


@pytest.mark.parametrize("name", NAMES)
def test_empty_input(built, name):
    scorer = scorer_for(built, name)
    for frame in (scorer.score([]), run_scorer(scorer, [])):
        assert len(frame) == 0 and list(frame.columns) == output_columns(scorer.metrics)


@pytest.mark.parametrize("name", NAMES)
def test_explicit_params_round_trip(built, name):
    scorer = scorer_for(built, name)
    again = type(scorer)(**scorer.get_params())
    assert again.get_params() == scorer.get_params() and again.name == scorer.name
    assert_same(run_scorer(scorer, PAIRS), run_scorer(again, PAIRS), scorer.metrics)
