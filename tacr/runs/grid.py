"""Grids of configurations x seeds on any executor, read from and written to the run cache.

:func:`run_grid` trains every (config, seed) not yet in the :class:`~tacr.runs.cache.RunCache`
and returns one tidy DataFrame: a row per epoch, the run's metrics (:func:`tacr.train.run`)
beside a column per config field (metric names never shadow config fields: checked on write).

Where runs execute:

* ``workers=1`` — in this process, one after another;
* ``workers=k`` or ``"auto"`` — a local pool of k processes (spawned; each receives the data
  once and dies with its parent). On a CUDA machine the processes share the GPU(s): worker i
  uses GPU ``i % device_count``;
* ``executor=`` any :class:`concurrent.futures.Executor`, e.g. Dask's
  ``Client.get_executor()`` or a submitit executor (``docs/gpu-and-clusters.md``): each job
  carries a :class:`DataRef`, a recipe to reload the dataset (``tacr.data.load`` name and
  parameters) or, for data built in memory, the data itself; the worker checks the data's
  fingerprint before training. Workers must see the cache folder (a shared file system).

Each run fixes its own torch thread count (``TrainConfig.threads``), so the same config gives
the same numbers on every path.
"""
from __future__ import annotations

import functools
import json
import os
import sys
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ..batch import DeviceData, resolve_device
from ..data.schema import CTRData
from ..train import TrainConfig, run
from .cache import RunCache, run_key


def run_grid(configs, seeds, data: CTRData, cache=None, *, workers: int | str = 1, executor: Executor | None = None,
             progress: bool = True, quiet: bool | None = None) -> pd.DataFrame:
    """Every config x seed; cached runs are read, missing ones trained and cached.

    Args:
        configs: :class:`TrainConfig` objects (their ``seed`` is replaced by each seed).
        seeds: the seeds.
        data: the dataset.
        cache: a :class:`RunCache` or its folder (default ``$TACR_CACHE`` or ``.cache/runs``).
        workers: processes of a local pool (``"auto"``: CPU cores // threads per run, or two per
            GPU); ignored when ``executor`` is given.
        executor: any ``concurrent.futures.Executor`` to run the missing runs on.
    Returns:
        One row per epoch of every run, in the order of ``configs`` x ``seeds``.
    """
    from tqdm.auto import tqdm

    if not len(seeds):
        raise ValueError("run_grid: no seeds given")
    cache = cache if isinstance(cache, RunCache) else RunCache(cache)
    cache.remove_orphans()
    fingerprint = data.fingerprint()
    jobs = [replace(c, seed=int(s)) for c in configs for s in seeds]
    keys = [run_key(cfg, fingerprint) for cfg in jobs]
    missing = {k: cfg for cfg, k in zip(jobs, keys) if not cache.has(k)}
    bar = tqdm(total=len(jobs), desc="runs", disable=not progress, leave=True)
    bar.update(len(jobs) - len(missing))
    n_workers = 1 if executor is not None else n_pool_workers(workers, list(missing.values()))
    if missing and executor is not None:
        ref = DataRef.of(data)
        _drain({executor.submit(train_and_cache, cfg, k, str(cache.folder), ref): cfg for k, cfg in missing.items()}, bar)
    elif missing and n_workers > 1:
        _train_in_pool(missing, data, cache, n_workers, bar)
    else:
        device_data: dict = {}
        for k, cfg in missing.items():
            bar.set_postfix_str(f"{cfg.model}+{cfg.sampler} seed {cfg.seed}")
            train_into(cache, cfg, k, data, device_data, quiet)
            bar.update(1)
    bar.close()
    return pd.concat([cache.read(k) for k in keys], ignore_index=True)


def train_into(cache: RunCache, cfg: TrainConfig, key: str, data: CTRData, device_data: dict, quiet=None) -> str:
    """Train one run and store it under ``key``; ``device_data`` (device -> :class:`DeviceData`)
    lets the runs of one process share the data already on the device."""
    dev = resolve_device(cfg.device)
    if dev not in device_data:
        device_data[dev] = DeviceData(data, dev)
    df, parts = run(cfg, data, quiet=quiet, device_data=device_data[dev], return_models=True)
    state = {k: v.cpu() for k, v in (parts["best_valid_state"] or parts["D"].state_dict()).items()}
    config = cfg.key_fields()
    clash = sorted(set(config) & set(df.columns))
    if clash:
        raise RuntimeError(f"run metrics {clash} shadow config fields of the same name; rename the metrics")
    for name, value in config.items():
        df[name] = value
    df["run_key"] = key
    df["dataset"] = data.name
    cache.write(key, df, state)
    return key


def _drain(futures: dict, bar) -> None:
    try:
        for fut in as_completed(futures):
            fut.result()
            cfg = futures[fut]
            bar.set_postfix_str(f"done {cfg.model}+{cfg.sampler} seed {cfg.seed}")
            bar.update(1)
    except BaseException:
        for f in futures:
            f.cancel()
        raise


