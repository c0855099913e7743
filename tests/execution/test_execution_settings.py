"""The [execution] section and the CLI's --engine."""

import pytest

from carelens.config import parse_study
from carelens.errors import CarelensError
from carelens.execution.settings import with_engine

STUDY = '[study]\nname = "s"\n\n[[data]]\nfile = "posts.tsv"\n'


def test_local_is_the_default_and_ray_takes_an_address_and_workers() -> None:
    assert parse_study(STUDY, "s.toml").execution.engine == "local"
    study = parse_study(STUDY + '[execution]\nengine = "ray"\naddress = "auto"\nnum_workers = 8\n', "s.toml")
    execution = study.execution
    assert (execution.engine, execution.address, execution.num_workers) == ("ray", "auto", 8)


def test_an_unknown_engine_or_key_names_the_key() -> None:
    with pytest.raises(CarelensError, match="execution.engine"):
        parse_study(STUDY + '[execution]\nengine = "spark"\n', "s.toml")
    with pytest.raises(CarelensError, match="did you mean 'num_workers'"):
        parse_study(STUDY + "[execution]\nnum_worker = 2\n", "s.toml")


def test_the_cli_engine_overrides_the_study_file_and_keeps_the_rest() -> None:
    study = parse_study(STUDY + '[execution]\nengine = "ray"\nnum_workers = 3\n', "s.toml")
    local = with_engine(study, "local")
    assert local.execution.engine == "local" and local.execution.num_workers == 3
    assert local.study == study.study and study.execution.engine == "ray"
