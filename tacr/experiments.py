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
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__
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


def _write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def run_grid(configs, seeds, data: CTRData, cache: str | Path | None = None, quiet: bool | None = None,
             progress: bool = True, scores: bool = False) -> pd.DataFrame:
    """Every config x seed; cached runs are read, missing ones trained and cached.

    ``configs`` is a list of :class:`TrainConfig` (their ``seed`` is replaced by each seed).
    With ``scores=True`` each run also keeps the raw scores of every split under D's weights at
    its best validation epoch (read them with :func:`load_scores`), for calibration.
    """
    from tqdm.auto import tqdm

    folder = cache_dir(cache)
    fingerprint = data.fingerprint()
    jobs = [replace(c, seed=int(s)) for c in configs for s in seeds]
    frames, device_data = [], {}
    bar = tqdm(jobs, desc="runs", disable=not progress, leave=True)
    for cfg in bar:
        key = run_key(cfg, fingerprint)
        path = folder / f"{key}.parquet"
        score_path = folder / f"{key}.scores.parquet"
        if path.exists() and (not scores or score_path.exists()):
            df = pd.read_parquet(path)
        else:
            bar.set_postfix_str(f"{cfg.model}+{cfg.sampler} seed {cfg.seed}")
            dev = resolve_device(cfg.device)
            if dev not in device_data:
                device_data[dev] = DeviceData(data, dev)
            df, parts = run(cfg, data, quiet=quiet, device_data=device_data[dev], return_models=True)
            if scores:
                _write_parquet_atomic(_split_scores(parts), score_path)
            for name, value in cfg.key_fields().items():
                df[name] = value
            df["run_key"] = key
            df["dataset"] = data.name
            _write_parquet_atomic(df, path)
        frames.append(df)
    bar.close()
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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


def _interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
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
        lo, hi = _interval(g["best_test_auc"], level)
        vlo, vhi = _interval(g["val_selected_test_auc"], level)
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
        out["relaimpr_pct"] = rela_impr(out["avg_optimal_auc"].to_numpy(), b["avg_optimal_auc"])
        out["val_relaimpr_pct"] = rela_impr(out["val_selected_auc"].to_numpy(), b["val_selected_auc"])
    return out


def base_config(profile: str = "quick", **overrides) -> TrainConfig:
    """The training defaults of a profile: ``paper`` is SPEC §6 to the letter (50 epochs, C=35);
    ``quick`` and ``smoke`` shorten the run to fit a 2-core CPU."""
    presets = {
        "smoke": dict(epochs=2, n_candidates=8, pretrain_epochs=1, tau_positives=16),
        "quick": dict(epochs=8, n_candidates=20, pretrain_epochs=1),
        "paper": dict(epochs=50, n_candidates=35, pretrain_epochs=2),
    }
    if profile not in presets:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(presets)}")
    return TrainConfig(**{**presets[profile], **overrides})


def config_frame(configs) -> pd.DataFrame:
    return pd.DataFrame([asdict(c) for c in configs])


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
