"""The study file (TOML) as pydantic models. Every error names its key path and allowed values."""

import difflib
import hashlib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from carelens.analysis.settings import AnalysisConfig
from carelens.demographics.settings import DemographicsConfig
from carelens.errors import CarelensError
from carelens.execution.settings import ExecutionConfig
from carelens.generation.settings import GenerationConfig
from carelens.report.settings import ReportConfig
from carelens.scoring.settings import ScoringConfig
from carelens.settings_base import Section


class StudySection(Section):
    """Name, seed and where the run directory goes (relative to the study file's folder)."""

    name: str = Field(min_length=1)
    description: str = ""
    seed: int = 13
    output: str | None = None


class DataSource(Section):
    """One source of posts (and their collected replies): a named dataset or a user's file.

    For a file: ``columns`` maps carelens names to the file's columns, ``header`` names the fields
    instead of the file's header line (``header_line = false``: the file has none), ``scores`` maps
    metric names to columns of recorded scores (stored under ``scorer``), and ``set`` gives every row a
    constant field (a carelens name such as ``responder``, or an extra field kept in ``meta``).
    """

    dataset: str | None = None
    file: str | None = None
    kind: Literal["posts", "responses"] = "posts"
    columns: dict[str, str] = Field(default_factory=dict)
    header: list[str] | None = Field(default=None, min_length=1)
    header_line: bool = True
    scores: dict[str, str] = Field(default_factory=dict)
    scorer: str = Field(default="recorded", min_length=1)
    set: dict[str, str] = Field(default_factory=dict)
    posts: int | None = Field(default=None, ge=1)
    communities: list[str] | None = None
    stratify: Literal["community", "none"] = "community"
    replies_per_post: int | None = Field(default=None, ge=0)

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, name: str | None) -> str | None:
        from carelens.datasets.registry import DATASETS

        if name is not None and name not in DATASETS:
            raise ValueError(f"unknown dataset '{name}'; allowed: {', '.join(sorted(DATASETS))}")
        return name

    @model_validator(mode="after")
    def _one_origin(self) -> "DataSource":
        if (self.dataset is None) == (self.file is None):
            raise ValueError("give exactly one of 'dataset' (a registered name) or 'file' (a path to import)")
        if self.dataset is not None:
            given = [k for k in FILE_OPTIONS if k in self.model_fields_set]
            if given:
                raise ValueError(f"{', '.join(given)} apply to a 'file' source, not to a named dataset")
        return self


FILE_OPTIONS = ("columns", "header", "header_line", "scores", "scorer", "set")


class Study(Section):
    """A whole study file."""

    study: StudySection
    data: list[DataSource] = Field(min_length=1)
    demographics: DemographicsConfig = Field(default_factory=DemographicsConfig)
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)


class LoadedStudy:
    """A validated study with the file it came from."""

    def __init__(self, study: Study, path: Path, text: str, output: Path | None = None) -> None:
        self.study = study
        self.path = path
        self.text = text
        self.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._output = output

    @property
    def output_dir(self) -> Path:
        """The run directory: the override, ``[study].output`` or ``runs/<name>`` beside the study file."""
        if self._output is not None:
            return Path(os.path.abspath(self._output))
        return self.resolve(self.study.study.output or f"runs/{self.study.study.name}")

    def resolve(self, relative: str) -> Path:
        """A path from the study file, relative to the file's folder (symlinks are not followed)."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else Path(os.path.normpath(self.path.parent / path))


def _allowed_keys(annotation: Any, parts: tuple[Any, ...]) -> list[str]:
    """The keys allowed at the table that ``parts`` leads to from ``annotation``.

    Steps through models (a field name), lists (an index), dicts (a user's key) and optionals.
    """
    fields = getattr(annotation, "model_fields", None)
    if fields is not None:
        if not parts:
            return list(fields)
        field = fields.get(parts[0])
        return _allowed_keys(field.annotation, parts[1:]) if field is not None else []
    args: tuple[Any, ...] = tuple(getattr(annotation, "__args__", ()))
    origin = getattr(annotation, "__origin__", None)
    if origin in (list, dict) and parts:
        return _allowed_keys(args[-1], parts[1:])
    for arg in args:  # a union such as ``Model | None``
        found = _allowed_keys(arg, parts)
        if found:
            return found
    return []


def _format_error(error: Any) -> str:
    loc = tuple(error["loc"])
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(Study, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        message = f"unknown key{hint}; allowed keys: {', '.join(allowed)}"
    elif error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    elif error["type"] == "missing":
        message = "required key is missing"
    return f"{path or '<study>'}: {message}"


def parse_study(text: str, source: str) -> Study:
    """Parse and validate study-file text; ``source`` names the file in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CarelensError(f"not valid TOML: {exc}", where=source) from None
    try:
        return Study.model_validate(raw)
    except ValidationError as exc:
        problems = "\n  ".join(_format_error(e) for e in exc.errors())
        raise CarelensError(f"{exc.error_count()} problem(s):\n  {problems}", where=source) from None


def load_study(path: str | Path, output: Path | None = None) -> LoadedStudy:
    """Read, parse and validate a study file; ``output`` overrides its run directory."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CarelensError("study file not found", where=str(file)) from None
    except UnicodeDecodeError as exc:
        raise CarelensError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=str(file)) from None
    return LoadedStudy(parse_study(text, str(file)), Path(os.path.abspath(file)), text, output)
