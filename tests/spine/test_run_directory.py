"""The run directory: atomic tables, a manifest, stage skipping, and no partial output on bad input."""

import json

import pandas as pd
import pytest

from carelens.config import load_study
from carelens.errors import CarelensError
from carelens.store import RunDir, frame_hash
from carelens.study import run_study
from carelens.tables import empty_table

STUDY = (
    '[study]\nname = "t"\nseed = 7\n[[data]]\ndataset = "counsel-chat"\nposts = 12\nreplies_per_post = 1\n'
)


def test_write_table_is_atomic_and_checked(tmp_path):
    run = RunDir(tmp_path / "run")
    assert not run.path.exists()
    with pytest.raises(CarelensError, match="lacks columns"):
        run.write_table("posts", pd.DataFrame({"text": ["x"]}))
    assert not run.path.joinpath("tables", "posts.parquet").exists()
    digest = run.write_table("scores", empty_table("scores"))
    assert digest == frame_hash(run.read_table("scores"))
    assert [p.name for p in run.path.joinpath("tables").iterdir()] == ["scores.parquet"]


def _scores(start: int, rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(start, start + rows)],
            "scorer": "text",
            "metric": "words",
            "value": [float(i) if i % 7 else float("nan") for i in range(start, start + rows)],
            "evidence": [f"sentence {i}" for i in range(start, start + rows)],
        }
    )


def test_a_streamed_table_equals_the_same_table_written_whole(tmp_path):
    chunks = [_scores(0, 1000), _scores(1000, 0), _scores(1000, 2500)]
    whole = RunDir(tmp_path / "whole")
    whole_hash = whole.write_table("scores", pd.concat(chunks, ignore_index=True))
    run = RunDir(tmp_path / "streamed")
    with run.table_writer("scores") as writer:
        for chunk in chunks:
            writer.write(chunk)
    assert writer.table is not None and len(writer.table) == 3500
    assert not run.has_table("scores")  # nothing in place until the runner moves it
    assert run.write_table("scores", writer.table) == whole_hash
    pd.testing.assert_frame_equal(run.read_table("scores"), whole.read_table("scores"))
    assert [p.name for p in run.path.joinpath("tables").iterdir()] == ["scores.parquet"]


def test_a_streamed_table_is_removed_when_its_writer_fails(tmp_path):
    run = RunDir(tmp_path / "run")
    with pytest.raises(ZeroDivisionError), run.table_writer("scores") as writer:
        writer.write(_scores(0, 10))
        _ = 1 / 0
    assert list(run.path.joinpath("tables").iterdir()) == []
    with pytest.raises(CarelensError, match="lacks columns"), run.table_writer("scores") as writer:
        writer.write(pd.DataFrame({"response_id": ["r1"]}))
    assert list(run.path.joinpath("tables").iterdir()) == []


def test_data_stage_samples_stratified_and_rerun_skips(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(STUDY, encoding="utf-8")
    run = run_study(load_study(path), until="data")
    posts = run.read_table("posts")
    assert len(posts) == 12
    assert posts["community"].value_counts().max() <= 3  # proportional over 29 topics, not 12 of one
    responses = run.read_table("collected_responses")
    assert responses.groupby("post_id").size().max() == 1
    manifest = json.loads(run.manifest_path.read_text())
    first = manifest["stages"]["data"]
    assert first["status"] == "done" and first["rows"]["posts"] == 12
    assert manifest["study"]["sha256"] and manifest["versions"]["pandas"]
    assert manifest["stages"]["data"]["notes"]["sources"][0]["sha256"]
    before = {p.name: p.read_bytes() for p in run.path.joinpath("tables").iterdir()}
    run_study(load_study(path), until="data")
    manifest = json.loads(run.manifest_path.read_text())
    assert manifest["stages"]["data"]["status"] == "skipped"
    assert before == {p.name: p.read_bytes() for p in run.path.joinpath("tables").iterdir()}


def test_changed_config_reruns_stage(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(STUDY, encoding="utf-8")
    run_study(load_study(path), until="data")
    path.write_text(STUDY.replace("posts = 12", "posts = 6"), encoding="utf-8")
    run = run_study(load_study(path), until="data")
    assert len(run.read_table("posts")) == 6
    assert json.loads(run.manifest_path.read_text())["stages"]["data"]["status"] == "done"


def test_bad_import_leaves_no_run_directory(tmp_path):
    (tmp_path / "mine.csv").write_text("text\nfine\n\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("text\nfine\na,b\n", encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text('[study]\nname = "t"\n[[data]]\nfile = "bad.csv"\n', encoding="utf-8")
    with pytest.raises(CarelensError, match=r"bad\.csv:3: expected 1 fields, found 2"):
        run_study(load_study(path), until="data")
    assert not (tmp_path / "runs").exists()
