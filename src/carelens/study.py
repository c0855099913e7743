"""Runs the stages of a study over its run directory, skipping those whose inputs are unchanged.

Each stage is a function ``fn(ctx) -> {table name: frame}``. It reads earlier tables through
``ctx.table(name)`` and the study through ``ctx.study``, and returns its own tables; the runner writes
them atomically. What a stage read is recorded as it reads it: the study's sections (``[study]`` key by
key), its input tables, the files it opened through ``ctx.input_file``. Its fingerprint hashes the
values it read, those tables' and files' contents, and the installed carelens code, so a stage is
skipped only when nothing it read has changed, and a re-run equals a fresh run.
"""

import hashlib
import importlib
import json
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from carelens import __version__
from carelens.config import LoadedStudy, Study
from carelens.errors import CarelensError
from carelens.progress import console
from carelens.store import RunDir, Table, frame_hash, now

WHOLE_STUDY = "*"
CODE_SUFFIXES = {".py", ".toml", ".json", ".csv", ".j2", ".html", ".css", ".js", ".npz", ".md"}


class StageFailed(Exception):
    """A stage ran to its end but failed (e.g. too many request errors); its tables were written."""


class _SectionView:
    """The [study] section, read key by key: each key read is recorded."""

    def __init__(self, section: Any, prefix: str, reads: set[str]) -> None:
        self._section, self._prefix, self._reads = section, prefix, reads

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._section, name)
        self._reads.add(
            f"{self._prefix}.{name}" if name in type(self._section).model_fields else self._prefix
        )
        return value


class StudyView:
    """The study as a stage sees it: every section it reads is recorded for its fingerprint."""

    def __init__(self, study: Study, reads: set[str]) -> None:
        self._study, self._reads = study, reads

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._study, name)
        if name == "study":
            return _SectionView(value, "study", self._reads)
        self._reads.add(name if name in Study.model_fields else WHOLE_STUDY)
        return value


class LoadedView:
    """The loaded study file as a stage sees it: its text or whole model count as reading everything."""

    def __init__(self, loaded: LoadedStudy, reads: set[str]) -> None:
        self._loaded, self._reads = loaded, reads

    def resolve(self, relative: str) -> Path:
        return self._loaded.resolve(relative)

    @property
    def text(self) -> str:
        self._reads.add(WHOLE_STUDY)
        return self._loaded.text

    @property
    def study(self) -> Study:
        self._reads.add(WHOLE_STUDY)
        return self._loaded.study


@dataclass
class StageContext:
    """What a stage sees: the study (recorded as it is read), the run directory, manifest notes."""

    source: LoadedStudy
    run: RunDir
    notes: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None
    reads: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)

    def fail(self, message: str) -> None:
        """Mark the stage failed: its tables are still written, then the run stops with ``message``."""
        self.failure = message

    @property
    def study(self) -> Any:
        """The study (a ``Study``); what the stage reads of it is recorded."""
        return StudyView(self.source.study, self.reads)

    @property
    def loaded(self) -> LoadedView:
        return LoadedView(self.source, self.reads)

    def input_file(self, relative: str) -> Path:
        """A file the stage reads, resolved from the study file's folder; its content enters the
        stage's fingerprint."""
        path = self.source.resolve(relative)
        self.files.add(str(path))
        return path

    def depends_on(self, path: Path) -> None:
        """Record a file (e.g. a trained model's card) whose content the stage's output depends on."""
        self.files.add(str(path))

    def table(self, name: str) -> pd.DataFrame:
        return self.run.read_table(name)


@dataclass(frozen=True)
class Stage:
    """A stage: its name, the tables it reads, the tables (and other files) it writes."""

    name: str
    target: str  # "module:function"
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    artefacts: tuple[str, ...] = ()

    def function(self) -> Callable[[StageContext], dict[str, Table]]:
        module, func = self.target.split(":")
        return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


