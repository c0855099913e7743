"""The [execution] section of the study file: where the heavy stages run."""

from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from carelens.settings_base import Section

if TYPE_CHECKING:
    from carelens.config import Study


class Engine(StrEnum):
    """The engines ``--engine`` accepts."""

    local = "local"
    ray = "ray"


class ExecutionConfig(Section):
    """Which engine runs the score stage (and, on Ray, with how many workers).

    - ``engine``: ``local`` (one process on this machine, the default) or ``ray`` (Ray Data on a
      cluster; needs the ``carelens[ray]`` extra). ``carelens run --engine`` overrides it.
    - ``address``: a running Ray cluster (``auto``, ``ray://head:10001`` ...); None starts a local
      cluster for the run and stops it afterwards.
    - ``num_workers``: scoring actors (each loads every scorer's model once);
      ``num_cpus_per_worker``: CPUs Ray reserves for each; ``batch_size``: replies per batch.
    - ``object_store_memory``: bytes of shared memory for a local cluster (None: Ray's default).

    The engine does not change any table, so switching it does not re-run a stage.
    """

    engine: Literal["local", "ray"] = "local"
    address: str | None = None
    num_workers: int = Field(default=2, ge=1)
    num_cpus_per_worker: float = Field(default=1.0, gt=0)
    batch_size: int = Field(default=1024, ge=1)
    object_store_memory: int | None = Field(default=None, ge=78_643_200)


def with_engine(study: "Study", engine: str) -> "Study":
    """The study with ``[execution].engine`` replaced (the CLI's ``--engine``)."""
    execution = study.execution.model_copy(update={"engine": engine})
    return study.model_copy(update={"execution": execution})
