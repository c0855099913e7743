"""The paper's released GPT-4 files import whole, exactly as the README's "Your own data" shows.

The study and the command line are read from the README and run on the files in CARELENS_DATA_MIRROR;
the expected numbers are computed here from the raw files with pandas.
"""

import json
import os
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from carelens.cli import app
from carelens.config import load_study
from carelens.study import run_study

README = Path(__file__).resolve().parents[2] / "README.md"
ROW_FIELDS = ["post", "reply", "ER", "IP", "EX", "toxicity", "prompt"]


def _readme_block(language: str, must_contain: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    found = [b for b in blocks if must_contain in b]
    assert len(found) == 1, f"one README {language} block with {must_contain!r} expected"
    return found[0]


def _raw(mirror: Path, race: str) -> pd.DataFrame:
    """A released file read independently: skip its header line, name the 7 fields the rows hold."""
    path = mirror / "mh-eval" / "gpt4_responses" / f"eval_set_{race}_gpt4_rescored.tsv"
    frame = pd.read_csv(path, sep="\t", skiprows=1, header=None, names=ROW_FIELDS, dtype=str)
    return frame.assign(**{c: pd.to_numeric(frame[c]) for c in ("ER", "IP", "EX", "toxicity")})


@pytest.fixture(scope="module")
def run(mirror, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpt4")
    (folder / "data").symlink_to(mirror)
    study = folder / "gpt4.toml"
    study.write_text(_readme_block("toml", 'name = "gpt4-recorded"'), encoding="utf-8")
    validated = CliRunner().invoke(app, ["validate", str(study)])
    assert validated.exit_code == 0, validated.output
    return run_study(load_study(study, folder / "run"), until="data")


def test_readme_study_imports_the_files_whole(run, mirror):
    responses = run.read_table("collected_responses")
    raw = {race: _raw(mirror, race) for race in ("black", "white")}
    assert len(responses) == sum(len(f) for f in raw.values()) == 1226 + 227
    assert set(responses["responder"]) == {"recorded:gpt-4"}
    assert set(responses["condition"]) == set(raw["black"]["prompt"]) | set(raw["white"]["prompt"])
    meta = responses["meta"].map(json.loads)
    race = meta.map(lambda m: m["paper_race"])
    assert race.value_counts().to_dict() == {"black": 1226, "white": 227}
    assert not meta.map(lambda m: bool({"ER", "IP", "EX", "toxicity", "type"} & set(m))).any()
    # the stock phrase GPT-4 was asked not to say marks a refusal; nothing else is dropped or changed
    stock = responses["text"].str.contains("unable to provide the help that you need", case=False)
    refused = responses["status"] == "refused"
    assert stock.sum() > 0 and (refused | ~stock).all()
    assert set(responses.loc[~refused, "status"]) == {"ok"}


def test_readme_study_recorded_scores_match_the_files(run, mirror):
    responses = run.read_table("collected_responses")
    scores = run.read_table("collected_scores")
    assert list(scores.columns) == ["response_id", "scorer", "metric", "value", "evidence"]
    assert set(scores["scorer"]) == {"recorded:paper"}
    assert len(scores) == 4 * len(responses)
    race = responses.set_index("response_id")["meta"].map(lambda m: json.loads(m)["paper_race"])
    scores = scores.assign(race=scores["response_id"].map(race))
    means = scores.groupby(["race", "metric"])["value"].mean()
    for group in ("black", "white"):
        raw = _raw(mirror, group)
        for metric, column in (("paper_ER", "ER"), ("paper_IP", "IP"), ("paper_EX", "EX")):
            assert means[(group, metric)] == pytest.approx(raw[column].mean())
        assert means[(group, "paper_toxicity")] == pytest.approx(raw["toxicity"].mean())
    notes = json.loads(run.manifest_path.read_text())["stages"]["data"]["notes"]
    assert notes["collected_scores"] == len(scores) and notes["scores_missing"] == 0
    assert sum(notes["responses_by_status"].values()) == len(responses)


def test_readme_command_line_imports_one_file(mirror):
    command = _readme_block("bash", "eval_set_black_gpt4_rescored.tsv").replace("\\\n", " ")
    args = shlex.split(os.path.expandvars(command.replace("$CARELENS_DATA_MIRROR", str(mirror))))
    assert args[:3] == ["carelens", "import", "responses"]
    result = CliRunner().invoke(app, args[1:])
    assert result.exit_code == 0, f"{result.exception!r}\n{result.output}"
    assert "1226 records" in result.output and "1226 responses" in result.output
    assert "recorded scores: 4904" in result.output
