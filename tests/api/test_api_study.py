"""The Python API as a notebook uses it: a study from a dict, run up to a stage, tables, the manifest."""

import hashlib
import tomllib
from pathlib import Path

import pytest

import carelens
from carelens.tables import SCHEMAS, VERDICTS


def tiny(name: str = "api-tiny") -> dict:
    return {
        "study": {"name": name, "seed": 7},
        "data": [{"dataset": "mh-eval-gpt4", "posts": 24}],
        "demographics": {"design": "none"},
        "generation": {"responders": ["recorded:gpt-4"]},
        "scoring": {"scorers": ["text"], "workers": 1},
        "analysis": {"group_by": "paper_race", "reference": "white", "bootstrap": 200},
    }


def test_a_dict_study_runs_stage_by_stage_and_skips_what_is_up_to_date(
    tmp_path: Path, mirror: Path, cache_dir: Path
) -> None:
    study = carelens.open_study(tiny(), base=tmp_path)
    assert study.name == "api-tiny" and study.output == tmp_path / "runs" / "api-tiny"
    assert study.config.analysis.reference == "white"

    run = study.run(until="score")
    assert run.path == study.output
    assert {"posts", "responses", "scores"} <= set(run.tables) and "comparisons" not in run.tables
    with pytest.raises(carelens.CarelensError, match="no 'comparisons' table.*'analyze' stage writes it"):
        run.table("comparisons")
    scores = run.table("scores")
    assert list(scores.columns)[: len(SCHEMAS["scores"])] == list(SCHEMAS["scores"])
    text_metrics = {"words", "readability", "second_person_rate", "question_rate"}
    assert set(scores[scores.scorer == "text"].metric) == text_metrics
    assert "paper_ER" in set(scores.metric)  # the release's recorded scores come along

    again = study.run(until="analyze")
    stages = again.manifest["stages"]
    assert {stages[s]["status"] for s in ("data", "variants", "probe", "generate", "score")} == {"skipped"}
    assert stages["analyze"]["status"] == "done"
    assert set(again.verdicts.verdict) <= set(VERDICTS)
    comparisons = again.table("comparisons")
    assert {"student_t_paper", "welch_t"} <= set(comparisons.test)
    assert comparisons.dtypes["p"] == "float64" and str(comparisons.dtypes["n_posts"]) == "Int64"

    # the run directory keeps the dict as TOML text that parses back to the same study
    kept = (run.path / "study.toml").read_text(encoding="utf-8")
    assert kept == study.text and tomllib.loads(kept) == tiny()
    assert again.manifest["study"]["sha256"] == hashlib.sha256(kept.encode()).hexdigest()
    reopened = carelens.open_run(run.path)
    assert reopened.tables == again.tables and reopened.report is None
    assert reopened.table("scores").equals(scores)


def test_output_override_and_file_studies(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('[study]\nname = "f"\noutput = "out/f"\n[[data]]\ndataset = "epitome"\n')
    from_file = carelens.open_study(tmp_path / "s.toml")
    assert from_file.output == tmp_path / "out" / "f" and from_file.path == tmp_path / "s.toml"
    from_dict = carelens.open_study(
        {**tiny("d"), "study": {"name": "d", "output": "elsewhere"}}, base=tmp_path
    )
    assert from_dict.output == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("study", "message"),
    [
        (
            {**tiny(), "scoring": {"scorerz": ["text"]}},
            "scoring.scorerz: unknown key (did you mean 'scorers'?)",
        ),
        ({**tiny(), "data": [{"dataset": "nope"}]}, "data[0].dataset: unknown dataset 'nope'"),
        ({**tiny(), "study": {"name": "x", "output": None}}, "study.output: None cannot be written"),
        ({"study": {"name": "x"}}, "data: required key is missing"),
        ("missing.toml", "study file not found"),
        ([1, 2], "a study is a file path or a dict"),
    ],
)
def test_a_bad_study_is_the_same_error_the_cli_prints(tmp_path: Path, study: object, message: str) -> None:
    with pytest.raises(carelens.CarelensError) as error:
        carelens.open_study(study if not isinstance(study, str) else tmp_path / study)  # type: ignore[arg-type]
    assert message in str(error.value)


def test_run_errors(tmp_path: Path) -> None:
    with pytest.raises(carelens.CarelensError, match="no such run directory"):
        carelens.open_run(tmp_path / "none")
    with pytest.raises(carelens.CarelensError, match="not a run directory"):
        carelens.open_run(tmp_path)
    with pytest.raises(carelens.CarelensError, match="unknown stage 'scores'; allowed: data, variants"):
        carelens.open_study(tiny(), base=tmp_path).run(until="scores")


def test_every_exported_name_is_documented_and_typed() -> None:
    import inspect

    for name in carelens.__all__:
        obj = getattr(carelens, name)
        if inspect.isfunction(obj):
            assert obj.__doc__, name
            hints = inspect.get_annotations(obj)
            assert "return" in hints and set(inspect.signature(obj).parameters) <= set(hints), name
        elif inspect.isclass(obj):
            assert obj.__doc__, name
            for member, value in vars(obj).items():
                if not member.startswith("_") and (inspect.isfunction(value) or isinstance(value, property)):
                    function = value.fget if isinstance(value, property) else value
                    assert function.__doc__, f"{name}.{member}"
                    assert "return" in inspect.get_annotations(function), f"{name}.{member}"
