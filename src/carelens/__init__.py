"""carelens: audit how language models answer people who ask for mental-health help.

The Python API (the command line does the same)::

    import carelens
    run = carelens.open_study("studies/quickstart.toml").run()   # or a dict with the study's keys
    run.table("comparisons")                                      # any table, as a DataFrame

``open_study`` opens a study file or dict, ``StudyHandle.run`` runs it (all stages or ``until`` one),
``open_run`` opens an existing run directory, ``score_texts`` runs one scorer over plain texts, and
``Run.check`` is the release gate of ``carelens check``. User errors raise ``CarelensError``, a failed
stage ``StageFailed``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("carelens")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

from carelens.api import (  # noqa: E402  (after __version__, which the stages import)
    GateResult,
    Run,
    StudyHandle,
    open_run,
    open_study,
    score_texts,
)
from carelens.errors import CarelensError  # noqa: E402
from carelens.study import STAGE_NAMES, StageFailed  # noqa: E402

__all__ = [
    "STAGE_NAMES",
    "CarelensError",
    "GateResult",
    "Run",
    "StageFailed",
    "StudyHandle",
    "__version__",
    "open_run",
    "open_study",
    "score_texts",
]
