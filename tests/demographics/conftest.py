"""Fixtures for the demographics tests: a stage-context factory, a fake server, a cheap embedder."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from demographics_fixtures import hashed_embed, posts_frame

from carelens.config import LoadedStudy, parse_study
from carelens.store import RunDir
from carelens.study import StageContext
from carelens.tables import empty_table
from support.fake_openai import FakeOpenAI


@pytest.fixture
def cheap_embed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make fidelity checks use ``hashed_embed`` instead of loading the encoder."""
    monkeypatch.setattr("carelens.demographics.fidelity._default_embed", hashed_embed)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


STUDY = """
[study]
name = "demo-test"
seed = 7
output = "run"

[[data]]
file = "posts.tsv"

[demographics]
{demographics}

[generation]
cache = "cache.sqlite"
{generation}
"""


@pytest.fixture
def make_ctx(tmp_path: Path, cache_dir: Path) -> Callable[..., StageContext]:
    """``make_ctx(demographics_toml, generation_toml="", posts=None, collected=None, variants=None)``."""

    def make(demographics: str, generation: str = "", posts: pd.DataFrame | None = None,
             collected: pd.DataFrame | None = None, variants: pd.DataFrame | None = None) -> StageContext:
        text = STUDY.replace("{demographics}", demographics).replace("{generation}", generation)
        path = tmp_path / "study.toml"
        path.write_text(text, encoding="utf-8")
        loaded = LoadedStudy(parse_study(text, str(path)), path, text)
        run = RunDir(loaded.output_dir)
        run.write_table("posts", posts if posts is not None else posts_frame())
        run.write_table("collected_variants", collected if collected is not None else empty_table("variants"))
        if variants is not None:
            run.write_table("variants", variants)
        return StageContext(loaded, run)

    return make