STAGES: tuple[Stage, ...] = (
    Stage(
        "data",
        "carelens.datasets.stage:collect",
        (),
        ("posts", "collected_variants", "collected_responses", "collected_scores"),
    ),
    Stage(
        "variants",
        "carelens.demographics.stage:build_variants",
        ("posts", "collected_variants"),
        ("variants",),
    ),
    Stage(
        "probe",
        "carelens.demographics.stage:run_probe",
        ("variants",),
        ("inferences",),
    ),
    Stage(
        "generate",
        "carelens.generation.stage:generate",
        ("variants", "collected_responses"),
        ("responses",),
    ),
    Stage("score", "carelens.scoring.stage:score", ("posts", "variants", "responses"), ("scores",)),
    Stage(
        "analyze",
        "carelens.analysis.stage:analyze",
        ("posts", "variants", "inferences", "responses", "scores"),
        ("assignments", "descriptives", "comparisons", "models", "verdicts", "crisis", "manipulation"),
    ),
    Stage(
        "report",
        "carelens.report.stage:report",
        (
            "posts",
            "variants",
            "responses",
            "scores",
            "assignments",
            "descriptives",
            "comparisons",
            "models",
            "verdicts",
            "crisis",
            "manipulation",
        ),
        (),
        ("report.html",),
    ),
)
STAGE_NAMES = tuple(s.name for s in STAGES)


def stage_by_name(name: str) -> Stage:
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise CarelensError(f"unknown stage '{name}'; allowed: {', '.join(STAGE_NAMES)}")


def _read_value(dumped: dict[str, Any], path: str) -> Any:
    """The value a recorded read (``section``, ``study.key`` or the whole study) has in ``dumped``."""
    if path == WHOLE_STUDY:
        return dumped
    section, _, key = path.partition(".")
    return dumped[section][key] if key else dumped[section]


