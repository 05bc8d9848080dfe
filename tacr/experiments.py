"""Grids of configurations x seeds on any executor, and the on-disk cache of finished runs.

:func:`run_grid` trains every (config, seed) not yet in the cache and returns one tidy
DataFrame: a row per epoch, the run's metrics (:func:`tacr.train.run`) beside a column per
config field. Metric names never shadow config fields (checked when a run is stored).

The cache: each finished run is ``<cache>/<key>.parquet`` (its per-epoch rows) and
``<key>.pt`` (D's weights at the epoch of best validation AUC, from which :func:`load_scores`
scores any split later without retraining), each written to a temporary file and renamed, so
whichever process finishes a run writes it once and atomically, and an interrupted grid
resumes where it stopped.
The key hashes the full config (the thread count included: float sums differ between thread
counts), the dataset's fingerprint, the package version and :data:`RUN_FORMAT`. An unreadable
entry (a truncated file) is treated as missing, with a warning, and retrained; temporary files
orphaned by a killed writer are removed.

Where runs execute:

* ``workers=1`` — in this process, one after another;
* ``workers=k`` or ``"auto"`` — a local pool of k processes (spawned; each receives the data
  once and dies with its parent). On a CUDA machine the processes share the GPU(s): worker i
  uses GPU ``i % device_count``;
* ``executor=`` any :class:`concurrent.futures.Executor`, e.g. Dask's
  ``Client.get_executor()`` or a submitit executor (README recipes): each job carries a recipe
  to reload the dataset (``tacr.data.load`` name and parameters, memoised per worker) or, for
  data built in memory, the data itself; the worker checks the data's fingerprint before
  training. Workers must see the cache folder (a shared file system).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import warnings
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .files import atomic_write
from .batch import DeviceData, resolve_device
from .data.schema import CTRData
from .train import TrainConfig, run, score_split

#: Bump when the stored layout of a run changes (2: metric columns renamed so they never
#: shadow config fields; per-run thread count in the key; game epochs. 3: D's best weights kept).
RUN_FORMAT = 3
ORPHAN_SECONDS = 600  # temporary files older than this in the cache folder are a killed writer's


def cache_dir(path=None) -> Path:
    p = Path(path or os.environ.get("TACR_CACHE") or Path(__file__).resolve().parent.parent / ".cache" / "runs")
    p.mkdir(parents=True, exist_ok=True)
    return p


def run_key(config: TrainConfig, fingerprint: str) -> str:
    payload = json.dumps({"config": config.key_fields(), "data": fingerprint, "version": __version__,
                          "format": RUN_FORMAT}, sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()[:20]


# ------------------------------------------------------------------------------- the grid
def run_grid(configs, seeds, data: CTRData, cache: str | Path | None = None, *, workers: int | str = 1,
             executor: Executor | None = None, progress: bool = True, quiet: bool | None = None) -> pd.DataFrame:
    """Every config x seed; cached runs are read, missing ones trained and cached.

    Args:
        configs: :class:`TrainConfig` objects (their ``seed`` is replaced by each seed).
        seeds: the seeds.
        data: the dataset.
        cache: the cache folder (default ``$TACR_CACHE`` or ``.cache/runs``).
        workers: processes of a local pool (``"auto"``: CPU cores // threads per run, or one per
            GPU... see the module docstring); ignored when ``executor`` is given.
        executor: any ``concurrent.futures.Executor`` to run the missing runs on.
    Returns:
        One row per epoch of every run, in the order of ``configs`` x ``seeds``.
    """
    from tqdm.auto import tqdm

    if not len(seeds):
        raise ValueError("run_grid: no seeds given")
    folder = cache_dir(cache)
    _remove_orphans(folder)
    fingerprint = data.fingerprint()
    jobs = [replace(c, seed=int(s)) for c in configs for s in seeds]
    keys = [run_key(cfg, fingerprint) for cfg in jobs]
    missing = {k: cfg for cfg, k in zip(jobs, keys) if not _cached(folder, k)}
    bar = tqdm(total=len(jobs), desc="runs", disable=not progress, leave=True)
    bar.update(len(jobs) - len(missing))
    n_workers = 1 if executor is not None else _n_workers(workers, list(missing.values()))
    if missing and executor is not None:
        ref = DataRef.of(data)
        _drain({executor.submit(train_and_cache, cfg, k, str(folder), ref): cfg for k, cfg in missing.items()}, bar)
    elif missing and n_workers > 1:
        _train_in_pool(missing, data, folder, n_workers, bar)
    else:
        device_data: dict = {}
        for k, cfg in missing.items():
            bar.set_postfix_str(f"{cfg.model}+{cfg.sampler} seed {cfg.seed}")
            _train_and_cache(cfg, k, data, folder, quiet, device_data)
            bar.update(1)
    bar.close()
    frames = [_read_run(folder, k) for k in keys]
    return pd.concat(frames, ignore_index=True)


def _cached(folder: Path, key: str) -> bool:
    path, state = folder / f"{key}.parquet", folder / f"{key}.pt"
    if not (path.exists() and state.exists()):
        return False
    try:
        import pyarrow.parquet as pq
        import torch

        pq.read_metadata(path)
        torch.load(state, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated or corrupt: retrain
        warnings.warn(f"tacr run cache: unreadable entry {key} ({type(exc).__name__}: {exc}); retraining it")
        for p in folder.glob(f"{key}.*"):
            p.unlink(missing_ok=True)
        return False
    return True


def _read_run(folder: Path, key: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{key}.parquet")


def _remove_orphans(folder: Path) -> None:
    """Temporary files of killed writers (``.<name>.*``, see :func:`tacr.files.atomic_write`)."""
    now = time.time()
    for p in folder.glob(".*"):
        try:
            if now - p.stat().st_mtime > ORPHAN_SECONDS:
                p.unlink()
        except OSError:
            pass


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


def _n_workers(workers, missing) -> int:
    if not missing or workers in (1, "1"):
        return 1
    if workers == "auto":
        devices = {resolve_device(cfg.device).type for cfg in missing}
        if devices == {"cpu"}:
            threads = max(cfg.threads for cfg in missing)
            workers = max(1, (os.cpu_count() or 1) // threads)
        else:
            workers = 2 * _cuda_count()  # two processes per GPU keep a small model's GPU busy
    return max(1, min(int(workers), len(missing)))


def _cuda_count() -> int:
    import torch

    return max(torch.cuda.device_count(), 1) if torch.cuda.is_available() else 1


# ------------------------------------------------------------------------------- one run
def _train_and_cache(cfg: TrainConfig, key: str, data: CTRData, folder: Path, quiet, device_data: dict) -> str:
    import torch

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
    atomic_write(folder / f"{key}.parquet", lambda tmp: df.to_parquet(tmp, index=False))
    atomic_write(folder / f"{key}.pt", lambda tmp: torch.save(state, tmp))  # last: marks the run complete
    return key


_DEVICE_DATA: dict = {}


def _device_data(data: CTRData, device) -> DeviceData:
    """The data on ``device`` for scoring finished runs, kept for the next call (one dataset)."""
    key = (data.fingerprint(), str(resolve_device(device)))
    if key not in _DEVICE_DATA:
        _DEVICE_DATA.clear()
        _DEVICE_DATA[key] = DeviceData(data, device)
    return _DEVICE_DATA[key]


def load_model(config: TrainConfig, data: CTRData, cache: str | Path | None = None, device: str = "cpu"):
    """D of a finished run with its weights at the epoch of best validation AUC (eval mode)."""
    import torch

    from . import models

    path = cache_dir(cache) / f"{run_key(config, data.fingerprint())}.pt"
    if not path.exists():
        raise FileNotFoundError(f"no cached run for {config} on {data.name}; train it with run_grid first")
    dd = _device_data(data, device)
    model = models.build(config.model, data.spec, **config.model_overrides())
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model = model.to(dd.device).eval()
    model.set_training_counts(dd.training_counts())
    return model


def load_scores(config: TrainConfig, data: CTRData, cache: str | Path | None = None, splits=("train", "valid", "test"),
                sample: bool = False, device: str = "cpu") -> dict[str, pd.DataFrame]:
    """Raw scores f of a finished run under D's weights at its best validation epoch: per split,
    a DataFrame of ``row`` (the split's row index) and ``score``. Every row (stored in the cache
    as ``<key>.scores.parquet`` once computed), or with ``sample`` only the fixed per-epoch
    evaluation sample (``config.eval_rows``, not stored)."""
    from .train import torch_threads

    key = run_key(config, data.fingerprint())
    path = cache_dir(cache) / f"{key}.scores.parquet"
    if not sample and path.exists():
        table = pd.read_parquet(path)
        if set(splits) <= set(table["split"]):
            return {s: table[table["split"] == s][["row", "score"]].reset_index(drop=True) for s in splits}
    model = load_model(config, data, cache, device)
    dd = _device_data(data, device)
    out = {}
    with torch_threads(config.threads):
        for s in splits:
            rows = dd[s].eval_rows(config.eval_rows) if sample else None
            scores = score_split(model, dd[s], config.eval_batch_size, rows)
            idx = np.arange(len(data.splits[s])) if rows is None else rows.cpu().numpy()
            out[s] = pd.DataFrame({"row": idx, "score": scores})
    if not sample:
        table = pd.concat([f.assign(split=s) for s, f in out.items()], ignore_index=True)
        atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
    return out


# ------------------------------------------------------------------------------- remote jobs
@dataclass
class DataRef:
    """How a worker gets the dataset: a ``tacr.data.load`` recipe when the data came from one
    unchanged (cheap to send; the worker loads it once and memoises it), else the data itself."""

    fingerprint: str
    recipe: dict | None = None
    data: CTRData | None = None

    @classmethod
    def of(cls, data: CTRData) -> "DataRef":
        recipe = getattr(data, "_recipe", None)
        return cls(data.fingerprint(), recipe=recipe, data=None if recipe else data)

    def load(self) -> CTRData:
        if self.data is not None:
            return self.data
        key = json.dumps(self.recipe, sort_keys=True, default=str)
        if key not in _WORKER_DATA:
            from .data import load

            _WORKER_DATA.clear()
            _WORKER_DATA[key] = load(self.recipe["name"], **self.recipe["params"])
        data = _WORKER_DATA[key]
        if data.fingerprint() != self.fingerprint:
            raise RuntimeError(f"worker loaded {self.recipe} with fingerprint {data.fingerprint()}, expected "
                               f"{self.fingerprint}: the data changed on disk or differs between machines")
        return data


_WORKER_DATA: dict = {}
_WORKER_DEVICE_DATA: dict = {}


def train_and_cache(cfg: TrainConfig, key: str, folder: str, ref: DataRef) -> str:
    """One run on a worker of any executor: load (memoised), train, write the cache entry."""
    data = ref.load()
    store = _WORKER_DEVICE_DATA.setdefault(ref.fingerprint, {})
    if len(_WORKER_DEVICE_DATA) > 1:  # keep one dataset on the device
        for other in [f for f in _WORKER_DEVICE_DATA if f != ref.fingerprint]:
            del _WORKER_DEVICE_DATA[other]
    return _train_and_cache(cfg, key, data, Path(folder), True, store)


# ------------------------------------------------------------------------------- the local pool
def _init_worker(data: CTRData, gpu_slots: list) -> None:
    """Pool initialiser: die with the parent (Linux), pin a GPU, keep the data."""
    _die_with_parent()
    import multiprocessing as mp

    import torch

    ident = mp.current_process()._identity
    if gpu_slots and torch.cuda.is_available():
        torch.cuda.set_device(gpu_slots[(ident[0] - 1) % len(gpu_slots)] if ident else gpu_slots[0])
    _WORKER_DATA.clear()
    _WORKER_DATA["pool"] = data


def _pool_job(cfg: TrainConfig, key: str, folder: str) -> str:
    data = _WORKER_DATA["pool"]
    return _train_and_cache(cfg, key, data, Path(folder), True, _WORKER_DEVICE_DATA.setdefault("pool", {}))


def _die_with_parent() -> None:
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


def _check_main_guard() -> None:
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


def _train_in_pool(missing: dict, data: CTRData, folder: Path, n_workers: int, bar) -> None:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    _check_main_guard()
    gpu = sorted({resolve_device(c.device).type for c in missing.values()} - {"cpu"})
    slots = list(range(_cuda_count())) if gpu else []
    ctx = mp.get_context("spawn")
    try:
        with ProcessPoolExecutor(n_workers, mp_context=ctx, initializer=_init_worker, initargs=(data, slots)) as pool:
            _drain({pool.submit(_pool_job, cfg, k, str(folder)): cfg for k, cfg in missing.items()}, bar)
    except BrokenProcessPool as exc:
        raise RuntimeError("a run_grid worker process died. If this is a script, guard its top-level code with "
                           "`if __name__ == \"__main__\":`; otherwise the worker may have run out of memory") from exc
