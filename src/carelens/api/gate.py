"""The release gate: does a run's every safety guideline stay below a chosen verdict level?

Verdicts are ordered ``pass < warn < inconclusive < fail``: inconclusive (the study could not have
detected a breach of the threshold's size) ranks above warn (a significant difference smaller than
the threshold) because it may hide a fail. ``--fail-on LEVEL`` blocks a release when any verdict is
at or above LEVEL. ``not assessed`` (the study holds nothing the check can read) is outside the
order: it blocks only with ``require_assessed``, and it is always counted and listed, so a gate never
passes silently over what it did not check. A run in which no guideline was assessed never passes.
"""

from dataclasses import dataclass
from typing import Any

import pandas as pd

from carelens.errors import CarelensError
from carelens.store import RunDir
from carelens.tables import VERDICTS

PASS, WARN, INCONCLUSIVE, FAIL, NOT_ASSESSED = "pass", "warn", "inconclusive", "fail", "not assessed"
SEVERITY: tuple[str, ...] = (PASS, WARN, INCONCLUSIVE, FAIL)
"""The assessed verdicts from best to worst."""
FAIL_ON_LEVELS: tuple[str, ...] = (WARN, INCONCLUSIVE, FAIL)
"""The levels ``fail_on`` accepts."""
CURRENT = ("done", "skipped")


@dataclass(frozen=True)
class GateResult:
    """The gate's outcome on one run.

    ``verdicts`` is the verdicts table with a ``blocks`` column (the rows that fail the gate);
    ``counts`` has every verdict value (zero when absent); ``worst`` is the worst assessed verdict
    (``not assessed`` when none was assessed); ``exit_code`` is 0 when the gate passes, else 1.
    """

    run: str
    study: dict[str, Any]
    fail_on: str
    require_assessed: bool
    verdicts: pd.DataFrame
    counts: dict[str, int]
    worst: str
    passed: bool
    reason: str

    @property
    def exit_code(self) -> int:
        """0 when the gate passes, 1 when it blocks the release."""
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable summary ``carelens check --json`` writes."""
        rows = self.verdicts.astype(object).where(self.verdicts.notna(), None).to_dict(orient="records")
        return {
            "run": self.run,
            "study": self.study,
            "fail_on": self.fail_on,
            "require_assessed": self.require_assessed,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "worst": self.worst,
            "counts": self.counts,
            "verdicts": rows,
        }


def _current_verdicts(run: RunDir) -> pd.DataFrame:
    """The verdicts table, refusing one the analysis did not finish or that is out of date."""
    manifest = run.manifest()
    if not run.has_table("verdicts"):
        raise CarelensError(
            "run has no verdicts table: run the study's 'analyze' stage first", where=str(run.path)
        )
    status = manifest.get("stages", {}).get("analyze", {}).get("status")
    if status not in CURRENT:
        why = (
            "has no record of the analyze stage" if status is None else f"says the analyze stage is {status}"
        )
        raise CarelensError(
            f"the verdicts cannot be trusted: manifest.json {why}; re-run the study up to 'analyze'",
            where=str(run.path),
        )
    verdicts = run.read_table("verdicts")
    unknown = sorted(set(verdicts["verdict"].dropna()) - set(VERDICTS))
    if unknown or verdicts["verdict"].isna().any():
        raise CarelensError(
            f"unknown verdict value(s) {unknown or ['<missing>']}; allowed: {', '.join(VERDICTS)}",
            where=str(run.table_path("verdicts")),
        )
    return verdicts


def judge(
    verdicts: pd.DataFrame, fail_on: str = FAIL, require_assessed: bool = False
) -> tuple[pd.Series, str]:
    """Which verdict rows block the release at ``fail_on``, and the one-line reason of the outcome."""
    if fail_on not in FAIL_ON_LEVELS:
        raise CarelensError(f"--fail-on must be one of {', '.join(FAIL_ON_LEVELS)}, not '{fail_on}'")
    rank = verdicts["verdict"].map({v: i for i, v in enumerate(SEVERITY)})
    blocks = rank >= SEVERITY.index(fail_on)
    if require_assessed:
        blocks |= verdicts["verdict"] == NOT_ASSESSED
    blocks = blocks.fillna(False).astype(bool)
    assessed = int(rank.notna().sum())
    if blocks.any():
        level = f"at or above {fail_on}" + (", or not assessed" if require_assessed else "")
        return blocks, f"{int(blocks.sum())} of {len(verdicts)} verdict(s) block the release ({level})"
    if assessed == 0:
        return blocks, "no guideline was assessed: the gate cannot pass a release it could not check"
    return blocks, f"every assessed verdict is below {fail_on}"


def check_run(run: RunDir, fail_on: str = FAIL, require_assessed: bool = False) -> GateResult:
    """The gate on a run directory: a run without current verdicts is a ``CarelensError``."""
    verdicts = _current_verdicts(run)
    blocks, reason = judge(verdicts, fail_on, require_assessed)
    counts = {v: int((verdicts["verdict"] == v).sum()) for v in (*SEVERITY, NOT_ASSESSED)}
    worst = next((v for v in reversed(SEVERITY) if counts[v]), NOT_ASSESSED)
    passed = not blocks.any() and any(counts[v] for v in SEVERITY)
    study = run.manifest().get("study", {})
    return GateResult(
        run=str(run.path),
        study={"name": study.get("name"), "sha256": study.get("sha256"), "file": study.get("file")},
        fail_on=fail_on,
        require_assessed=require_assessed,
        verdicts=verdicts.assign(blocks=blocks.to_numpy()),
        counts=counts,
        worst=worst,
        passed=passed,
        reason=reason,
    )
