"""Agreement figures against values computed here by hand, from the textbook formulas."""

import itertools
import json
import math
from collections import Counter
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from carelens.errors import CarelensError
from carelens.review.agreement import (
    agreement_rows,
    compute_agreement,
    markdown_table,
    normalise,
    read_ratings_csv,
    write_agreement,
)

ITEMS = [f"i{k:02d}" for k in range(10)]
ER = {"ann": [0, 1, 2, 2, 1, 0, 1, 2, 0, 1], "bob": [0, 1, 1, 2, 1, 0, 2, 2, 1, 1]}
CCT = {"ann": ["3", "NA", "4", "5", "2", "NA", "1", "3", "4", "2"],
       "bob": ["3", "NA", "3", "5", "NA", "4", "2", "3", "5", "2"]}
SOURCE = ["ai", "human", "ai", "human", "ai", "ai", "human", "human", "ai", "human"]
GUESS = {"ann": ["ai", "human", "ai", "ai", "ai", "human", "human", "human", "ai", "human"],
         "bob": ["human", "human", "ai", "ai", "human", "human", "ai", "human", "ai", "ai"]}
SCORER_ER = [0, 1, 2, 1, 1, 0, 1, 2, 0, 2]


def fixture_frame() -> pd.DataFrame:
    rows = []
    for rater in ("ann", "bob"):
        for k, item in enumerate(ITEMS):
            base = {"item_id": item, "rater_id": rater, "source": SOURCE[k], "response_id": f"r{k}"}
            rows.append({**base, "question": "ER", "value": str(ER[rater][k])})
            rows.append({**base, "question": "MITI_CCT", "value": CCT[rater][k]})
            rows.append({**base, "question": "AI_GUESS", "value": GUESS[rater][k]})
        rows.append({"item_id": ITEMS[0], "rater_id": rater, "source": "ai", "response_id": "r0",
                     "question": "COMMENT", "value": "short but kind" if rater == "ann" else ""})
    return normalise(pd.DataFrame(rows), "fixture")


def fixture_scores() -> pd.DataFrame:
    return pd.DataFrame({"response_id": [f"r{k}" for k in range(10)], "scorer": "empathy", "metric": "ER",
                         "value": [float(v) for v in SCORER_ER]})


# --- independent formulas ------------------------------------------------------------------------

def hand_kappa(a: list[int], b: list[int], levels: list[int], quadratic: bool = False) -> float:
    """Cohen's kappa: 1 - sum(w * observed) / sum(w * expected), w = 0/1 or ((i - j) / (k - 1))^2."""
    k, n = len(levels), len(a)
    idx = {v: i for i, v in enumerate(levels)}
    observed = np.zeros((k, k))
    for x, y in zip(a, b, strict=True):
        observed[idx[x], idx[y]] += 1 / n
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    i, j = np.indices((k, k))
    weights = ((i - j) / (k - 1)) ** 2 if quadratic else (i != j).astype(float)
    return float(1 - (weights * observed).sum() / (weights * expected).sum())


