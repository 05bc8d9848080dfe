"""Statistics over seeds (docs/method.md §8): per-run metrics, summaries, paired differences.

* :func:`per_run` — one row per run: the paper's metric (best test AUC over epochs; for the
  adversarial samplers over the game epochs only, docs/method.md §8.2), the validation-selected test AUC
  (the test AUC at the epoch of best validation AUC; on the run's larger final test sample when
  it has one, ``selected_test_auc``) and their epochs.
* :func:`summarise` — per configuration: means over seeds with 95 % t-intervals, RelaImpr
  (Eq. 21) against a base row.
* :func:`paired` — the paired difference of two configurations over the seeds they share,
  with its 95 % t-interval and the minimum detectable difference (:func:`min_detectable`):
  the basis of every verdict in :mod:`tacr.claims`.

Everything here takes and returns tidy pandas DataFrames; nothing touches tensors.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import brentq

from .metrics import rela_impr

LEVEL = 0.95  # two-sided confidence level of every interval
POWER = 0.80  # power of the minimum detectable difference


def t_interval(values, level: float = LEVEL) -> tuple[float, float]:
    """Two-sided t-interval of the mean over seeds (NaN for fewer than two values)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return float(values.mean() - half), float(values.mean() + half)


def min_detectable(sd: float, n: int, level: float = LEVEL, power: float = POWER) -> float:
    """The smallest true mean difference a two-sided paired t-test at ``level`` detects with
    probability ``power``, given the standard deviation ``sd`` of the paired differences over
    ``n`` seeds (exact: the noncentral t distribution's power, solved for the effect). NaN for
    n < 2."""
    if n < 2 or not np.isfinite(sd):
        return float("nan")
    if sd == 0:
        return 0.0
    df, crit = n - 1, stats.t.ppf(0.5 + level / 2, n - 1)

    def shortfall(nc):  # scipy's nct gives NaN far in the tails, where the power is 1
        return np.nan_to_num(stats.nct.sf(crit, df, nc), nan=1.0) + np.nan_to_num(stats.nct.cdf(-crit, df, nc)) - power

    nc = brentq(shortfall, 0.0, 2 * crit + 10.0)  # power at the upper end is ~1 for any df
    return float(nc * sd / np.sqrt(n))


def config_columns(df: pd.DataFrame) -> list[str]:
    """The configuration columns of a results table (the fields of ``TrainConfig`` present,
    minus the seed)."""
    from .train import TrainConfig

    names = [f.name for f in fields(TrainConfig) if f.name not in ("seed", "device", "eval_batch_size")]
    return [c for c in names if c in df.columns]


def per_run(df: pd.DataFrame, by=None) -> pd.DataFrame:
    """One row per run (``by`` columns + seed): best test AUC over the game epochs (the
    paper's metric), the test AUC at the epoch of best validation AUC (over all epochs, the
    pre-training ones included) with that validation AUC (``selected_valid_auc``, what a
    comparator is chosen on) and the final epoch's test AUC, with the epochs they were reached
    at, the number of epochs and of game epochs.

    Runs without a ``game_epoch`` column count every epoch as a game epoch.
    """
    by = list(by or config_columns(df))
    rows = []
    for key, g in df.sort_values("epoch", kind="stable").groupby(by + ["seed"], dropna=False, sort=False):
        g_game = g[g["game_epoch"] > 0] if "game_epoch" in g else g
        best = g_game.loc[g_game["test_auc"].idxmax()] if len(g_game) else g.iloc[-1]
        sel = g.loc[g["valid_auc"].idxmax()]
        # the selected epoch's test AUC on the larger final sample when the run computed it
        selected = sel["selected_test_auc"] if "selected_test_auc" in g and pd.notna(sel["selected_test_auc"]) else sel["test_auc"]
        rows.append({**dict(zip(by + ["seed"], key)), "best_test_auc": best["test_auc"], "best_epoch": int(best["epoch"]),
                     "val_selected_test_auc": selected, "selected_epoch": int(sel["epoch"]),
                     "selected_valid_auc": float(sel["valid_auc"]), "epochs": int(len(g)),
                     "final_test_auc": g["test_auc"].iloc[-1], "game_epochs": int(len(g_game)),
                     "seconds": float(g["epoch_seconds"].sum()) if "epoch_seconds" in g else float("nan"),
                     "d_updates": int(g["d_steps"].sum()) if "d_steps" in g else -1})
    return pd.DataFrame(rows)


