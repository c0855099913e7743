"""Benchmark: the whole analysis (descriptives, every test, the post bootstrap, permutation tests, the
mixed models, corrections, power and guidelines) of 100,000 synthetic scores with the default settings.

A counterfactual design: 1,000 posts x (original + 4 cued variants) x 2 prompt conditions x 2 samples
= 20,000 replies, 5 metrics each (plus their refused/filtered/error rates). Prints the seconds taken
as its last line (goal: under 60 s on 2 cores).
"""

import time

from carelens.analysis.findings import analyse

from carelens.analysis import groups
from carelens.analysis.settings import AnalysisConfig
from carelens.analysis.synthetic import Synthetic, tables
from carelens.demographics.settings import DemographicsConfig

SPEC = Synthetic(
    design="counterfactual",
    posts=1000,
    groups=("black/female", "black/male", "white/female", "white/male"),
    gaps={"black/female": -0.1, "black/male": -0.05},
    conditions=("mental_health_forum", "clinician"),
    condition_gaps={"clinician": 0.1},
    samples=2,
    metrics=("ER", "IP", "EX", "words", "toxicity"),
    levels=2,
    seed=7,
)


def main() -> None:
    t = tables(SPEC)
    config = AnalysisConfig()
    demographics = DemographicsConfig(
        design="counterfactual", races=["black", "white"], genders=["female", "male"]
    )
    started = time.perf_counter()
    data = groups.build(t["responses"], t["variants"], t["inferences"], t["scores"], demographics, config, 13)
    findings = analyse(
        data, config, 13, list(SPEC.conditions), t["variants"], t["inferences"], t["scores"].iloc[:0]
    )
    seconds = time.perf_counter() - started
    kinds = findings["kind"].value_counts().to_dict()
    print(
        f"scores: {len(data.observations)} (+{len(t['responses'])} status outcomes); findings rows: {kinds}"
    )
    print(f"bootstrap resamples: {config.bootstrap}; permutation resamples: {config.permutations}")
    print(f"analysis of {len(t['scores'])} scores: {seconds:.1f} s")


if __name__ == "__main__":
    main()
