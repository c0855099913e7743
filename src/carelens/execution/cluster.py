"""Connect to a Ray cluster, or start a local one for the length of a stage."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from carelens.errors import CarelensError
from carelens.execution.settings import ExecutionConfig

CONFIG_KEY = "execution.engine"


def import_ray() -> Any:
    """The ray module, or a clear error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise CarelensError("engine 'ray' needs Ray: pip install 'carelens[ray]'", where=CONFIG_KEY) from None
    return ray


def _runtime_env() -> dict[str, Any]:
    """What workers started here need to import the same carelens as the driver."""
    source = str(Path(__file__).resolve().parents[2])
    paths = [source, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
    for name in ("CARELENS_CACHE_DIR", "CARELENS_DATA_MIRROR", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return {"env_vars": env}


@contextmanager
def ray_cluster(config: ExecutionConfig) -> Iterator[Any]:
    """Ray, connected to ``config.address`` or to a local cluster started here (and stopped after).

    A cluster that is already connected in this process (e.g. a test's) is used as it is.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    if config.address:
        try:
            ray.init(address=config.address, logging_level="WARNING", log_to_driver=False)
        except (ConnectionError, RuntimeError) as exc:
            raise CarelensError(
                f"cannot reach the Ray cluster at {config.address}: {exc}", where="execution.address"
            ) from None
    else:
        ray.init(
            num_cpus=int(np.ceil(config.num_workers * config.num_cpus_per_worker)) + 1,
            object_store_memory=config.object_store_memory,
            include_dashboard=False,
            logging_level="WARNING",
            log_to_driver=False,
            runtime_env=_runtime_env(),
        )
    try:
        yield ray
    finally:
        ray.shutdown()
