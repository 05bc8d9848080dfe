"""Evaluation metrics (docs/method.md §8): AUC, RelaImpr (Eq. 21), Kendall's tau; and, beyond the paper,
the group AUC (GAUC: impression-weighted mean of per-user AUCs, as in the DIN paper).

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


def gauc(labels, scores, groups) -> float:
    """Impression-weighted mean of per-group AUCs over the groups holding both classes.

    One lexsort for all groups (ties count one half within a group); equals a loop of
    :func:`auc` over groups.
    """
    y = _as_numpy(labels).astype(np.float64).ravel()
    s = _as_numpy(scores).astype(np.float64).ravel()
    g = _as_numpy(groups).astype(np.int64).ravel()
    if not (len(y) == len(s) == len(g)):
        raise ValueError(f"labels, scores and groups differ in length: {len(y)}, {len(s)}, {len(g)}")
    order = np.lexsort((s, g))
    y, s, g = y[order], s[order], g[order]
    n = len(y)
    new_group = np.r_[True, g[1:] != g[:-1]]
    new_tie = new_group | np.r_[True, s[1:] != s[:-1]]
    group_id = np.cumsum(new_group) - 1
    group_start = np.flatnonzero(new_group)
    tie_start = np.flatnonzero(new_tie)
    tie_end = np.append(tie_start[1:], n)
    tie_id = np.cumsum(new_tie) - 1
    rank = (tie_start + tie_end + 1)[tie_id] / 2.0 - group_start[group_id]  # 1-based within group
    size = np.bincount(group_id)
    pos = np.bincount(group_id, weights=y)
    rank_sum = np.bincount(group_id, weights=y * rank)
    neg = size - pos
    ok = (pos > 0) & (neg > 0)
    if not ok.any():
        return float("nan")
    per_group = (rank_sum[ok] - pos[ok] * (pos[ok] + 1) / 2.0) / (pos[ok] * neg[ok])
    return float(np.average(per_group, weights=size[ok]))


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