def _file_hash(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


@cache
def code_hash() -> str:
    """A hash of the installed carelens package's files: any change of the code re-runs every stage."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(
        p for p in root.rglob("*") if p.suffix in CODE_SUFFIXES and "__pycache__" not in p.parts
    ):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _fingerprint(study: Study, reads: list[str], input_hashes: dict[str, str], files: list[str]) -> str:
    dumped = study.model_dump(mode="json")
    payload = json.dumps(
        {
            "reads": {path: _read_value(dumped, path) for path in sorted(reads)},
            "inputs": input_hashes,
            "files": {path: _file_hash(path) for path in sorted(files)},
            "code": code_hash(),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=str(__import__("carelens").__path__[0]),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


DEPENDENCIES = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "scikit-learn",
    "torch",
    "openai",
    "llama-cpp-python",
    "pydantic",
    "pyarrow",
)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "carelens": __version__}
    for dist in DEPENDENCIES:
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return found


def _start_manifest(loaded: LoadedStudy, run: RunDir, force: bool) -> dict[str, Any]:
    """The run's manifest, refusing a run directory that belongs to another study (unless forced,
    which empties it); a stage left running by a killed run is marked interrupted."""
    manifest = run.manifest()
    owner = manifest.get("study", {}).get("name")
    if owner is not None and owner != loaded.study.study.name:
        if not force:
            raise CarelensError(
                f"this run directory belongs to study '{owner}', not '{loaded.study.study.name}': "
                "choose another output (--output) or pass --force to empty it and start clean",
                where=str(run.path),
            )
        _empty(run)
        manifest = {"stages": {}}
    for entry in manifest.get("stages", {}).values():
        if entry.get("status") == "running":
            entry["status"] = "interrupted"
    manifest.update(
        {
            "study": {"name": loaded.study.study.name, "file": str(loaded.path), "sha256": loaded.sha256},
            "versions": _versions(),
            "git_commit": _git_commit(),
            "code_sha256": code_hash(),
            "started": now(),
            "state": "running",
        }
    )
    manifest.setdefault("stages", {})
    return manifest


def _empty(run: RunDir) -> None:
    """Remove what earlier runs wrote into a run directory (tables, report, figures, manifest)."""
    for name in ("tables", "figures", "review"):
        shutil.rmtree(run.path / name, ignore_errors=True)
    for path in run.path.glob("*"):
        if path.is_file():
            path.unlink()


def _up_to_date(
    stage: Stage, loaded: LoadedStudy, run: RunDir, previous: dict[str, Any], input_hashes: dict[str, str]
) -> bool:
    if previous.get("status") not in ("done", "skipped") or "reads" not in previous:
        return False
    outputs = all(run.has_table(t) for t in stage.outputs) and all(
        (run.path / a).exists() for a in stage.artefacts
    )
    fingerprint = _fingerprint(loaded.study, previous["reads"], input_hashes, previous.get("files", []))
    return outputs and previous.get("fingerprint") == fingerprint


def run_study(loaded: LoadedStudy, until: str | None = None, force: bool = False) -> RunDir:
    """Run every stage up to ``until`` (all when None), skipping those that are up to date.

    A stage that fails (``ctx.fail``) still writes its tables, is marked failed in the manifest, and
    stops the run with ``StageFailed``; a failed or interrupted stage always runs again.
    """
    last = STAGE_NAMES.index(until) if until else len(STAGES) - 1
    run = RunDir(loaded.output_dir)
    manifest = _start_manifest(loaded, run, force)
    hashes: dict[str, str] = {}
    for entry in manifest["stages"].values():
        hashes.update(entry.get("table_hashes", {}))
    try:
        for position, stage in enumerate(STAGES[: last + 1]):
            input_hashes = {t: hashes.get(t, "") for t in stage.inputs}
            previous = manifest["stages"].get(stage.name, {})
            if not force and _up_to_date(stage, loaded, run, previous, input_hashes):
                previous["status"] = "skipped"
                previous["skipped_at"] = now()
                console.print(f"stage {stage.name}: up to date, skipped", style="dim", markup=False)
                continue
            console.print(f"stage {stage.name}", style="bold cyan", markup=False)
            ctx = StageContext(loaded, run)
            manifest["stages"][stage.name] = {**previous, "status": "running", "started": now()}
            if run.manifest_path.exists():  # a new run directory is created only by a finished stage
                run.write_manifest(manifest)
            started, clock = now(), time.perf_counter()
            tables = stage.function()(ctx)
            unknown = set(tables) - set(stage.outputs)
            if unknown or set(stage.outputs) - set(tables):
                raise RuntimeError(f"stage {stage.name} returned {sorted(tables)}, expected {stage.outputs}")
            table_hashes = {name: run.write_table(name, frame) for name, frame in tables.items()}
            hashes.update(table_hashes)
            manifest["stages"][stage.name] = {
                "status": "failed" if ctx.failure else "done",
                "fingerprint": _fingerprint(loaded.study, sorted(ctx.reads), input_hashes, sorted(ctx.files)),
                "reads": sorted(ctx.reads),
                "files": sorted(ctx.files),
                "inputs": input_hashes,
                "started": started,
                "ended": now(),
                "seconds": round(time.perf_counter() - clock, 3),
                "rows": {name: len(frame) for name, frame in tables.items()},
                "table_hashes": table_hashes,
                "notes": ctx.notes,
            }
            if table_hashes != previous.get("table_hashes"):
                for later in STAGES[position + 1 :]:
                    if later.name in manifest["stages"]:
                        manifest["stages"][later.name]["status"] = "stale"
            if ctx.failure:
                manifest["stages"][stage.name]["failure"] = ctx.failure
                manifest["state"] = "failed"
                run.write_manifest(manifest)
                raise StageFailed(f"stage {stage.name} failed: {ctx.failure}")
            run.write_manifest(manifest)
            run.path.joinpath("study.toml").write_text(loaded.text, encoding="utf-8")
    except (KeyboardInterrupt, Exception) as exc:
        if not isinstance(exc, StageFailed):
            for entry in manifest["stages"].values():
                if entry.get("status") == "running":
                    entry["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            manifest["state"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            if run.manifest_path.exists():
                run.write_manifest(manifest)
        raise
    manifest["ended"] = now()
    manifest["state"] = "complete" if until is None else f"complete up to {until}"
    run.write_manifest(manifest)
    return run


__all__ = [
    "STAGES",
    "STAGE_NAMES",
    "Stage",
    "StageContext",
    "StageFailed",
    "frame_hash",
    "run_study",
    "stage_by_name",
]
