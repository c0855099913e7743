"""The ``demographics`` CLI commands, through Typer's test runner."""

import pandas as pd
from typer.testing import CliRunner

from carelens.demographics.commands import app
from carelens.demographics.cues import original_row, variant_row
from carelens.store import RunDir
from carelens.tables import conform

runner = CliRunner()


def test_cues_sizes_and_group() -> None:
    result = runner.invoke(app, ["cues"])
    assert result.exit_code == 0, result.output
    assert "race=hispanic" in result.output and "gender=non-binary" in result.output
    listed = runner.invoke(app, ["cues", "--group", "gender=non-binary"])
    assert listed.exit_code == 0 and "nonbinary-pronouns" in listed.output
    assert runner.invoke(app, ["cues", "--group", "race=martian"]).exit_code != 0


def test_parse_command() -> None:
    result = runner.invoke(app, ["parse", "ethnicity: black, age: early 20s, gender: female"])
    assert result.exit_code == 0
    assert "race: black" in result.output and "age: 20-23" in result.output and "status: ok" in result.output


def test_manipulation_command(tmp_path) -> None:
    run = RunDir(tmp_path / "run")
    original = original_row("p", "text")
    cued = variant_row("p", {"race": "black", "gender": None, "age": None}, "explicit", "template:paper",
                       "[black] --", "", "[black] -- text")
    run.write_table("variants", conform("variants", pd.DataFrame([original, cued])))
    inferences = pd.DataFrame([{"variant_id": v["variant_id"], "model": "m", "race": "black", "gender": None,
                                "age": None, "explanation": None, "raw": "", "status": "ok"}
                               for v in (original, cued)])
    run.write_table("inferences", conform("inferences", inferences))
    result = runner.invoke(app, ["manipulation", str(run.path), "--confusion", "race"])
    assert result.exit_code == 0, result.output
    assert "template:paper" in result.output and "intended race" in result.output
