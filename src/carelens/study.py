"""Runs the stages of a study over its run directory, skipping those whose inputs are unchanged.

Each stage is a function ``fn(ctx) -> {table name: frame}``. It reads earlier tables through
``ctx.table(name)`` and returns its own; the runner writes them atomically and records the stage's
fingerprint (its config sections, its input tables' hashes and the carelens version) in the manifest.
A stage whose fingerprint and outputs are unchanged is skipped.
"""

import hashlib
import importlib
import json
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from carelens import __version__
from carelens.config import LoadedStudy, Study
from carelens.errors import CarelensError
from carelens.progress import console
from carelens.store import RunDir, frame_hash, now


@dataclass
class StageContext:
    """What a stage sees: the study, the run directory, and a place for manifest notes."""

    loaded: LoadedStudy
    run: RunDir
    notes: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None

    def fail(self, message: str) -> None:
        """Mark the stage failed: its tables are still written, then the run stops with ``message``."""
        self.failure = message

    @property
    def study(self) -> Study:
        return self.loaded.study

    def table(self, name: str) -> pd.DataFrame:
        return self.run.read_table(name)


@dataclass(frozen=True)
class Stage:
    """A stage: its name, the config sections and tables it reads, the tables it writes."""

    name: str
    target: str  # "module:function"
    sections: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    artefacts: tuple[str, ...] = ()

    def function(self) -> Callable[[StageContext], dict[str, pd.DataFrame]]:
        module, func = self.target.split(":")
        return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


STAGES: tuple[Stage, ...] = (
    Stage(
        "data",
        "carelens.datasets.stage:collect",
        ("data",),
        (),
        ("posts", "collected_variants", "collected_responses"),
    ),
    Stage(
        "variants",
        "carelens.demographics.stage:build_variants",
        ("demographics", "study"),
        ("posts", "collected_variants"),
        ("variants",),
    ),
    Stage(
        "probe",
        "carelens.demographics.stage:run_probe",
        ("demographics", "study"),
        ("variants",),
        ("inferences",),
    ),
    Stage(
        "generate",
        "carelens.generation.stage:generate",
        ("generation", "study"),
        ("variants", "collected_responses"),
        ("responses",),
    ),
    Stage(
        "score", "carelens.scoring.stage:score", ("scoring",), ("posts", "variants", "responses"), ("scores",)
    ),
    Stage(
        "analyze",
        "carelens.analysis.stage:analyze",
        ("analysis", "demographics"),
        ("posts", "variants", "inferences", "responses", "scores"),
        ("assignments", "descriptives", "comparisons", "models", "verdicts", "crisis", "manipulation"),
    ),
    Stage(
        "report",
        "carelens.report.stage:report",
        ("report", "analysis"),
        (
            "posts", "variants", "inferences", "responses", "scores", "assignments", "descriptives",
            "comparisons", "models", "verdicts", "crisis", "manipulation",
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


def _fingerprint(loaded: LoadedStudy, stage: Stage, input_hashes: dict[str, str]) -> str:
    sections = {s: loaded.study.model_dump(mode="json")[s] for s in stage.sections}
    payload = json.dumps(
        {"sections": sections, "inputs": input_hashes, "version": __version__}, sort_keys=True
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


def _start_manifest(loaded: LoadedStudy, run: RunDir) -> dict[str, Any]:
    manifest = run.manifest()
    manifest.update(
        {
            "study": {"name": loaded.study.study.name, "file": str(loaded.path), "sha256": loaded.sha256},
            "versions": _versions(),
            "git_commit": _git_commit(),
            "started": now(),
        }
    )
    manifest.setdefault("stages", {})
    return manifest


def run_study(loaded: LoadedStudy, until: str | None = None, force: bool = False) -> RunDir:
    """Run every stage up to ``until`` (all when None), skipping those that are up to date."""
    last = STAGE_NAMES.index(until) if until else len(STAGES) - 1
    run = RunDir(loaded.output_dir)
    manifest = _start_manifest(loaded, run)
    hashes: dict[str, str] = {}
    for name, entry in manifest["stages"].items():
        hashes.update(entry.get("table_hashes", {}))
        del name
    for stage in STAGES[: last + 1]:
        input_hashes = {t: hashes.get(t, "") for t in stage.inputs}
        fingerprint = _fingerprint(loaded, stage, input_hashes)
        previous = manifest["stages"].get(stage.name, {})
        outputs_present = all(run.has_table(t) for t in stage.outputs) and all(
            (run.path / a).exists() for a in stage.artefacts
        )
        if (
            not force
            and previous.get("fingerprint") == fingerprint
            and outputs_present
            and previous.get("status") in ("done", "skipped")
        ):
            previous["status"] = "skipped"
            previous["skipped_at"] = now()
            console.print(f"[dim]stage {stage.name}: up to date, skipped[/dim]")
            continue
        console.print(f"[bold cyan]stage {stage.name}[/bold cyan]")
        ctx = StageContext(loaded, run)
        started, clock = now(), time.perf_counter()
        tables = stage.function()(ctx)
        unknown = set(tables) - set(stage.outputs)
        if unknown or set(stage.outputs) - set(tables):
            raise RuntimeError(f"stage {stage.name} returned {sorted(tables)}, expected {stage.outputs}")
        table_hashes = {name: run.write_table(name, frame) for name, frame in tables.items()}
        hashes.update(table_hashes)
        manifest["stages"][stage.name] = {
            "status": "done",
            "fingerprint": fingerprint,
            "started": started,
            "ended": now(),
            "seconds": round(time.perf_counter() - clock, 3),
            "rows": {name: len(frame) for name, frame in tables.items()},
            "table_hashes": table_hashes,
            "notes": ctx.notes,
        }
        run.write_manifest(manifest)
        run.path.joinpath("study.toml").write_text(loaded.text, encoding="utf-8")
    manifest["ended"] = now()
    run.write_manifest(manifest)
    return run


__all__ = ["STAGES", "STAGE_NAMES", "Stage", "StageContext", "frame_hash", "run_study", "stage_by_name"]
