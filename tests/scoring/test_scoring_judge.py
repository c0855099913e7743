"""The judge scorer against the fake OpenAI server: prompt, JSON validation, failures, cache."""

import json

import pytest

from carelens.errors import CarelensError
from carelens.generation.settings import GenerationConfig
from carelens.llm.settings import ProviderConfig
from carelens.scoring.base import create_scorer
from carelens.scoring.judge import ITEMS, JudgeScorer, parse_rating
from carelens.scoring.settings import JudgeConfig, ScoringConfig
from support.fake_openai import FakeOpenAI

RATING = {"ER": 2, "IP": 1, "EX": 0, "MITI_CCT": "N/A", "MITI_SST": 4, "MITI_PARTNERSHIP": "3"}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def _judge(fake: FakeOpenAI, tmp_path) -> JudgeScorer:
    spec = f"openai-compatible:judge@{fake.base_url}"
    generation = GenerationConfig(
        cache=str(tmp_path / "judge.sqlite"),
        providers={"openai-compatible": ProviderConfig(timeout_seconds=2.0, max_attempts=2)},
    )
    config = ScoringConfig(scorers=["judge"], judge=JudgeConfig(responder=spec, concurrency=2))
    return JudgeScorer.from_config(config, generation)


def _reply(body: dict) -> str:
    reply = body["messages"][-1]["content"].split("Reply to rate:\n", 1)[1]
    if reply.startswith("fenced"):
        return "Sure!\n```json\n" + json.dumps(RATING) + "\n```"
    if reply.startswith("broken"):
        return '{"ER": 2, "IP": 5}'  # IP out of range, keys missing
    return json.dumps(RATING)


def test_ratings_are_parsed_validated_and_cached(fake, tmp_path):
    fake.reply = _reply
    fake.add_fault("refusal", match="refuse me")
    judge = _judge(fake, tmp_path)
    pairs = [
        ("I feel alone.", "plain reply"),
        ("I feel alone.", "fenced reply"),
        ("I feel alone.", "broken reply"),
        ("I feel alone.", "refuse me"),
    ]
    frame = judge.score(pairs)
    assert judge.name.startswith("judge:openai-compatible:judge@")
    assert frame["judge_valid"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert frame.loc[
        0, ["judge_ER", "judge_IP", "judge_EX", "judge_MITI_SST", "judge_MITI_PARTNERSHIP"]
    ].tolist() == [2.0, 1.0, 0.0, 4.0, 3.0]
    assert frame[["judge_MITI_CCT"]].isna().all().item()  # N/A
    assert frame.loc[2:, [f"judge_{k}" for k in ITEMS]].isna().all().all()
    assert judge.notes == {"ok": 2, "unparsed": 1, "refused": 1}
    system = fake.requests[0].body["messages"][0]["content"]
    assert (
        "Emotional reactions" in system
        and "Cultivating change talk" in system
        and '"MITI_PARTNERSHIP"' in system
    )
    sent = len(fake.requests)
    again = _judge(fake, tmp_path).score(pairs[:3])
    assert len(fake.requests) == sent  # every answer came from the engine's cache
    assert again["judge_valid"].tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "text, valid",
    [
        ('{"ER": 0, "IP": 0, "EX": 2, "MITI_CCT": 5, "MITI_SST": "NA", "MITI_PARTNERSHIP": 1}', True),
        ('{"ER": 0, "IP": 0, "EX": 2, "MITI_CCT": 5, "MITI_SST": 3, "MITI_PARTNERSHIP": "NA"}', False),
        ('{"ER": 1.5, "IP": 0, "EX": 2, "MITI_CCT": 5, "MITI_SST": 3, "MITI_PARTNERSHIP": 2}', False),
        ("no json here", False),
        (None, False),
    ],
)
def test_rating_validation(text, valid):
    assert (parse_rating(text) is not None) is valid


def test_judge_without_its_table_is_a_config_error():
    with pytest.raises(CarelensError, match="scoring.judge: the judge scorer needs"):
        create_scorer("judge", ScoringConfig(scorers=["judge"]))
