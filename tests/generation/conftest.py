"""Fixtures for the generation tests: a fake OpenAI server and a stage context factory."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from generation_helpers import stage_context

from carelens.study import StageContext
from support.fake_openai import FakeOpenAI


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    """A started fake OpenAI server (no latency, no faults)."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[..., StageContext]:
    """``make_ctx(generation_toml, variants=None, collected=None)``: a stage context over tmp_path."""
    return lambda *args, **kwargs: stage_context(tmp_path, *args, **kwargs)
