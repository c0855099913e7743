"""Open a study from a TOML file or a dict and run it, as ``carelens run`` does."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from carelens.api.runs import Run
from carelens.config import LoadedStudy, Study, load_study, parse_study
from carelens.errors import CarelensError
from carelens.study import STAGE_NAMES, run_study

DICT_SOURCE = "<dict study>"


def _no_nulls(value: Any, path: str) -> None:
    """TOML has no null: a None in a dict study is an error naming its key (leave the key out)."""
    if value is None:
        raise CarelensError(
            "None cannot be written to a study file; leave the key out for its default",
            where=path or DICT_SOURCE,
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            _no_nulls(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _no_nulls(item, f"{path}[{index}]")


def study_text(study: Mapping[str, Any]) -> str:
    """The TOML text of a study given as a dict (the text a run directory keeps as study.toml)."""
    if not isinstance(study, Mapping):
        raise CarelensError(f"a study is a file path or a dict, not {type(study).__name__}")
    _no_nulls(study, "")
    try:
        return tomli_w.dumps(dict(study))
    except TypeError as exc:
        raise CarelensError(f"cannot be written as TOML: {exc}", where=DICT_SOURCE) from None


class StudyHandle:
    """A validated study, ready to run. Make one with :func:`open_study`.

    ``config`` is the validated study (its sections as pydantic models), ``text`` the TOML text a run
    directory keeps as ``study.toml``, ``path`` the file it came from (for a dict study, a name in the
    base folder that relative paths resolve from).
    """

    def __init__(self, loaded: LoadedStudy) -> None:
        self._loaded = loaded

    @property
    def name(self) -> str:
        """The study's name (``[study].name``)."""
        return self._loaded.study.study.name

    @property
    def config(self) -> Study:
        """The validated study: ``config.analysis.reference``, ``config.scoring.scorers`` ..."""
        return self._loaded.study

    @property
    def text(self) -> str:
        """The study's TOML text."""
        return self._loaded.text

    @property
    def path(self) -> Path:
        """The study file (relative paths in the study resolve from its folder)."""
        return self._loaded.path

    @property
    def output(self) -> Path:
        """The run directory a run writes to unless ``run(output=...)`` says otherwise."""
        return self._loaded.output_dir

    def run(self, until: str | None = None, force: bool = False, output: str | Path | None = None) -> Run:
        """Run the study's stages up to ``until`` (all when None) and return its run directory.

        Stages whose inputs are unchanged are skipped, as on the command line; ``force`` re-runs them.
        ``output`` overrides the run directory. Raises ``CarelensError`` for a user error (bad study,
        missing data, a run directory that belongs to another study) and ``StageFailed`` when a stage
        fails (its tables are still written).
        """
        if until is not None and until not in STAGE_NAMES:
            raise CarelensError(f"unknown stage '{until}'; allowed: {', '.join(STAGE_NAMES)}")
        loaded = self._loaded
        if output is not None:
            loaded = LoadedStudy(loaded.study, loaded.path, loaded.text, Path(output))
        return Run(run_study(loaded, until=until, force=force).path)

    def __repr__(self) -> str:
        return f"StudyHandle(name={self.name!r}, output={str(self.output)!r})"


def open_study(
    study: str | os.PathLike[str] | Mapping[str, Any], base: str | os.PathLike[str] = "."
) -> StudyHandle:
    """Open a study from a TOML file or a dict with the same keys, and validate it.

    A dict study's relative paths (``[[data]].file``, ``[study].output`` ...) resolve from ``base``
    (the current directory by default), and its run directory is ``runs/<name>`` there unless it sets
    ``study.output``. Every problem is a ``CarelensError`` naming the key path and the allowed values,
    as ``carelens validate`` prints them.

    >>> study = open_study({"study": {"name": "demo"}, "data": [{"dataset": "mh-eval-gpt4"}]})
    """
    if isinstance(study, str | os.PathLike):
        return StudyHandle(load_study(Path(study)))
    text = study_text(study)
    config = parse_study(text, DICT_SOURCE)
    return StudyHandle(LoadedStudy(config, Path(os.path.abspath(base)) / DICT_SOURCE, text))