def interval_text(low: float, high: float, digits: int = 4) -> str:
    """``[low, high]`` for a table, or "1 seed: no interval" where there is none (NaN)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "1 seed: no interval"
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def display_table(summary: pd.DataFrame, key, labels: dict | None = None, extra=()) -> pd.DataFrame:
    """A :func:`summarise` table as a person reads it: the row's label, seeds, the paper's
    metric and the validation-selected AUC each with its interval as text, each seed's selected
    epoch, then the ``extra`` columns."""
    keys = [key] if isinstance(key, str) else list(key)
    out = summary[keys + ["seeds"]].copy()
    if labels:
        out[keys[0]] = out[keys[0]].map(lambda k: labels.get(k, k))
    out["avg optimal AUC (paper's metric)"] = summary["avg_optimal_auc"]
    out["95% CI"] = [interval_text(lo, hi) for lo, hi in zip(summary["ci_low"], summary["ci_high"])]
    out["val-selected AUC"] = summary["val_selected_auc"]
    out["95% CI (val-selected)"] = [interval_text(lo, hi) for lo, hi in zip(summary["val_ci_low"], summary["val_ci_high"])]
    out["selected epoch by seed"] = summary["selected_epochs"]
    for col in extra:
        out[col] = summary[col]
    return out


def summarise(runs: pd.DataFrame, by, base: dict | None = None, level: float = LEVEL) -> pd.DataFrame:
    """Per configuration (the ``by`` columns of a :func:`per_run` table): the mean over seeds of
    the paper's metric and of the validation-selected test AUC with ``level`` t-intervals,
    mean epochs and each seed's selected epoch, the mean selected validation AUC, wall seconds
    and D updates per run, and RelaImpr against the ``base`` row
    (a dict of ``by`` values, e.g. ``{"sampler": "uniform"}``)."""
    by = [by] if isinstance(by, str) else list(by)
    rows = []
    for key, g in runs.groupby(by, dropna=False, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        lo, hi = t_interval(g["best_test_auc"], level)
        vlo, vhi = t_interval(g["val_selected_test_auc"], level)
        rows.append({**dict(zip(by, key)), "seeds": len(g),
                     "avg_optimal_auc": g["best_test_auc"].mean(), "ci_low": lo, "ci_high": hi,
                     "val_selected_auc": g["val_selected_test_auc"].mean(), "val_ci_low": vlo, "val_ci_high": vhi,
                     "best_epoch_mean": g["best_epoch"].mean(), "selected_epoch_mean": g["selected_epoch"].mean(),
                     "selected_epochs": ",".join(str(int(e)) for e in g["selected_epoch"]),
                     "selected_valid_auc": g["selected_valid_auc"].mean() if "selected_valid_auc" in g else np.nan,
                     "seconds_per_run": g["seconds"].mean(), "d_updates_per_run": g["d_updates"].mean()})
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


@dataclass(frozen=True)
class Paired:
    """The paired difference ``a - b`` of a metric over the seeds both configurations ran."""

    mean: float
    low: float
    high: float
    sd: float
    n: int
    mdd: float  # minimum detectable difference (see :func:`min_detectable`)
    a_mean: float
    b_mean: float
    p_value: float = float("nan")  # two-sided paired t-test of "no difference"

    @property
    def excludes_zero(self) -> bool:
        return bool(self.low > 0 or self.high < 0)


def paired(runs: pd.DataFrame, a: dict, b: dict, metric: str = "val_selected_test_auc", level: float = LEVEL) -> Paired:
    """Paired difference of ``metric`` between the runs matching ``a`` and those matching ``b``
    (dicts of column values), matched by seed."""
    def pick(sel):
        mask = np.ones(len(runs), dtype=bool)
        for col, value in sel.items():
            mask &= runs[col].to_numpy() == value
        part = runs[mask]
        if part["seed"].duplicated().any():
            raise ValueError(f"{sel} matches several runs per seed; add columns to select one configuration")
        return part.set_index("seed")[metric]

    x, y = pick(a), pick(b)
    common = x.index.intersection(y.index)
    d = (x[common] - y[common]).to_numpy(dtype=float)
    n = len(d)
    lo, hi = t_interval(d, level)
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    return Paired(mean=float(d.mean()) if n else float("nan"), low=lo, high=hi, sd=sd, n=n,
                  mdd=min_detectable(sd, n, level), a_mean=float(x[common].mean()) if n else float("nan"),
                  b_mean=float(y[common].mean()) if n else float("nan"), p_value=t_test_p(d))


def t_test_p(values) -> float:
    """Two-sided p-value of a one-sample t-test of mean 0 (paired differences); NaN for fewer
    than two values, 0 or 1 for values without spread."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan")
    sd = values.std(ddof=1)
    if sd == 0:
        return 1.0 if values.mean() == 0 else 0.0
    t = values.mean() / (sd / np.sqrt(len(values)))
    return float(2 * stats.t.sf(abs(t), len(values) - 1))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values of a family of tests (NaN entries are not in the
    family and stay NaN): the k-th smallest of m p-values is multiplied by m - k + 1, then
    made non-decreasing and capped at 1. Rejecting where the adjusted p-value is below alpha
    keeps the family-wise error rate at alpha."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    if not len(idx):
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    m = len(order)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out
