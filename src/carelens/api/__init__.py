"""The Python API: open a study from a file or a dict, run it, read a run's tables, score texts,
and check a run's verdicts against a release gate. Everything here is re-exported by ``carelens``."""

from carelens.api.gate import FAIL_ON_LEVELS, SEVERITY, GateResult
from carelens.api.runs import Run, open_run
from carelens.api.studies import StudyHandle, open_study
from carelens.api.texts import score_texts

__all__ = [
    "FAIL_ON_LEVELS",
    "SEVERITY",
    "GateResult",
    "Run",
    "StudyHandle",
    "open_run",
    "open_study",
    "score_texts",
]
