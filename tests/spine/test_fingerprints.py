"""Fingerprints that cannot go stale: changing any key of a study, or a file it reads, re-runs exactly the
stages that read it, and the re-run equals a fresh run of the changed study."""

import json
from pathlib import Path

import pytest

from carelens.config import load_study
from carelens.errors import CarelensError
from carelens.store import RunDir
from carelens.study import STAGE_NAMES, run_study

UNTIL = "analyze"  # the report reads the whole study and is covered by the end-to-end tests
STAGES = STAGE_NAMES[: STAGE_NAMES.index(UNTIL) + 1]

CSV = "post,response,responder\n" + "".join(
    f'"I have felt low for {i} weeks and cannot sleep.","That sounds hard, what helps you rest? {i}",peer\n'
    for i in range(1, 13)
)

STUDY = """
[study]
name = "keys"
description = "{description}"
seed = {seed}
output = "run"

[[data]]
file = "replies.csv"
kind = "responses"
posts = {posts}

[demographics]
design = "counterfactual"
races = {races}
genders = ["female"]
ages = [32]
cue_kinds = ["explicit"]

[generation]
responders = ["peer"]

[scoring]
scorers = {scorers}

[analysis]
bootstrap = {bootstrap}
permutations = 99
"""
BASE = {
    "description": "a study",
    "seed": 3,
    "posts": 10,
    "races": '["black", "white"]',
    "scorers": '["text"]',
    "bootstrap": 50,
}


def _write(folder: Path, csv: str = CSV, **changes: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "replies.csv").write_text(csv, encoding="utf-8")
    study = folder / "study.toml"
    study.write_text(STUDY.format(**{**BASE, **changes}), encoding="utf-8")
    return study


def _tables(run: RunDir) -> dict[str, str]:
    manifest = json.loads(run.manifest_path.read_text())
    return {t: h for s in STAGES for t, h in manifest["stages"][s]["table_hashes"].items()}


def _statuses(run: RunDir) -> dict[str, str]:
    manifest = json.loads(run.manifest_path.read_text())
    return {s: manifest["stages"][s]["status"] for s in STAGES}


@pytest.fixture
def study_dir(tmp_path: Path, mirror: Path) -> Path:
    folder = tmp_path / "study"
    run_study(load_study(_write(folder)), until=UNTIL)
    return folder


@pytest.mark.parametrize(
    ("change", "must_run", "must_skip"),
    [
        ({"seed": 4}, {"data", "variants"}, set()),
        ({"posts": 8}, {"data"}, set()),
        ({"description": "another"}, set(), set(STAGES)),
        ({"races": '["black"]'}, {"variants"}, {"data"}),
        (
            {"scorers": '["text", "sentiment"]'},
            {"score", "analyze"},
            {"data", "variants", "probe", "generate"},
        ),
        ({"bootstrap": 60}, {"analyze"}, {"data", "variants", "probe", "generate", "score"}),
    ],
)
def test_a_changed_key_reruns_what_read_it_and_equals_a_fresh_run(
    study_dir: Path, tmp_path: Path, change: dict[str, object], must_run: set[str], must_skip: set[str]
) -> None:
    rerun = run_study(load_study(_write(study_dir, **change)), until=UNTIL)
    statuses = _statuses(rerun)
    assert {s for s in must_run if statuses[s] != "done"} == set(), statuses
    assert {s for s in must_skip if statuses[s] != "skipped"} == set(), statuses
    fresh = run_study(load_study(_write(tmp_path / "fresh", **change)), until=UNTIL)
    assert _tables(rerun) == _tables(fresh)


def test_editing_the_users_file_reruns_the_data_stage(study_dir: Path, tmp_path: Path) -> None:
    edited = CSV.replace("cannot sleep", "cannot eat")
    rerun = run_study(load_study(_write(study_dir, csv=edited)), until=UNTIL)
    assert _statuses(rerun)["data"] == "done"
    assert "cannot eat" in " ".join(rerun.read_table("posts")["text"])
    fresh = run_study(load_study(_write(tmp_path / "fresh", csv=edited)), until=UNTIL)
    assert _tables(rerun) == _tables(fresh)


def test_an_unchanged_study_skips_every_stage(study_dir: Path) -> None:
    rerun = run_study(load_study(_write(study_dir)), until=UNTIL)
    assert set(_statuses(rerun).values()) == {"skipped"}


def test_a_run_directory_belongs_to_one_study(study_dir: Path) -> None:
    other = study_dir / "other.toml"
    other.write_text((study_dir / "study.toml").read_text().replace('name = "keys"', 'name = "other"'))
    with pytest.raises(CarelensError, match="belongs to study 'keys'"):
        run_study(load_study(other), until=UNTIL)
    run = run_study(load_study(other), until="data", force=True)
    manifest = json.loads(run.manifest_path.read_text())
    assert manifest["study"]["name"] == "other" and set(manifest["stages"]) == {"data"}
    assert not run.has_table("scores")  # nothing of the other study is left beside the new tables


def test_a_killed_stage_is_marked_interrupted(study_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from carelens.analysis import stage as analysis_stage

    def killed(ctx: object) -> dict[str, object]:
        raise KeyboardInterrupt

    monkeypatch.setattr(analysis_stage, "analyze", killed)
    with pytest.raises(KeyboardInterrupt):
        run_study(load_study(study_dir / "study.toml"), until=UNTIL, force=True)
    manifest = json.loads((study_dir / "run" / "manifest.json").read_text())
    assert manifest["state"] == "interrupted" and manifest["stages"]["analyze"]["status"] == "interrupted"
    monkeypatch.undo()
    again = run_study(load_study(study_dir / "study.toml"), until=UNTIL)
    assert _statuses(again)["analyze"] == "done"
