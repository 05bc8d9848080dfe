"""Grids of configurations x seeds, an on-disk cache of finished runs, and summaries (SPEC §8).

* :func:`run_grid` trains every (config, seed) not yet in the cache and returns one tidy
  DataFrame, a row per epoch with a column per config field. Each finished run is stored as
  ``<cache_dir>/<key>.parquet`` (written to a temp file, then renamed), keyed by a hash of the
  full config, the dataset's fingerprint and the package version, so an interrupted grid
  resumes where it stopped and runs shared between notebooks are computed once.
* :func:`summarise`: per config, the paper's "average optimal AUC" (mean over seeds of each
  run's best test AUC over epochs), the validation-selected test AUC (test AUC at the epoch of
  best validation AUC), 95 % t-intervals over seeds, and RelaImpr (Eq. 21) against a base row.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__
from ._io import atomic_write
from .batch import DeviceData, resolve_device
from .data.schema import CTRData
from .metrics import rela_impr
from .train import TrainConfig, run


def cache_dir(path=None) -> Path:
    p = Path(path or os.environ.get("TACR_CACHE") or Path(__file__).resolve().parent.parent / ".cache" / "runs")
    p.mkdir(parents=True, exist_ok=True)
    return p


def run_key(config: TrainConfig, fingerprint: str) -> str:
    payload = json.dumps({"config": config.key_fields(), "data": fingerprint, "version": __version__}, sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()[:20]


def run_grid(configs, seeds, data: CTRData, cache: str | Path | None = None, quiet: bool | None = None,
             progress: bool = True, scores: bool = False, workers: int | str = 1) -> pd.DataFrame:
    """Every config x seed; cached runs are read, missing ones trained and cached.

    ``configs`` is a list of :class:`TrainConfig` (their ``seed`` is replaced by each seed).
    With ``scores=True`` each run also keeps the raw scores of every split under D's weights at
    its best validation epoch (read them with :func:`load_scores`), for calibration.
    ``workers`` > 1 (or ``"auto"``: one per CPU core) trains missing CPU runs in parallel
    processes with ``cores // workers`` torch threads each; small models train faster as two
    one-thread runs than as one two-thread run. Results are identical for the same seed and
    thread count.
    """
    from tqdm.auto import tqdm

    folder = cache_dir(cache)
    fingerprint = data.fingerprint()
    jobs = [replace(c, seed=int(s)) for c in configs for s in seeds]
    keys = [run_key(cfg, fingerprint) for cfg in jobs]

    def cached(key):
        return (folder / f"{key}.parquet").exists() and (not scores or (folder / f"{key}.scores.parquet").exists())

    missing = [(cfg, key) for cfg, key in zip(jobs, keys) if not cached(key)]
    missing = list({key: (cfg, key) for cfg, key in missing}.values())
    n_workers = _n_workers(workers, missing)
    bar = tqdm(total=len(jobs), desc="runs", disable=not progress, leave=True)
    bar.update(len(jobs) - len(missing))
    if n_workers > 1:
        _train_parallel(missing, data, folder, scores, n_workers, bar)
    else:
        device_data = {}
        for cfg, key in missing:
            bar.set_postfix_str(f"{cfg.model}+{cfg.sampler} seed {cfg.seed}")
            _train_and_cache(cfg, key, data, folder, scores, quiet, device_data)
            bar.update(1)
    bar.close()
    frames = [pd.read_parquet(folder / f"{key}.parquet") for key in keys]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _n_workers(workers, missing) -> int:
    if not missing:
        return 1
    if any(resolve_device(cfg.device).type != "cpu" for cfg, _ in missing):
        return 1  # one accelerator: runs go one after another
    n = (os.cpu_count() or 1) if workers == "auto" else int(workers)
    return max(1, min(n, len(missing)))


def _train_and_cache(cfg: TrainConfig, key: str, data: CTRData, folder: Path, scores: bool, quiet, device_data: dict):
    dev = resolve_device(cfg.device)
    if dev not in device_data:
        device_data[dev] = DeviceData(data, dev)
    df, parts = run(cfg, data, quiet=quiet, device_data=device_data[dev], return_models=True)
    if scores:
        table = _split_scores(parts)
        atomic_write(folder / f"{key}.scores.parquet", lambda tmp: table.to_parquet(tmp, index=False))
    for name, value in cfg.key_fields().items():
        df[name] = value
    df["run_key"] = key
    df["dataset"] = data.name
    atomic_write(folder / f"{key}.parquet", lambda tmp: df.to_parquet(tmp, index=False))
    return df


_WORKER: dict = {}


def _init_worker(data: CTRData, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER.update(data=data, device_data={})


def _worker_job(cfg: TrainConfig, key: str, folder: str, scores: bool) -> str:
    _train_and_cache(cfg, key, _WORKER["data"], Path(folder), scores, True, _WORKER["device_data"])
    return key


def _train_parallel(missing, data: CTRData, folder: Path, scores: bool, n_workers: int, bar) -> None:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, (os.cpu_count() or 1) // n_workers)
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(n_workers, mp_context=ctx, initializer=_init_worker, initargs=(data, threads)) as pool:
        futures = {pool.submit(_worker_job, cfg, key, str(folder), scores): cfg for cfg, key in missing}
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


def _split_scores(parts) -> pd.DataFrame:
    from .train import score_split

    D, dd = parts["D"], parts["device_data"]
    if parts["best_valid_state"] is not None:
        D.load_state_dict(parts["best_valid_state"])
    frames = [pd.DataFrame({"split": name, "score": score_split(D, dd[name])}) for name in ("train", "valid", "test")]
    return pd.concat(frames, ignore_index=True)


def load_scores(config: TrainConfig, data: CTRData, cache: str | Path | None = None) -> dict[str, np.ndarray]:
    """Raw scores f per split of a finished run (``run_grid(..., scores=True)``), under D's
    weights at the epoch of best validation AUC."""
    path = cache_dir(cache) / f"{run_key(config, data.fingerprint())}.scores.parquet"
    if not path.exists():
        raise FileNotFoundError(f"no cached scores for {config}; call run_grid(..., scores=True) first")
    df = pd.read_parquet(path)
    return {name: g["score"].to_numpy() for name, g in df.groupby("split", sort=False)}


CONFIG_COLUMNS = [f for f in TrainConfig.__dataclass_fields__ if f not in ("seed", "device", "eval_batch_size")]


def t_interval(values, level: float = 0.95) -> tuple[float, float]:
    """Two-sided t-interval of the mean over seeds (NaN for fewer than two values)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return float(values.mean() - half), float(values.mean() + half)