def hand_ordinal_alpha(units: list[list[float]]) -> float:
    """Krippendorff's ordinal alpha from the coincidence matrix (Krippendorff 2011, section C)."""
    units = [u for u in units if len(u) >= 2]
    values = sorted({v for u in units for v in u})
    coincid = Counter()
    for u in units:
        for x, y in itertools.permutations(u, 2):
            coincid[(x, y)] += 1 / (len(u) - 1)
    n_c = {c: sum(coincid[(c, k)] for k in values) for c in values}
    n = sum(n_c.values())

    def delta2(c: float, k: float) -> float:
        lo, hi = min(c, k), max(c, k)
        between = sum(n_c[g] for g in values if lo <= g <= hi)
        return (between - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(coincid[(c, k)] * delta2(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * delta2(c, k) for c in values for k in values) / (n - 1)
    return 1 - observed / expected


def hand_two_sided_binom(k: int, n: int) -> float:
    """Exact two-sided binomial test at p = 1/2 (the distribution is symmetric)."""
    tail = min(k, n - k)
    p = sum(math.comb(n, i) for i in range(tail + 1)) / 2**n
    return 1.0 if 2 * tail == n else min(1.0, 2 * p)


# --- tests ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def result() -> dict:
    return compute_agreement(fixture_frame(), fixture_scores(), source="fixture", resamples=300, seed=7)


def test_epitome_exact_kappa_and_weighted_kappa_match_hand_formulas(result: dict) -> None:
    pair = result["questions"]["ER"]["pairs"][0]
    assert pair["raters"] == ["ann", "bob"] and pair["n"] == 10
    assert pair["exact"] == pytest.approx(7 / 10)
    assert pair["kappa"] == pytest.approx(hand_kappa(ER["ann"], ER["bob"], [0, 1, 2]))
    assert pair["kappa_quadratic"] == pytest.approx(hand_kappa(ER["ann"], ER["bob"], [0, 1, 2], True))
    assert pair["kappa_quadratic"] != pytest.approx(pair["kappa"])


def test_ordinal_alpha_matches_the_coincidence_matrix_formula(result: dict) -> None:
    er = result["questions"]["ER"]
    units = [[float(ER["ann"][k]), float(ER["bob"][k])] for k in range(10)]
    assert er["alpha"] == pytest.approx(hand_ordinal_alpha(units))
    assert er["alpha_items"] == 10


def test_alpha_bootstrap_ci_is_seeded_and_brackets_the_estimate(result: dict) -> None:
    er = result["questions"]["ER"]
    low, high = er["alpha_ci"]
    assert low < er["alpha"] < high and -1 <= low and high <= 1
    assert er["alpha_resamples_used"] > 250
    again = compute_agreement(fixture_frame(), None, resamples=300, seed=7)["questions"]["ER"]["alpha_ci"]
    other = compute_agreement(fixture_frame(), None, resamples=300, seed=8)["questions"]["ER"]["alpha_ci"]
    assert again == [low, high] and other != [low, high]


def test_na_is_counted_and_left_out_of_ordinal_statistics(result: dict) -> None:
    cct = result["questions"]["MITI_CCT"]
    assert cct["na"] == {"total": 4, "by_rater": {"ann": 2, "bob": 2}, "items_all_na": 1, "items_mixed": 2}
    pair = cct["pairs"][0]
    assert (pair["both_na"], pair["one_na"], pair["n"]) == (1, 2, 7)
    keep = [k for k in range(10) if "NA" not in (CCT["ann"][k], CCT["bob"][k])]
    a = [int(CCT["ann"][k]) for k in keep]
    b = [int(CCT["bob"][k]) for k in keep]
    assert pair["exact"] == pytest.approx(np.mean(np.array(a) == np.array(b)))
    assert pair["kappa_quadratic"] == pytest.approx(hand_kappa(a, b, [1, 2, 3, 4, 5], quadratic=True))
    units = [[float(CCT[r][k]) for r in ("ann", "bob") if CCT[r][k] != "NA"] for k in range(10)]
    assert cct["alpha"] == pytest.approx(hand_ordinal_alpha(units))
    assert cct["distribution"]["ann"]["NA"] == 2


def test_ai_guess_accuracy_per_rater(result: dict) -> None:
    for rater in ("ann", "bob"):
        correct = sum(g == s for g, s in zip(GUESS[rater], SOURCE, strict=True))
        got = result["ai_guess"][rater]
        assert (got["n"], got["correct"]) == (10, correct)
        assert got["accuracy"] == pytest.approx(correct / 10)
        assert got["p_vs_chance"] == pytest.approx(hand_two_sided_binom(correct, 10))
        on_ai = [g == s for g, s in zip(GUESS[rater], SOURCE, strict=True) if s == "ai"]
        assert got["accuracy_on_ai"] == pytest.approx(sum(on_ai) / len(on_ai))
        assert got["guessed_ai_share"] == pytest.approx(GUESS[rater].count("ai") / 10)
        assert got["true_ai_share"] == pytest.approx(0.5)
    guess = result["questions"]["AI_GUESS"]
    assert guess["scale"] == "nominal" and guess["pairs"][0]["kappa_quadratic"] is None
    assert guess["pairs"][0]["kappa"] == pytest.approx(
        hand_kappa([g == "ai" for g in GUESS["ann"]], [g == "ai" for g in GUESS["bob"]], [False, True]))


def test_scorer_is_compared_with_each_clinician_beside_inter_clinician_agreement(result: dict) -> None:
    validity = result["scorer_validity"]["ER"]
    assert validity["inter_clinician"] == result["questions"]["ER"]["pairs"]
    by_rater = {s["rater"]: s for s in validity["scorers"]}
    assert set(by_rater) == {"ann", "bob"}
    for rater, s in by_rater.items():
        assert s["scorer"] == "empathy" and s["n"] == 10 and not s["rounded"]
        assert s["kappa_quadratic"] == pytest.approx(hand_kappa(SCORER_ER, ER[rater], [0, 1, 2], True))
        units = [[float(SCORER_ER[k]), float(ER[rater][k])] for k in range(10)]
        assert s["alpha"] == pytest.approx(hand_ordinal_alpha(units))


def test_comments_are_counted_not_scored(result: dict) -> None:
    assert result["comments"] == {"ann": 1, "bob": 0}
    assert "COMMENT" not in result["questions"]


def test_three_raters_give_every_pair_and_a_joint_alpha() -> None:
    frame = fixture_frame()
    carl = frame[(frame["rater_id"] == "ann") & (frame["question"] == "ER")].copy()
    carl["rater_id"] = "carl"
    carl = carl.iloc[:6]  # carl rated only six items
    result = compute_agreement(pd.concat([frame, carl]), None, resamples=50)
    pairs = result["questions"]["ER"]["pairs"]
    assert [p["raters"] for p in pairs] == [["ann", "bob"], ["ann", "carl"], ["bob", "carl"]]
    assert pairs[1]["n"] == 6 and pairs[1]["exact"] == 1.0 and pairs[1]["kappa"] == pytest.approx(1.0)
    units = [[float(ER["ann"][k]), float(ER["bob"][k])] + ([float(ER["ann"][k])] if k < 6 else [])
             for k in range(10)]
    assert result["questions"]["ER"]["alpha"] == pytest.approx(hand_ordinal_alpha(units))


def test_undefined_statistics_are_null_not_nan() -> None:
    frame = normalise(pd.DataFrame({"item": ["a", "a", "b", "b"], "rater": ["x", "y", "x", "y"],
                                    "question": "ER", "value": ["1", "1", "1", "1"]}), "t")
    result = compute_agreement(frame, None, resamples=20)
    er = result["questions"]["ER"]
    assert er["pairs"][0]["exact"] == 1.0 and er["pairs"][0]["kappa"] is None and er["alpha"] is None
    assert any("no scores" in n for n in result["notes"])
    json.dumps(result, allow_nan=False)


def test_written_json_and_csv(result: dict, tmp_path: Path) -> None:
    paths = write_agreement(result, tmp_path / "review")
    loaded = json.loads(paths[0].read_text())
    assert loaded["questions"]["ER"]["pairs"][0]["exact"] == pytest.approx(0.7)
    table = pd.read_csv(paths[1])
    assert set(table["section"]) == {"alpha", "pair", "ai_guess", "scorer"}
    cct = table[(table["section"] == "alpha") & (table["question"] == "MITI_CCT")].iloc[0]
    assert (cct["items"], cct["rated_pairs"], cct["na_convention"]) == (10, 7, "exclude")
    row = table[(table["section"] == "pair") & (table["question"] == "ER")].iloc[0]
    assert row["kappa_quadratic"] == pytest.approx(hand_kappa(ER["ann"], ER["bob"], [0, 1, 2], True))
    assert len(agreement_rows(result)) == len(table)
    console = markdown_table(result)
    assert "| ER | 10 | 10 | 0.70 |" in console and "| MITI_CCT | 10 | 7 |" in console
    assert console.startswith("N/A convention: exclude")


def test_plain_csv_with_aliases_and_na_spellings(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("item,rater,question,value\nx,a,er,2\nx,b,ER,2.0\nx,a,miti_sst,N/A\nx,b,MITI_SST,n/a\n"
                    "x,a,ai_guess,AI\n")
    frame = read_ratings_csv(path)
    assert list(frame["value"]) == ["2", "2", "NA", "NA", "ai"]
    assert list(frame["question"]) == ["ER", "ER", "MITI_SST", "MITI_SST", "AI_GUESS"]


@pytest.mark.parametrize(("body", "message", "line"), [
    ("item,rater,question,value\nx,a,ER,3\n", "'3' is not an answer to ER", 2),
    ("item,rater,question,value\nx,a,ER,1\nx,a,EMPATHY,1\n", "unknown question 'EMPATHY'", 3),
    ("item,rater,question,value\nx,a,ER,1\ny,a,ER,1\nx,a,ER,2\n", "twice", 2),
    ("item,rater,question,value\nx,a,MITI_PARTNERSHIP,NA\n", "not an answer to MITI_PARTNERSHIP", 2),
    ("item,rater,question,value\n,a,ER,1\n", "empty item or rater", 2),
])
def test_bad_csv_names_file_and_line(tmp_path: Path, body: str, message: str, line: int) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(CarelensError, match=message) as info:
        read_ratings_csv(path)
    assert info.value.where == f"{path}:{line}"


def test_csv_without_needed_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("item,who,question,value\nx,a,ER,1\n")
    with pytest.raises(CarelensError, match="lack columns"):
        read_ratings_csv(path)


# --- N/A convention ------------------------------------------------------------------------------

def test_na_as_its_own_category_counts_every_pair() -> None:
    result = compute_agreement(fixture_frame(), None, resamples=50, seed=1, na="category")
    assert result["na_convention"] == "category"
    cct = result["questions"]["MITI_CCT"]
    pair = cct["pairs"][0]
    assert (pair["n"], cct["n_rated_pairs"], pair["both_na"], pair["one_na"]) == (10, 10, 1, 2)
    labels = ["1", "2", "3", "4", "5", "NA"]
    same = [a == b for a, b in zip(CCT["ann"], CCT["bob"], strict=True)]
    assert pair["exact"] == pytest.approx(np.mean(same))
    assert pair["kappa"] == pytest.approx(cohen_kappa_score(CCT["ann"], CCT["bob"], labels=labels))
    assert pair["kappa_quadratic"] is None  # N/A has no place on the 1-5 scale
    coded = np.array([[labels.index(v) for v in CCT[r]] for r in ("ann", "bob")], dtype=float)
    expected = krippendorff.alpha(reliability_data=coded, level_of_measurement="nominal",
                                  value_domain=list(range(len(labels))))
    assert cct["alpha"] == pytest.approx(expected) and pair["alpha"] == pytest.approx(expected)
    # a question without N/A is the same under both conventions
    excluded = compute_agreement(fixture_frame(), None, resamples=50, seed=1)
    assert result["questions"]["ER"]["pairs"] == excluded["questions"]["ER"]["pairs"]
    assert excluded["questions"]["MITI_CCT"]["n_rated_pairs"] == 7
    assert "N/A convention: category" in markdown_table(result)
    assert "| MITI_CCT | 10 | 10 |" in markdown_table(result)


def test_excluded_na_pairs_match_sklearn_on_the_scored_pairs(result: dict) -> None:
    pair = result["questions"]["MITI_CCT"]["pairs"][0]
    kept = [(a, b) for a, b in zip(CCT["ann"], CCT["bob"], strict=True) if "NA" not in (a, b)]
    a, b = [x for x, _ in kept], [y for _, y in kept]
    assert pair["n"] == len(kept) == 7
    assert pair["kappa"] == pytest.approx(cohen_kappa_score(a, b, labels=["1", "2", "3", "4", "5"]))
    assert pair["kappa_quadratic"] == pytest.approx(
        cohen_kappa_score(a, b, labels=["1", "2", "3", "4", "5"], weights="quadratic"))


def test_an_unknown_na_convention_is_an_error() -> None:
    with pytest.raises(CarelensError, match="unknown N/A convention 'drop'"):
        compute_agreement(fixture_frame(), None, na="drop")


# --- AI share ------------------------------------------------------------------------------------

SHARE = {"ann": "40", "bob": "75%"}


def with_shares(frame: pd.DataFrame) -> pd.DataFrame:
    rows = pd.DataFrame([{"item_id": "round-x", "rater_id": r, "question": "AI_SHARE", "value": v}
                         for r, v in SHARE.items()])
    return normalise(pd.concat([frame, rows], ignore_index=True), "fixture")


def test_each_raters_ai_share_beside_the_true_share() -> None:
    result = compute_agreement(with_shares(fixture_frame()), None, resamples=20)
    true = 100 * SOURCE.count("ai") / len(SOURCE)
    for rater, estimate in (("ann", 40.0), ("bob", 75.0)):
        share = result["ai_share"][rater]
        assert share["estimate_pct"] == estimate and share["true_pct"] == pytest.approx(true)
        assert share["n_items"] == 10 and share["difference_pct"] == pytest.approx(estimate - true)
        assert share["per_item_guesses_pct"] == pytest.approx(100 * GUESS[rater].count("ai") / 10)
    assert result["n_items"] == 10 and "AI_SHARE" not in result["questions"]  # not an item
    table = agreement_rows(result)
    rows = table[table["section"] == "ai_share"].set_index("a")
    assert rows.loc["bob", "estimate_pct"] == 75.0 and rows.loc["bob", "true_pct"] == pytest.approx(true)
    assert "AI share, ann: estimate 40%, true 50% of 10 rated items" in markdown_table(result)


def test_ai_share_true_share_counts_only_the_items_the_rater_rated() -> None:
    frame = with_shares(fixture_frame())
    frame = frame[~((frame["rater_id"] == "bob") & frame["item_id"].isin(ITEMS[:4]))]  # bob rated 6
    share = compute_agreement(frame, None, resamples=20)["ai_share"]["bob"]
    rated = SOURCE[4:]
    assert share["n_items"] == 6 and share["true_pct"] == pytest.approx(100 * rated.count("ai") / 6)


@pytest.mark.parametrize(("body", "message", "line"), [
    ("item,rater,question,value\nr,a,AI_SHARE,101\n", "a percentage 0-100", 2),
    ("item,rater,question,value\nr,a,AI_SHARE,lots\n", "a percentage 0-100", 2),
    ("item,rater,question,value\nr,a,AI_SHARE,10\ns,a,AI_SHARE,20\n", "once-per-rater question twice", 2),
])
def test_bad_ai_share_names_file_and_line(tmp_path: Path, body: str, message: str, line: int) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(CarelensError, match=message) as info:
        read_ratings_csv(path)
    assert info.value.where == f"{path}:{line}"
