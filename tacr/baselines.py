"""Sanity baselines every CTR table should carry (docs/method.md §10), fitted on the same split.

* :func:`item_popularity` — the smoothed click-through rate of the target item in training,
  ``(clicks_i + a * ctr) / (impressions_i + a)``, with the prior strength ``a`` picked on the
  validation split (unseen items get the global CTR);
* :func:`onehot_logistic` — scikit-learn's L2 logistic regression on one-hot user, item,
  category and user-attribute fields (sparse), with ``C`` picked on the validation split.

Both return a :class:`BaselineResult` with the validation and test AUC at the chosen setting.
A model of the paper that scores below them has a defect to explain.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .data import CTRData
from .metrics import auc

PRIOR_STRENGTHS = (1.0, 10.0, 100.0, 1000.0)
C_GRID = (0.01, 0.1, 1.0, 10.0)


@dataclass
class BaselineResult:
    name: str
    setting: str  # the hyper-parameter picked on validation
    valid_auc: float
    test_auc: float
    test_scores: np.ndarray | None = None


def item_popularity(data: CTRData, strengths=PRIOR_STRENGTHS) -> BaselineResult:
    """Smoothed item CTR from the training split; the prior strength picked on validation."""
    tr = data.train
    n_items = len(data.items)
    imps = np.bincount(tr.item, minlength=n_items).astype(float)
    clicks = np.bincount(tr.item, weights=tr.label.astype(float), minlength=n_items)
    ctr = clicks.sum() / max(imps.sum(), 1.0)

    def score(split, a):
        return (clicks[split.item] + a * ctr) / (imps[split.item] + a)

    best = max(strengths, key=lambda a: auc(data.valid.label, score(data.valid, a)))
    test = score(data.test, best)
    return BaselineResult("item popularity", f"prior strength {best:g}", auc(data.valid.label, score(data.valid, best)),
                          auc(data.test.label, test), test)


def onehot_features(data: CTRData, split) -> sp.csr_matrix:
    """One-hot user, item, category and user-attribute codes of a split's rows (CSR)."""
    blocks = [(split.user, data.n_users), (split.item, len(data.items)),
              (data.items.category[split.item], int(data.items.category.max()) + 1)]
    blocks += [(data.user_aux[split.user, j], int(size)) for j, size in enumerate(data.aux_sizes)]
    n = len(split)
    cols, offset = [], 0
    for codes, size in blocks:
        cols.append(np.asarray(codes, dtype=np.int64) + offset)
        offset += size
    col = np.stack(cols, axis=1).ravel()
    row = np.repeat(np.arange(n), len(blocks))
    return sp.csr_matrix((np.ones(len(col), dtype=np.float32), (row, col)), shape=(n, offset))


def onehot_logistic(data: CTRData, c_grid=C_GRID, seed: int = 0) -> BaselineResult:
    """L2 logistic regression on one-hot fields (scikit-learn, liblinear); C picked on validation."""
    from sklearn.linear_model import LogisticRegression

    X = {name: onehot_features(data, s) for name, s in data.splits.items()}
    fits = {}
    for c in c_grid:
        m = LogisticRegression(C=c, solver="liblinear", max_iter=200, random_state=seed)
        m.fit(X["train"], data.train.label)
        fits[c] = (auc(data.valid.label, m.decision_function(X["valid"])), m)
    best = max(fits, key=lambda c: fits[c][0])
    test = fits[best][1].decision_function(X["test"])
    return BaselineResult("one-hot logistic regression", f"C = {best:g}", fits[best][0], auc(data.test.label, test), test)


def oracle(data: CTRData) -> BaselineResult | None:
    """The simulator's true click probability as a score (None on real data)."""
    if data.test.p_click is None:
        return None
    return BaselineResult("oracle (true p_click)", "-", auc(data.valid.label, data.valid.p_click),
                          auc(data.test.label, data.test.p_click), data.test.p_click)


def table(data: CTRData) -> pd.DataFrame:
    """The baselines (and the oracle, on the simulator) as rows: name, setting, AUCs."""
    rows = [item_popularity(data), onehot_logistic(data)] + ([oracle(data)] if data.test.p_click is not None else [])
    return pd.DataFrame([{"baseline": r.name, "picked on validation": r.setting, "valid AUC": r.valid_auc,
                          "test AUC": r.test_auc} for r in rows])