def per_run(df: pd.DataFrame, by=None) -> pd.DataFrame:
    """One row per run: best test AUC over epochs (the paper's metric) and the test AUC at the
    epoch of best validation AUC."""
    by = list(by or CONFIG_COLUMNS)
    rows = []
    for key, g in df.groupby(by + ["seed"], dropna=False, sort=False):
        g = g.sort_values("epoch")
        best = g.loc[g["test_auc"].idxmax()]
        sel = g.loc[g["valid_auc"].idxmax()]
        rows.append({**dict(zip(by + ["seed"], key)), "best_test_auc": best["test_auc"], "best_epoch": int(best["epoch"]),
                     "val_selected_test_auc": sel["test_auc"], "selected_epoch": int(sel["epoch"]),
                     "final_test_auc": g["test_auc"].iloc[-1]})
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame, by=None, base: dict | None = None, level: float = 0.95) -> pd.DataFrame:
    """Per config (the ``by`` columns): mean over seeds of the best and the validation-selected
    test AUC with ``level`` t-intervals, and RelaImpr against the ``base`` row (a dict of
    ``by`` values, e.g. ``{"sampler": "uniform"}``)."""
    by = list(by or CONFIG_COLUMNS)
    runs = per_run(df, by)
    rows = []
    for key, g in runs.groupby(by, dropna=False, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        lo, hi = t_interval(g["best_test_auc"], level)
        vlo, vhi = t_interval(g["val_selected_test_auc"], level)
        rows.append({**dict(zip(by, key)), "seeds": len(g),
                     "avg_optimal_auc": g["best_test_auc"].mean(), "ci_low": lo, "ci_high": hi,
                     "val_selected_auc": g["val_selected_test_auc"].mean(), "val_ci_low": vlo, "val_ci_high": vhi,
                     "best_epoch_mean": g["best_epoch"].mean()})
    out = pd.DataFrame(rows)
    if base is not None and len(out):
        mask = np.ones(len(out), dtype=bool)
        for col, value in base.items():
            mask &= out[col].to_numpy() == value
        if mask.sum() != 1:
            raise ValueError(f"base {base} matches {int(mask.sum())} rows of the summary, need exactly 1")
        b = out[mask].iloc[0]
        for col, metric in (("relaimpr_pct", "avg_optimal_auc"), ("val_relaimpr_pct", "val_selected_auc")):
            # Eq. 21 is undefined against a base at chance (AUC 0.5): NaN, not an error
            out[col] = np.nan if b[metric] == 0.5 else rela_impr(out[metric].to_numpy(), b[metric])
    return out


def base_config(profile: str = "quick", **overrides) -> TrainConfig:
    """The training defaults of a profile: ``paper`` is SPEC §6 to the letter (50 epochs, C=35);
    ``quick`` and ``smoke`` shorten the run to fit a 2-core CPU."""
    presets = {
        "smoke": dict(epochs=2, n_candidates=8, pretrain_epochs=1, tau_positives=16),
        "quick": dict(epochs=6, n_candidates=20, pretrain_epochs=1),
        "paper": dict(epochs=50, n_candidates=35, pretrain_epochs=2),
    }
    if profile not in presets:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(presets)}")
    return TrainConfig(**{**presets[profile], **overrides})


def notebook_setup(dataset="synthetic", data_dir=None, data_params=None, profile="quick", device="auto",
                   epochs=None, **overrides):
    """What every study notebook starts with: the data, the profile's base config and the
    simulator's oracle test AUC (None for real data)."""
    from .data import load_dataset
    from .plots import setup_style

    setup_style()
    data = load_dataset(dataset, data_dir, data_params, profile)
    if epochs is not None:
        overrides["epochs"] = int(epochs)
    base = base_config(profile, device=device, **overrides)
    oracle = data.info.get("oracle_auc", {}).get("test")
    return data, base, oracle
