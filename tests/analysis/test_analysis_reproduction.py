"""The reproduction study: the paper's recorded GPT-4 scores, grouped as the paper grouped them, give the
same group means as the released files read directly."""

import csv
from pathlib import Path

import pandas as pd
import pytest

from carelens.analysis import groups
from carelens.analysis.results import analyse
from carelens.config import load_study
from carelens.datasets.registry import get_dataset
from carelens.tables import conform, empty_table

STUDY = Path(__file__).resolve().parents[2] / "studies" / "reproduce-paper.toml"
RACES = ("black", "white", "asian")
# the released condition labels (in the shifted 'toxicity' column) and carelens's condition names
CONDITIONS = {
    "social media": "social_media",
    "mental health forum": "mental_health_forum",
    "clinician": "clinician",
    "forum w/o demographics": "forum_without_demographics",
    "forum with demographics": "forum_with_demographics",
}


def _file_means(mirror: Path) -> pd.DataFrame:
    """Mean pred_ER/IP/EX per race file and condition, straight from the TSVs (rows with a post and reply)."""
    frames = []
    for race in RACES:
        path = mirror / "mh-eval" / "gpt4_responses" / f"eval_set_{race}_gpt4_rescored.tsv"
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
        frame = frame[(frame["post"].str.strip() != "") & (frame["reply"].str.strip() != "")]
        frames.append(frame.assign(group=race, condition=frame["toxicity"].map(CONDITIONS)))
    files = pd.concat(frames)
    for column in ("pred_ER", "pred_IP", "pred_EX"):
        files[column] = files[column].astype(float)
    return files.groupby(["group", "condition"])[["pred_ER", "pred_IP", "pred_EX"]].mean()


@pytest.fixture(scope="module")
def reproduction(mirror: Path) -> pd.DataFrame:
    """The analysis of the mh-eval-gpt4 dataset with the reproduction study's [analysis] settings."""
    study = load_study(STUDY).study
    bundle = get_dataset("mh-eval-gpt4").parse()
    config = study.analysis.model_copy(update={"bootstrap": 50, "mixed_model": False, "permutations": 99})
    scores = conform("scores", bundle.scores)
    data = groups.build(
        bundle.responses,
        bundle.variants,
        empty_table("inferences"),
        scores,
        study.demographics,
        config,
        study.study.seed,
    )
    out, _ = analyse(
        data,
        config,
        study.study.seed,
        list(study.generation.conditions),
        bundle.variants,
        empty_table("inferences"),
        scores,
    )
    return out


def test_recorded_gpt4_group_means_equal_the_released_files(
    mirror: Path, reproduction: dict[str, pd.DataFrame]
) -> None:
    expected = _file_means(mirror)
    paper = reproduction["comparisons"]
    paper = paper[(paper["test"] == "student_t_paper") & (paper["responder"] == "recorded:gpt-4")]
    paper = paper[paper["kind"] == "group_gap"]
    compared = 0
    for row in paper.itertuples():
        if row.metric not in ("paper_ER", "paper_IP", "paper_EX"):
            continue
        column = "pred_" + row.metric.removeprefix("paper_")
        assert row.mean == pytest.approx(expected.loc[(row.group, row.condition), column], abs=1e-12)
        assert row.ref_mean == pytest.approx(expected.loc[(row.reference, row.condition), column], abs=1e-12)
        compared += 1
    assert compared == 2 * len(CONDITIONS) * 3


def test_reproduction_reports_the_papers_test_beside_the_corrected_one(
    reproduction: dict[str, pd.DataFrame]
) -> None:
    comparisons = reproduction["comparisons"]
    gaps = comparisons[
        (comparisons["kind"] == "group_gap")
        & (comparisons["responder"] == "recorded:gpt-4")
        & (comparisons["metric"] == "paper_ER")
    ]
    assert set(gaps["reference"]) == {"white"} and set(gaps["group"]) == {"black", "asian"}
    paper = gaps[gaps["test"] == "student_t_paper"]
    assert len(paper) == 2 * len(CONDITIONS)
    assert (paper["unit"] == "response").all()
    primary = gaps[gaps["primary"].fillna(False).astype(bool)]
    assert set(primary["test"]) == {"welch_t"} and primary["p_adj"].notna().all()
    # a conclusion of the paper: GPT-4's replies to Black posters are less empathic (ER) than to White ones
    black = paper[paper["group"] == "black"]
    assert (black["pct_diff"] < 0).all()


def test_reproduction_study_file_is_valid() -> None:
    loaded = load_study(STUDY)
    study = loaded.study
    assert [d.dataset for d in study.data] == ["mh-eval-gpt4", "mh-eval-reddit"]
    assert study.generation.responders == ["recorded:gpt-4", "peer"]
    assert study.analysis.group_by == "paper_race" and study.analysis.metric_caveats