def n_pool_workers(workers, missing) -> int:
    """How many pool processes train ``missing`` (a list of configs)."""
    if not missing or workers in (1, "1"):
        return 1
    if workers == "auto":
        devices = {resolve_device(cfg.device).type for cfg in missing}
        if devices == {"cpu"}:
            threads = max(cfg.threads for cfg in missing)
            workers = max(1, (os.cpu_count() or 1) // threads)
        else:
            workers = 2 * cuda_count()  # two processes per GPU keep a small model's GPU busy
    return max(1, min(int(workers), len(missing)))


def cuda_count() -> int:
    import torch

    return max(torch.cuda.device_count(), 1) if torch.cuda.is_available() else 1


# ------------------------------------------------------------------------------- remote jobs
@dataclass
class DataRef:
    """How a worker gets the dataset: a ``tacr.data.load`` recipe when the data came from one
    unchanged (cheap to send; the worker loads it once, :func:`load_recipe`), else the data itself."""

    fingerprint: str
    recipe: dict | None = None
    data: CTRData | None = None

    @classmethod
    def of(cls, data: CTRData) -> "DataRef":
        recipe = getattr(data, "recipe", None)
        return cls(data.fingerprint(), recipe=recipe, data=None if recipe else data)

    def load(self) -> CTRData:
        if self.data is not None:
            return self.data
        data = load_recipe(json.dumps(self.recipe, sort_keys=True, default=str))
        if data.fingerprint() != self.fingerprint:
            raise RuntimeError(f"worker loaded {self.recipe} with fingerprint {data.fingerprint()}, expected "
                               f"{self.fingerprint}: the data changed on disk or differs between machines")
        return data


@functools.lru_cache(maxsize=1)
def load_recipe(recipe: str) -> CTRData:
    """A worker's dataset from its recipe (JSON text); the last one is kept (``load_recipe.cache_clear()``)."""
    from ..data import load

    spec = json.loads(recipe)
    return load(spec["name"], **spec["params"])


class Worker:
    """What one worker process keeps between jobs: its dataset and that data on each device
    (one dataset at a time). The process's instance is :data:`WORKER`."""

    def __init__(self):
        self.data: CTRData | None = None
        self.fingerprint: str | None = None
        self.device_data: dict = {}

    def use(self, data: CTRData) -> None:
        if data.fingerprint() != self.fingerprint:
            self.data, self.fingerprint, self.device_data = data, data.fingerprint(), {}

    def train(self, cfg: TrainConfig, key: str, folder: str) -> str:
        return train_into(RunCache(folder), cfg, key, self.data, self.device_data, quiet=True)


WORKER = Worker()


def train_and_cache(cfg: TrainConfig, key: str, folder: str, ref: DataRef) -> str:
    """One run on a worker of any executor: load (kept per process), train, write the entry."""
    WORKER.use(ref.load())
    return WORKER.train(cfg, key, folder)


# ------------------------------------------------------------------------------- the local pool
def _init_pool_worker(data: CTRData, gpu_slots: list) -> None:
    """Pool initialiser: die with the parent (Linux), pin a GPU, keep the data."""
    die_with_parent()
    import multiprocessing as mp

    import torch

    ident = mp.current_process()._identity
    if gpu_slots and torch.cuda.is_available():
        torch.cuda.set_device(gpu_slots[(ident[0] - 1) % len(gpu_slots)] if ident else gpu_slots[0])
    WORKER.use(data)


def _pool_job(cfg: TrainConfig, key: str, folder: str) -> str:
    return WORKER.train(cfg, key, folder)


def die_with_parent() -> None:
    """Ask the kernel to send SIGTERM to this process when its parent dies (Linux prctl)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


GUARD_HINT = ("run_grid(workers > 1) starts worker processes that import your script again: put the script's "
              "top-level code under `if __name__ == \"__main__\":`, or use workers=1")


def check_main_guard() -> None:
    """Refuse a process pool started from a script's top level outside ``if __name__ ==
    "__main__":`` (each spawned worker would run the script again and the pool would hang)."""
    import ast
    import inspect

    main = sys.modules.get("__main__")
    if getattr(main, "__name__", "") == "__mp_main__":  # we are such a worker
        raise RuntimeError(GUARD_HINT)
    path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py"):
        return  # interactive, a notebook kernel, python -c
    for frame in inspect.stack(context=0):
        if frame.function == "<module>" and frame.frame.f_globals.get("__name__") == "__main__" and \
                os.path.abspath(frame.filename) == os.path.abspath(path):
            try:
                tree = ast.parse(Path(path).read_text())
            except (OSError, SyntaxError):
                return
            for node in ast.walk(tree):
                if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) and \
                        node.lineno <= frame.lineno <= (node.end_lineno or node.lineno):
                    return
            raise RuntimeError(GUARD_HINT)


def _train_in_pool(missing: dict, data: CTRData, cache: RunCache, n_workers: int, bar) -> None:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    check_main_guard()
    gpu = sorted({resolve_device(c.device).type for c in missing.values()} - {"cpu"})
    slots = list(range(cuda_count())) if gpu else []
    ctx = mp.get_context("spawn")
    try:
        with ProcessPoolExecutor(n_workers, mp_context=ctx, initializer=_init_pool_worker, initargs=(data, slots)) as pool:
            _drain({pool.submit(_pool_job, cfg, k, str(cache.folder)): cfg for k, cfg in missing.items()}, bar)
    except BrokenProcessPool as exc:
        raise RuntimeError("a run_grid worker process died. If this is a script, guard its top-level code with "
                           "`if __name__ == \"__main__\":`; otherwise the worker may have run out of memory") from exc
