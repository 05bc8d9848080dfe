"""Metrics (docs/method.md §8): AUC against scikit-learn, RelaImpr against the paper's Table 4, Kendall's
tau against scipy."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.metrics import roc_auc_score

from tacr.metrics import auc, kendall_tau, kendall_tau_rows, rela_impr


# ------------------------------------------------------------------------------ AUC
@pytest.mark.parametrize("seed", range(4))
def test_auc_matches_sklearn_random(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5000))
    y = rng.random(n) < rng.uniform(0.01, 0.9)
    y[0], y[-1] = True, False  # both classes present
    s = rng.normal(size=n) + 0.8 * y
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_auc_matches_sklearn_heavy_ties(decimals):
    rng = np.random.default_rng(10 + decimals)
    y = (rng.random(20_000) < 0.015).astype(np.int8)  # CTR-like imbalance
    s = np.round(rng.random(20_000) * 0.5 + 0.3 * y, decimals)
    assert len(np.unique(s)) <= 81  # heavily tied
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auc_hand_values_and_inputs():
    assert auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5  # all tied: a half each
    assert auc([0, 1, 1], [0.2, 0.2, 0.9]) == pytest.approx(0.75, abs=1e-15)
    # label dtypes, float32 scores, torch tensors (also with grad) and 2-D inputs are accepted
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.3
    s = rng.normal(size=300).astype(np.float32)
    ref = roc_auc_score(y, s)
    assert auc(y.astype(np.float32), s) == pytest.approx(ref, abs=1e-12)
    assert auc(torch.as_tensor(y), torch.tensor(s, requires_grad=True)) == pytest.approx(ref, abs=1e-12)
    assert auc(y.reshape(30, 10), s.reshape(30, 10)) == pytest.approx(ref, abs=1e-12)
    # invariant to a monotone transform of the scores
    assert auc(y, np.exp(s.astype(np.float64))) == pytest.approx(ref, abs=1e-12)


def test_auc_degenerate_and_bad_input():
    assert math.isnan(auc([1, 1, 1], [0.1, 0.2, 0.3]))
    assert math.isnan(auc([0, 0], [0.1, 0.2]))
    assert math.isnan(auc([], []))
    with pytest.raises(ValueError, match="length"):
        auc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        auc([0, 1], [0.1, float("nan")])


# ------------------------------------------------------------------------------ RelaImpr
def test_rela_impr_paper_table4():
    # Table 4: DIN+Uniform* is the base; "Ours" gets 14.14 %, 15.22 %, 11.03 % on three datasets
    for ours, base, paper in [(0.7745, 0.7405, 14.14), (0.7021, 0.6754, 15.22), (0.6439, 0.6296, 11.03)]:
        hand = ((ours - 0.5) / (base - 0.5) - 1) * 100
        assert rela_impr(ours, base) == pytest.approx(hand, abs=1e-12)
        assert rela_impr(ours, base) == pytest.approx(paper, abs=0.01)
    assert rela_impr(0.7405, 0.7405) == 0.0
    assert rela_impr(0.7, 0.8) < 0
    assert isinstance(rela_impr(0.7, 0.6), float)


def test_rela_impr_vectorised_and_undefined():
    a, b = np.array([0.7745, 0.7021]), np.array([0.7405, 0.6754])
    np.testing.assert_allclose(rela_impr(a, b), ((a - 0.5) / (b - 0.5) - 1) * 100, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rela_impr(a, 0.7405), ((a - 0.5) / 0.2405 - 1) * 100, rtol=0, atol=1e-12)
    with pytest.raises(ValueError):
        rela_impr(0.7, 0.5)


# ------------------------------------------------------------------------------ Kendall's tau
def test_kendall_tau_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    b = a + rng.normal(size=50)
    assert kendall_tau(a, b) == pytest.approx(stats.kendalltau(a, b).statistic, abs=1e-12)
    at, bt = np.round(a), np.round(b)  # ties
    assert kendall_tau(at, bt) == pytest.approx(stats.kendalltau(at, bt).statistic, abs=1e-12)
    assert kendall_tau(torch.as_tensor(a), torch.as_tensor(b)) == pytest.approx(stats.kendalltau(a, b).statistic, abs=1e-12)
    assert kendall_tau([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)


def _scipy_rows(a, b):
    return np.array([stats.kendalltau(x, y).statistic for x, y in zip(a, b)])


@pytest.mark.parametrize("ties", [False, True])
def test_kendall_tau_rows_matches_scipy(ties):
    rng = np.random.default_rng(1 + ties)
    B, C = 64, 12
    a = rng.normal(size=(B, C))
    b = 0.7 * a + rng.normal(size=(B, C))
    if ties:
        a, b = np.round(a), np.round(b * 2) / 2
        assert (np.array([len(np.unique(r)) for r in a]) < C).all()
    got = kendall_tau_rows(a, b)
    assert got.shape == (B,)
    np.testing.assert_allclose(got, _scipy_rows(a, b), rtol=0, atol=1e-12)
    # float32 and torch inputs give the same numbers
    np.testing.assert_allclose(kendall_tau_rows(torch.as_tensor(a), torch.as_tensor(b)), got, rtol=0, atol=1e-12)


def test_kendall_tau_rows_edge_cases():
    a = np.array([[1.0, 2, 3, 4], [1, 1, 1, 1], [1, 2, 2, 3], [4, 3, 2, 1]])
    b = np.array([[1.0, 2, 3, 4], [1, 2, 3, 4], [3, 2, 2, 1], [1, 2, 3, 4]])
    got = kendall_tau_rows(a, b)
    ref = _scipy_rows(a, b)
    assert math.isnan(got[1]) and math.isnan(ref[1])  # a constant row: undefined, as in scipy
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[[0, 2, 3]], [1.0, -1.0, -1.0], atol=1e-12)
    with pytest.raises(ValueError):
        kendall_tau_rows(a, b[:, :3])
    with pytest.raises(ValueError):
        kendall_tau_rows(a[0], b[0])


def test_gauc_matches_a_loop_of_per_group_aucs():
    from sklearn.metrics import roc_auc_score

    from tacr.metrics import gauc

    rng = np.random.default_rng(7)
    n = 5000
    groups = rng.integers(0, 60, n)
    labels = (rng.random(n) < 0.1 + 0.005 * groups).astype(int)
    scores = np.round(rng.normal(size=n) + labels * (groups % 3), 1)  # ties inside groups
    aucs, weights = [], []
    for u in np.unique(groups):
        m = groups == u
        if 0 < labels[m].sum() < m.sum():
            aucs.append(roc_auc_score(labels[m], scores[m]))
            weights.append(m.sum())
    assert gauc(labels, scores, groups) == pytest.approx(np.average(aucs, weights=weights), abs=1e-12)
    assert np.isnan(gauc(np.zeros(5), np.arange(5), np.zeros(5)))
    with pytest.raises(ValueError):
        gauc([0, 1], [0.1], [0, 0])
