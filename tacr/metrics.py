"""Evaluation metrics (SPEC §8): AUC, RelaImpr (Eq. 21), Kendall's tau.

``auc`` is the Mann-Whitney statistic with average ranks for ties, computed with one sort, so
10M scores take about a second.
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def _as_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def auc(labels, scores) -> float:
    """Area under the ROC curve; ties count one half. NaN when a class is absent."""
    y = _as_numpy(labels).astype(bool).ravel()
    s = _as_numpy(scores).astype(np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.shape[0]} vs {s.shape[0]}")
    if np.isnan(s).any():
        raise ValueError(f"scores contain {int(np.isnan(s).sum())} NaN values")
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s)
    s_sorted, y_sorted = s[order], y[order]
    new_group = np.empty(s.size, dtype=bool)
    new_group[0] = True
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=new_group[1:])
    starts = np.flatnonzero(new_group)  # 0-based first index of each tie group
    ends = np.append(starts[1:], s.size)  # exclusive
    avg_rank = (starts + ends + 1) / 2.0  # 1-based mean rank of the group
    group = np.cumsum(new_group) - 1
    pos_per_group = np.bincount(group, weights=y_sorted, minlength=len(starts))
    rank_sum = float(np.dot(pos_per_group, avg_rank))
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def rela_impr(auc_value, base_auc) -> float:
    """RelaImpr of Eq. (21), in percent: ((AUC - 0.5) / (AUC_base - 0.5) - 1) * 100."""
    auc_value, base_auc = np.asarray(auc_value, dtype=float), np.asarray(base_auc, dtype=float)
    if np.any(base_auc == 0.5):
        raise ValueError("RelaImpr is undefined for a base AUC of 0.5")
    out = ((auc_value - 0.5) / (base_auc - 0.5) - 1.0) * 100.0
    return float(out) if out.ndim == 0 else out


def kendall_tau(a, b) -> float:
    """Kendall's tau-b between two rankings (scipy)."""
    return float(stats.kendalltau(_as_numpy(a), _as_numpy(b)).statistic)


def kendall_tau_rows(a, b) -> np.ndarray:
    """Kendall's tau-b of each row pair of two (B, C) arrays, vectorised over rows.

    Counts concordant and discordant pairs over the C*(C-1)/2 pairs of each row with ties
    handled as in tau-b; equals ``scipy.stats.kendalltau`` row by row.
    """
    a, b = _as_numpy(a).astype(np.float64), _as_numpy(b).astype(np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"need two (B, C) arrays of one shape, got {a.shape} and {b.shape}")
    i, j = np.triu_indices(a.shape[1], k=1)
    da = np.sign(a[:, i] - a[:, j])  # (B, pairs)
    db = np.sign(b[:, i] - b[:, j])
    s = (da * db).sum(axis=1)
    n_a = (da != 0).sum(axis=1)
    n_b = (db != 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return s / np.sqrt(n_a.astype(float) * n_b)
