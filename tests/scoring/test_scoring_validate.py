"""`carelens models validate`: a scorer against a team's raters, beside the raters with each other."""

import json

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from carelens.errors import CarelensError
from carelens.scoring import base
from carelens.scoring.base import BaseScorer
from carelens.scoring.commands import app
from carelens.scoring.validate import read_rated_items, validate

# five items; the stand-in scorer's ER is the number of "!" in the response, capped at 2
ITEMS = {f"i{k}": ("a post", "ok" + "!" * k) for k in range(5)}
RATER_A = {"i0": 0, "i1": 1, "i2": 2, "i3": 2, "i4": 1}
RATER_B = {"i0": 0, "i1": 2, "i2": 2, "i3": 1, "i4": 1}


class Exclaim(BaseScorer):
    name = "exclaim"
    registered = "exclaim"
    metrics = ("ER", "mi_partnership")

    def __init__(self) -> None:
        pass

    def score(self, pairs):
        er = [float(min(2, r.count("!"))) for _, r in pairs]
        return self.frame(
            {"ER": er, "mi_partnership": [float("nan")] * len(pairs)},
            {"ER": ["count of !"] * len(pairs), "mi_partnership": [""] * len(pairs)},
        )


def rows(extra=()):
    out = []
    for rater, answers in (("dr_a", RATER_A), ("dr_b", RATER_B)):
        for item, value in answers.items():
            post, response = ITEMS[item]
            out.append(
                {
                    "item_id": item,
                    "post": post,
                    "response": response,
                    "rater": rater,
                    "question": "ER",
                    "value": str(value),
                }
            )
    return out + list(extra)


def write_csv(tmp_path, data):
    path = tmp_path / "ratings.csv"
    pd.DataFrame(data).to_csv(path, index=False)
    return path


def test_kappas_match_sklearn_for_scorer_and_raters(tmp_path):
    frame = read_rated_items(write_csv(tmp_path, rows()))
    scored = pd.DataFrame({"ER": [min(2, k) for k in range(5)]}, index=[f"i{k}" for k in range(5)]).astype(
        float
    )
    result = {(r["a"], r["b"]): r for r in validate(frame, scored, ("ER",))}
    machine = [str(min(2, k)) for k in range(5)]
    a, b = [str(v) for v in RATER_A.values()], [str(v) for v in RATER_B.values()]
    for key, (x, y) in {
        ("scorer", "dr_a"): (machine, a),
        ("scorer", "dr_b"): (machine, b),
        ("dr_a", "dr_b"): (a, b),
    }.items():
        row = result[key]
        assert row["n"] == 5
        assert row["kappa"] == pytest.approx(cohen_kappa_score(x, y, labels=["0", "1", "2"]))
        assert row["kappa_quadratic"] == pytest.approx(
            cohen_kappa_score(x, y, labels=["0", "1", "2"], weights="quadratic")
        )
        assert row["exact"] == pytest.approx(sum(p == q for p, q in zip(x, y, strict=True)) / 5)


def test_cli_scores_items_from_jsonl_and_prints_the_table(tmp_path, monkeypatch):
    monkeypatch.setitem(base.BUILTIN, "exclaim", f"{__name__}:Exclaim")
    path = tmp_path / "ratings.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows()) + "\n", encoding="utf-8")
    out = tmp_path / "table.csv"
    result = CliRunner().invoke(app, ["validate", "exclaim", "--ratings", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "exclaim on 5 items rated by 2 rater(s)" in result.output
    assert "exclaim vs dr_a" in result.output and "dr_a vs dr_b" in result.output
    table = pd.read_csv(out)
    assert set(table["a"]) == {"exclaim", "dr_a"} and table["n"].tolist() == [5, 5, 5]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"question": "EMPATHY"}, "unknown question 'EMPATHY'"),
        ({"value": "3"}, "ER value '3' is not one of 0, 1, 2"),
        ({"response": "different text"}, "item 'i0' appears with different post or response texts"),
        ({"rater": "dr_a"}, "the same rater answers the same question of the same item twice"),
    ],
)
def test_bad_rows_are_errors_naming_the_line(tmp_path, bad, message):
    extra = {
        "item_id": "i0",
        "post": "a post",
        "response": "ok",
        "rater": "dr_c",
        "question": "ER",
        "value": "0",
    }
    path = write_csv(tmp_path, rows([extra | bad]))
    with pytest.raises(CarelensError) as info:
        read_rated_items(path)
    assert message in str(info.value) and f"{path}:" in str(info.value)


def test_missing_fields_are_an_error(tmp_path):
    path = write_csv(tmp_path, [{"item_id": "i0", "rater": "a", "question": "ER", "value": "1"}])
    with pytest.raises(CarelensError, match="missing post, response"):
        read_rated_items(path)


def test_a_reply_over_several_lines_keeps_the_line_numbers_of_later_rows(tmp_path):
    first = {"item_id": "i0", "post": "a post", "response": "line one\nline two\nline three"}
    good = first | {"rater": "dr_a", "question": "ER", "value": "1"}
    bad = first | {"rater": "dr_a", "question": "ER", "value": "7"}
    path = write_csv(tmp_path, [good, bad])
    with pytest.raises(CarelensError) as info:
        read_rated_items(path)
    assert f"{path}:5" in str(info.value)  # header, a row over three lines, then the bad row
