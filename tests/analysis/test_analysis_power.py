"""Power: posts needed, minimal detectable effects, and the ``carelens plan`` command."""

import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower, TTestPower
from typer.testing import CliRunner

from carelens.analysis import groups
from carelens.analysis.commands import app, pilot_spread, plan_table
from carelens.analysis.power import detectable_effect, posts_needed
from carelens.analysis.results import analyse
from carelens.analysis.settings import AnalysisConfig
from carelens.analysis.synthetic import Synthetic, tables
from carelens.demographics.settings import DemographicsConfig
from carelens.errors import CarelensError
from carelens.store import RunDir


def test_posts_needed_matches_textbook_values() -> None:
    # Cohen (1988) / R pwr: pwr.t.test(d = 0.5, power = 0.8) -> n = 63.77 per group;
    # pwr.t.test(d = 0.5, power = 0.8, type = "paired") -> n = 33.37 pairs
    assert posts_needed(0.5, 0.8, 0.05, paired=False) == 64
    assert posts_needed(0.5, 0.8, 0.05, paired=True) == 34
    assert posts_needed(-0.5, 0.8, 0.05, paired=True) == 34
    with pytest.raises(ValueError):
        posts_needed(0.0, 0.8, 0.05, paired=True)


def test_detectable_effect_is_the_inverse_of_power() -> None:
    d = detectable_effect(40, 0.8, 0.05, paired=True)
    assert TTestPower().power(d, 40, 0.05) == pytest.approx(0.8, abs=1e-6)
    d = detectable_effect(30, 0.9, 0.01, paired=False, n_reference=60)
    assert TTestIndPower().power(d, 30, 0.01, ratio=2.0) == pytest.approx(0.9, abs=1e-6)
    assert math.isnan(detectable_effect(1, 0.8, 0.05, paired=True))


@pytest.mark.parametrize(("n", "alpha"), [(2, 0.0005), (2, 0.005), (3, 0.0005), (4, 0.0005), (5, 0.0001)])
def test_detectable_effect_holds_for_few_posts_at_a_corrected_alpha(n, alpha) -> None:
    # statsmodels' solver fails or returns a wrong effect here (n=2, alpha=.0005: 10.0, whose power is
    # .009); the effect found must have the asked-for power, by statsmodels' power where it is finite
    d = detectable_effect(n, 0.8, alpha, paired=True)
    expected = TTestPower().power(d, n, alpha)
    if math.isfinite(expected):
        assert expected == pytest.approx(0.8, abs=1e-6)
    critical = stats.t.isf(alpha / 2, n - 1)
    upper = stats.nct.sf(critical, n - 1, d * math.sqrt(n))  # the lower tail is negligible here
    assert upper == pytest.approx(0.8, abs=1e-6)
    d = detectable_effect(n, 0.8, alpha, paired=False, n_reference=n + 1)
    critical = stats.t.isf(alpha / 2, 2 * n - 1)
    upper = stats.nct.sf(critical, 2 * n - 1, d * math.sqrt(n * (n + 1) / (2 * n + 1)))
    assert upper == pytest.approx(0.8, abs=1e-6)


def test_plan_table_turns_a_percent_gap_into_posts() -> None:
    spread = pd.DataFrame([{"metric": "ER", "kind": "assumed", "paired": True, "ref_mean": 1.0, "sd": 0.5}])
    table = plan_table(spread, gap_pct=10, power=0.8, alpha=0.05, comparisons=1)
    # a 10% gap of a mean of 1.0 is 0.1; over an sd of 0.5 that is d_z = 0.2
    assert table.loc[0, "effect_size"] == pytest.approx(0.2)
    assert table.loc[0, "posts_needed"] == posts_needed(0.2, 0.8, 0.05, paired=True)
    corrected = plan_table(spread, gap_pct=10, power=0.8, alpha=0.05, comparisons=10)
    assert corrected.loc[0, "posts_needed"] == posts_needed(0.2, 0.8, 0.005, paired=True)
    with pytest.raises(CarelensError):
        plan_table(spread, gap_pct=0, power=0.8, alpha=0.05, comparisons=1)


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished, analysed synthetic run (counterfactual, 30 posts)."""
    spec = Synthetic(posts=30, groups=("black", "white"), gaps={"black": -0.2}, metrics=("ER",), seed=2)
    t = tables(spec)
    config = AnalysisConfig(bootstrap=0, mixed_model=False)
    demographics = DemographicsConfig(design="counterfactual", races=["black", "white"])
    data = groups.build(t["responses"], t["variants"], t["inferences"], t["scores"], demographics, config, 1)
    out, _ = analyse(data, config, 1, ["forum"], t["variants"], t["inferences"], t["scores"].iloc[:0])
    run = RunDir(tmp_path_factory.mktemp("pilot"))
    run.write_table("comparisons", out["comparisons"])
    return run.path


def test_pilot_spread_reads_the_sd_of_paired_differences(pilot: Path) -> None:
    spread = pilot_spread(pilot)
    row = spread[(spread["metric"] == "ER") & (spread["kind"] == "group_gap")].iloc[0]
    table = RunDir(pilot).read_table("comparisons")
    primary = table[(table["kind"] == "group_gap") & table["primary"].fillna(False).astype(bool)]
    assert bool(row["paired"]) is True
    assert row["sd"] == pytest.approx(math.sqrt((primary["unit_sd"] ** 2).mean()))
    assert row["posts"] == 30
    with pytest.raises(CarelensError, match="EX"):
        pilot_spread(pilot, ["EX"])


def test_plan_command_from_a_pilot_and_from_assumptions(
    pilot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    result = runner.invoke(app, ["--pilot", str(pilot), "--gap", "10"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "ER" in result.output and "posts" in result.output
    result = runner.invoke(
        app, ["--mean", "1", "--sd", "0.5", "--gap", "10", "--independent"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert f"{posts_needed(0.2, 0.8, 0.05, paired=False)} posts per group" in result.output
    missing = runner.invoke(app, ["--gap", "10"])
    assert isinstance(missing.exception, CarelensError)
    empty = runner.invoke(app, ["--pilot", str(tmp_path)])
    assert isinstance(empty.exception, CarelensError) and "analyze" in str(empty.exception)
