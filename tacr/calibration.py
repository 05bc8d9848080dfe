"""Output calibration (docs/method.md §7; paper Sec. 3.2, Eq. 17-20) and calibration diagnostics.

Negative sampling changes the share of positives the discriminator sees, so its scores rank
well but their absolute level is wrong. The paper maps a raw score ``f = f_D(e_sD(s))`` back to
a click probability with a bucketed, isotonic lookup table fitted on the *real* training data:

    CTR(s) = p(Y(s) = 1 | f)                                                           (17)
    sigma(s) = sigmoid(f);  [0, 1] split into n equal buckets  v_1 < v_2 < ... < v_{n+1}
    CTR(s) ~= p(Y = 1 | v_j <= sigma(s) < v_{j+1}) =: p(v_j)                           (18)
    p(v_j) ~= #positives with sigma in [v_j, v_{j+1}) / #samples with sigma there       (19)
    p made increasing in j with the Pool Adjacent Violators Algorithm (PAVA), then for a test
    sample with sigma in [v_j, v_{j+1}):
    CTR = alpha p(v_j) + (1 - alpha) p(v_{j+1}),  alpha = (v_{j+1} - sigma) / (v_{j+1} - v_j)   (20)

The calibrated CTR of a test set is the mean of its samples' calibrated CTRs, and the
calibration error is ``|calibrated - real| / real``.

**The flaw in Eq. 20 (docs/method.md §7.3).** ``p(v_j)`` is the click rate *averaged over* the
bucket ``[v_j, v_{j+1})``, but Eq. 20 pins it to the bucket's *lower edge* ``v_j``. On an
increasing curve that moves every value half a bucket to the left, so each sample receives
roughly the rate of a point half a bucket above it and the calibrated CTR is biased upward by
about half the curve's rise over one bucket: small where the scores spread over many buckets,
large where they crowd into a few (a CTR of 1.5 % puts most scores in the lowest buckets;
Fig. 6(b) measures it); it shrinks as n grows. ``BucketCalibrator``
therefore offers ``interpolation="center"`` (the default: each bucket's value sits at the
bucket's centre, which is where its average belongs, and the calibrated mean is unbiased) and
``interpolation="edge"`` (Eq. 20 to the letter, for the replication of Fig. 6(b)).

Beyond the paper: :func:`expected_calibration_error`, :func:`log_loss`,
:func:`reliability_table` and :func:`calibration_report` describe calibration quality
before (sigmoid of the raw score) and after the lookup table; :func:`level_decomposition`
splits the error of the calibrated CTR into the parts that cause it (the draws of the two
periods' clicks, a change of the expected CTR between them, and the model), and
:func:`day_offsets` measures how far each day's calibrated CTR lands from that day's CTR.

All functions accept lists, numpy arrays, pandas Series and (CPU) torch tensors, never modify
their inputs, and raise ``ValueError`` with a message naming the bad argument.
"""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression
from scipy.special import expit
from sklearn.exceptions import NotFittedError

INTERPOLATIONS = ("center", "edge")
BIN_STRATEGIES = ("quantile", "uniform")

_ROOM = 0.5  # a tilted block may use at most this share of the room to its bounds
_TIE_BREAK = 1e-9  # the rise given to a block whose mean is exactly 0 or 1 (see BucketCalibrator)
_MERGE_TOL = 1e-12  # adjacent PAVA blocks whose means differ by less are one block


class BucketCalibrator:
    r"""Map raw model scores to click probabilities with the bucket table of Eq. 17-20.

    ``fit(scores, labels)`` takes the raw scores ``f`` (any real numbers; the sigmoid is
    applied here, numerically stably) and 0/1 labels of the *real* training samples — all of
    them, not the sampled pairs. ``predict(scores)`` returns calibrated CTRs in [0, 1].

    Fitting, step by step:

    1. ``sigma = sigmoid(f)``; bucket ``j`` (0-based) holds ``j/n <= sigma < (j+1)/n``, and
       ``sigma == 1`` falls into the last bucket.
    2. ``bucket_positive_rate_[j]`` = positives / samples in bucket j (Eq. 19); NaN where a
       bucket is empty.
    3. PAVA on the non-empty buckets, weighted by their sample counts
       (``scipy.optimize.isotonic_regression``); empty buckets take zero weight. A *block* is a
       maximal run of non-empty buckets with one fitted value; that value is the block's
       weighted mean ``m_B`` (= its positives / its samples). ``isotonic_values_`` holds the
       fit, empty buckets filled by linear interpolation between their non-empty neighbours.
    4. The slope. The paper adds a small slope ``epsilon = 0.1`` so that the table strictly
       increases but does not say on what scale. Here ``slope`` is in probability per unit of
       sigma: inside block B the value of bucket j is

           m_B + s_B * slope * (c_j - cbar_B),

       with ``c_j`` the bucket centre and ``cbar_B`` the count-weighted mean centre of the
       block, i.e. one bucket step adds ``s_B * slope / n`` (``slope`` times the bucket width).
       The tilt has zero weighted mean, so **every block keeps its weighted mean exactly** and
       the mean calibrated CTR on the training data is unchanged. ``s_B`` in (0, 1] shrinks
       the tilt where needed: the block may use at most half the room between ``m_B`` and the
       midpoint to its neighbouring block means (0 below the first block, 1 above the last).
       Shrinking instead of clipping keeps both the mean and strict increase, across blocks
       too, and keeps values strictly inside (0, 1).
       One case cannot keep both: a block whose mean is exactly 0 (its buckets saw no click;
       it can only be the first block) or exactly 1 (only the last). A zero-mean tilt would
       leave [0, 1], so such a block (even of one bucket) instead rises from just above 0 to
       ``1e-9`` (reaches from ``1 - 1e-9`` to just below 1): ranking stays strict, values stay
       inside (0, 1), and that block's mean moves by at most ``1e-9``. ``slope=0`` switches
       step 4 off (plain PAVA, ties allowed). Strictness holds up to float64 resolution (the
       sigmoid itself saturates for |f| beyond about 30).
    5. Empty buckets take the linear interpolation of their non-empty neighbours' values (by
       centre). Empty buckets below the first / above the last non-empty bucket continue at
       ``slope`` (never going more than halfway towards 0 / 1), so the table stays strictly
       increasing where the training data say nothing. ``bucket_values_`` is the final table.

    Interpolation (``predict``), with ``w = 1/n`` and ``v_j`` the table:

    * ``"center"`` (default): ``v_j`` is anchored at the centre ``(j + 1/2) w`` and sigma is
      linearly interpolated between neighbouring centres. Below the first centre and above
      the last the neighbouring segment's slope continues to sigma = 0 / 1 (half a bucket),
      but going at most halfway to 0 / 1 — extrapolated, not held, so the output stays
      strictly increasing.
    * ``"edge"``: Eq. 20 to the letter — ``v_j`` anchored at the lower edge ``j w`` and
      ``CTR = alpha v_j + (1 - alpha) v_{j+1}``. The last bucket has no ``p(v_{n+1})``; we
      put the anchor at sigma = 1 and continue the last step ``v_n - v_{n-1}`` for one bucket,
      at most halfway to 1. Biased upward by about half a bucket (module docstring).

    Args:
        n_buckets: n, the number of equal buckets on [0, 1] (>= 2; the paper uses about 100).
        slope: epsilon, the tilt slope in probability per unit of sigma (>= 0; paper: 0.1).
        interpolation: ``"center"`` or ``"edge"``.

    Fitted attributes (arrays of length ``n_buckets`` unless noted):
        edges_ (n+1,), centers_, bucket_counts_ (int64), bucket_positives_ (int64),
        bucket_positive_rate_ (raw p(v_j), NaN if empty), isotonic_values_ (PAVA),
        block_ids_ (PAVA block of each bucket, -1 if empty), block_means_ (n_blocks,),
        bucket_values_ (final strictly increasing table), n_samples_, base_rate_ (training CTR).
    """

    def __init__(self, n_buckets: int = 100, slope: float = 0.1, interpolation: str = "center"):
        self.n_buckets = n_buckets
        self.slope = slope
        self.interpolation = interpolation
        self._check_params()

    def __repr__(self) -> str:
        return (f"BucketCalibrator(n_buckets={self.n_buckets}, slope={self.slope}, "
                f"interpolation={self.interpolation!r})")

    def _check_params(self) -> None:
        n = self.n_buckets
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
            raise ValueError(f"n_buckets must be an integer >= 2, got {n!r}")
        s = self.slope
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not np.isfinite(s) or s < 0:
            raise ValueError(f"slope must be a finite real number >= 0, got {s!r}")
        _check_choice("interpolation", self.interpolation, INTERPOLATIONS)

    # ------------------------------------------------------------------ fit
    def fit(self, scores, labels) -> "BucketCalibrator":
        """Fit the table on the raw scores and 0/1 labels of the real training samples."""
        self._check_params()
        f = _as_scores(scores, "scores")  # (N,) float64
        y = _as_labels(labels, "labels", len(f))  # (N,) float64 in {0, 1}
        if len(f) == 0:
            raise ValueError("cannot fit a BucketCalibrator on zero samples")
        n, eps = int(self.n_buckets), float(self.slope)
        edges = np.linspace(0.0, 1.0, n + 1)  # (n+1,)
        centers = (edges[:-1] + edges[1:]) / 2  # (n,)
        j = _bucket_index(expit(f), edges)  # (N,)
        counts = np.bincount(j, minlength=n).astype(np.int64)  # (n,)
        positives = np.bincount(j, weights=y, minlength=n).round().astype(np.int64)  # (n,)
        full = counts > 0
        rate = np.full(n, np.nan)
        rate[full] = positives[full] / counts[full]

        # PAVA on the non-empty buckets, then blocks = runs of one fitted value
        w_f, pos_f, c_f = counts[full].astype(np.float64), positives[full].astype(np.float64), centers[full]
        iso = isotonic_regression(rate[full], weights=w_f, increasing=True).x  # (F,)
        block_f = np.concatenate([[0], np.cumsum(np.diff(iso) > _MERGE_TOL)])  # (F,)
        means = np.bincount(block_f, weights=pos_f) / np.bincount(block_f, weights=w_f)  # (B,) exact weighted means
        iso_f = means[block_f]  # (F,)
        values_f = _tilt(means, block_f, w_f, c_f, eps, 1.0 / n) if eps > 0 else iso_f.copy()  # (F,)

        block_ids = np.full(n, -1, dtype=np.int64)
        block_ids[full] = block_f
        self.edges_ = edges
        self.centers_ = centers
        self.bucket_counts_ = counts
        self.bucket_positives_ = positives
        self.bucket_positive_rate_ = rate
        self.isotonic_values_ = np.interp(centers, c_f, iso_f)
        self.block_ids_ = block_ids
        self.block_means_ = means
        self.bucket_values_ = _fill_empty(centers, c_f, values_f, eps)
        self.n_samples_ = len(f)
        self.base_rate_ = float(y.mean())
        return self

    # -------------------------------------------------------------- predict
    def knots(self, interpolation: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The piecewise-linear calibration curve as (sigma knots, CTR values), both increasing.

        ``interpolation`` overrides the instance's rule (handy for drawing both in Fig. 6(b)).
        """
        self._check_fitted()
        rule = self.interpolation if interpolation is None else interpolation
        _check_choice("interpolation", rule, INTERPOLATIONS)
        v, c = self.bucket_values_, self.centers_
        if rule == "center":
            lo = v[0] - min((v[1] - v[0]) / 2, v[0] / 2)
            hi = v[-1] + min((v[-1] - v[-2]) / 2, (1 - v[-1]) / 2)
            return np.concatenate([[0.0], c, [1.0]]), np.concatenate([[lo], v, [hi]])
        top = v[-1] + min(v[-1] - v[-2], (1 - v[-1]) / 2)  # p(v_{n+1}), see class docstring
        return self.edges_.copy(), np.concatenate([v, [top]])

    def predict_sigma(self, sigma, interpolation: str | None = None) -> np.ndarray:
        """Calibrate already-normalised scores ``sigma`` in [0, 1]."""
        s = _as_probs(sigma, "sigma")
        x, v = self.knots(interpolation)
        return np.interp(s, x, v)

    def predict(self, scores, interpolation: str | None = None) -> np.ndarray:
        """Calibrated CTRs (float64, in [0, 1]) for raw scores ``f``."""
        self._check_fitted()
        return self.predict_sigma(expit(_as_scores(scores, "scores")), interpolation)

    def _check_fitted(self) -> None:
        if not hasattr(self, "bucket_values_"):
            raise NotFittedError("this BucketCalibrator is not fitted yet; call fit(scores, labels) first")


def _tilt(means: np.ndarray, block: np.ndarray, w: np.ndarray, c: np.ndarray, slope: float, width: float) -> np.ndarray:
    """Step 4 of BucketCalibrator: a zero-weighted-mean tilt inside each PAVA block.

    means (B,) strictly increasing block means; block, w, c (F,) block id, count, centre of
    each non-empty bucket; width the bucket width. Returns (F,) strictly increasing values.
    """
    out = means[block].astype(np.float64)  # (F,)
    B = len(means)
    for b in range(B):
        idx = np.flatnonzero(block == b)
        m, cb = means[b], c[idx]
        lo = 0.0 if b == 0 else (means[b - 1] + m) / 2
        hi = 1.0 if b == B - 1 else (m + means[b + 1]) / 2
        if m == 0 or m == 1:  # first / last block only: a rank-preserving tie-break inside (0, 1)
            r = (cb - cb[0] + width) / (cb[-1] - cb[0] + width)  # (K,) in (0, 1], increasing
            if m == 0:
                out[idx] = min(_TIE_BREAK, _ROOM * hi) * r  # (0, 1e-9]
            else:
                out[idx] = 1.0 - min(_TIE_BREAK, _ROOM * (1 - lo)) * r[::-1]  # [1 - 1e-9, 1)
            continue
        if len(idx) < 2:
            continue  # one bucket: nothing to tilt; means already increase strictly across blocks
        d = cb - np.average(cb, weights=w[idx])  # (K,) zero weighted mean, d[0] < 0 < d[-1]
        s = min(1.0, _ROOM * (m - lo) / (-slope * d[0]), _ROOM * (hi - m) / (slope * d[-1]))  # > 0
        out[idx] = m + s * slope * d
    return out


def _fill_empty(centers: np.ndarray, c_f: np.ndarray, v_f: np.ndarray, slope: float) -> np.ndarray:
    """Step 5: values for all n buckets from the non-empty ones (interpolate inside, slope outside)."""
    v = np.interp(centers, c_f, v_f)  # (n,) holds the end values outside [c_f[0], c_f[-1]]
    below, above = centers < c_f[0], centers > c_f[-1]
    if below.any():
        s_lo = min(slope, _ROOM * v_f[0] / c_f[0])
        v[below] = v_f[0] - s_lo * (c_f[0] - centers[below])
    if above.any():
        s_hi = min(slope, _ROOM * (1 - v_f[-1]) / (1 - c_f[-1]))
        v[above] = v_f[-1] + s_hi * (centers[above] - c_f[-1])
    return v


def _bucket_index(sigma: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bucket j with edges[j] <= sigma < edges[j+1]; sigma == 1 goes to the last bucket."""
    return np.clip(np.searchsorted(edges, sigma, side="right") - 1, 0, len(edges) - 2)


# ------------------------------------------------------------------------ metrics
def level_decomposition(calibrated_mean: float, train_labels, test_labels, train_expected: float | None = None,
                        test_expected: float | None = None) -> pd.DataFrame:
    """Why a table fitted on the training period misses the test period's CTR: the error
    ``100 ln(calibrated / realised test CTR)`` split into parts that add up to it exactly (in
    log-percent, which is within a few hundredths of the plain percent error at these sizes),
    each with its 1-sd noise where it is a draw of clicks (``100 / sqrt(clicks)``).

    With the expected CTRs (the simulator's mean true ``p_click`` of each split): the training
    split's draw (its realised vs expected CTR: the level the table is fitted to is this far off
    by chance), the change of the expected CTR between the periods, the test week's draw
    (expected vs realised), and the model (the calibrated test CTR against the training split's
    realised CTR: how differently the model scores the test period). Without them (real data):
    the realised CTRs' change between the periods (both draws and any real change together) and
    the model. Returns one row per part and a last row ``total``: ``part``, ``log-% of the
    error``, ``noise, 1 sd (%)``."""
    y_tr, y_te = _as_labels(train_labels, "train_labels"), _as_labels(test_labels, "test_labels")
    r_tr, r_te = y_tr.mean(), y_te.mean()
    n_tr, n_te = max(y_tr.sum(), 1), max(y_te.sum(), 1)
    noise_tr, noise_te = 100 / np.sqrt(n_tr), 100 / np.sqrt(n_te)
    lp = lambda a, b: 100 * float(np.log(a / b))  # noqa: E731
    if train_expected is not None and test_expected is not None:
        rows = [("training split's draw: its realised vs expected CTR", lp(r_tr, train_expected), noise_tr),
                ("expected CTR: training vs test period", lp(train_expected, test_expected), 0.0),
                ("test week's draw: its expected vs realised CTR", lp(test_expected, r_te), noise_te)]
    else:
        rows = [("realised CTR: training vs test split (draws and any change)", lp(r_tr, r_te),
                 float(np.hypot(noise_tr, noise_te)))]
    rows.append(("the model: calibrated test CTR vs the training split's realised CTR", lp(calibrated_mean, r_tr), np.nan))
    total = lp(calibrated_mean, r_te)
    out = pd.DataFrame(rows, columns=["part", "log-% of the error", "noise, 1 sd (%)"])
    out.loc[len(out)] = ["total: calibrated vs realised test CTR", total, float(np.hypot(noise_tr, noise_te))]
    return out


def day_offsets(calibrated, labels, days, expected=None) -> pd.DataFrame:
    """Per day: rows, clicks, realised CTR, the mean calibrated CTR and its offset from the
    day's CTR (``offset (%)``: against the expected CTR where given, else the realised), and,
    with expected CTRs, the day's own draw (realised vs expected, %). A spread of the offsets
    well above the draws' noise on training days means the fit follows each day's noise (the
    date features let the model learn it)."""
    pred, y = _as_probs(calibrated, "calibrated"), _as_labels(labels, "labels")
    days = np.asarray(days)
    if len(days) != len(y) or len(pred) != len(y):
        raise ValueError(f"calibrated, labels and days must have one entry per row, got {len(pred)}, {len(y)}, {len(days)}")
    frame = pd.DataFrame({"day": days, "clicks": y, "calibrated": pred})
    if expected is not None:
        frame["expected"] = _as_probs(expected, "expected")
    g = frame.groupby("day", sort=True)
    out = pd.DataFrame({"rows": g.size(), "clicks": g["clicks"].sum().astype(int),
                        "realised CTR (%)": 100 * g["clicks"].mean(), "calibrated CTR (%)": 100 * g["calibrated"].mean()})
    reference = out["realised CTR (%)"]
    if expected is not None:
        out["expected CTR (%)"] = 100 * g["expected"].mean()
        out["draw: realised vs expected (%)"] = 100 * (out["realised CTR (%)"] / out["expected CTR (%)"] - 1)
        reference = out["expected CTR (%)"]
    out["offset (%)"] = 100 * (out["calibrated CTR (%)"] / reference - 1)
    return out.reset_index()


def calibration_error(calibrated, labels) -> float:
    """|mean calibrated CTR - real CTR| / real CTR, as a fraction (0.0019 is the paper's 0.19 %)."""
    p = _as_probs(calibrated, "calibrated")
    y = _as_labels(labels, "labels", len(p))
    _check_nonempty(p)
    real = y.mean()
    if real == 0:
        raise ValueError("labels contain no positive; the relative calibration error is undefined")
    return float(abs(p.mean() - real) / real)


def log_loss(probs, labels, eps: float = 1e-15) -> float:
    """Mean binary cross-entropy (nats), probabilities clipped to [eps, 1 - eps]."""
    p = _as_probs(probs, "probs")
    y = _as_labels(labels, "labels", len(p))
    _check_nonempty(p)
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def reliability_table(probs, labels, n_bins: int = 20, strategy: str = "quantile") -> pd.DataFrame:
    """Predicted mean vs observed CTR per bin of the predicted probability.

    ``strategy="quantile"`` (default) makes bins of about equal counts — with click rates of
    a few percent, ``"uniform"`` bins of width 1/n_bins would put almost every sample into the
    first bin. Tied predictions stay in one bin, so there can be fewer bins; empty bins are
    dropped. Columns: ``bin, p_min, p_max, count, positives, pred_mean, obs_ctr, obs_se``
    (binomial standard error of ``obs_ctr``).
    """
    p = _as_probs(probs, "probs")
    y = _as_labels(labels, "labels", len(p))
    _check_nonempty(p)
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    _check_choice("strategy", strategy, BIN_STRATEGIES)
    if strategy == "uniform":
        b = _bucket_index(p, np.linspace(0.0, 1.0, n_bins + 1))
    else:
        inner = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))[1:-1])
        b = np.searchsorted(inner, p, side="right")
    df = pd.DataFrame({"bin": b, "p": p, "y": y})
    t = df.groupby("bin", sort=True).agg(p_min=("p", "min"), p_max=("p", "max"), count=("y", "size"),
                                         positives=("y", "sum"), pred_mean=("p", "mean"), obs_ctr=("y", "mean"))
    t["positives"] = t["positives"].round().astype(np.int64)
    t["obs_se"] = np.sqrt(t["obs_ctr"] * (1 - t["obs_ctr"]) / t["count"])
    return t.reset_index()


def expected_calibration_error(probs, labels, n_bins: int = 20, strategy: str = "quantile") -> float:
    """ECE = sum over bins of count/N * |pred_mean - obs_ctr| (bins as in :func:`reliability_table`)."""
    t = reliability_table(probs, labels, n_bins=n_bins, strategy=strategy)
    return float(np.sum(t["count"] / t["count"].sum() * (t["pred_mean"] - t["obs_ctr"]).abs()))


def calibration_report(raw_scores, calibrated, labels, n_bins: int = 20, strategy: str = "quantile") -> pd.DataFrame:
    """Calibration before (sigmoid of the raw scores) and after (``calibrated``), one row each.

    Columns: ``n, mean_pred, real_ctr, calibration_error`` (relative, a fraction),
    ``ece`` (:func:`expected_calibration_error`) and ``log_loss``; index ``stage``.
    """
    before = expit(_as_scores(raw_scores, "raw_scores"))
    after = _as_probs(calibrated, "calibrated")
    y = _as_labels(labels, "labels", len(before))
    if len(after) != len(y):
        raise ValueError(f"calibrated has {len(after)} values but labels has {len(y)}")
    rows = []
    for stage, p in (("before", before), ("after", after)):
        rows.append({"stage": stage, "n": len(p), "mean_pred": float(np.mean(p)) if len(p) else np.nan,
                     "real_ctr": float(np.mean(y)) if len(y) else np.nan,
                     "calibration_error": calibration_error(p, y),
                     "ece": expected_calibration_error(p, y, n_bins=n_bins, strategy=strategy),
                     "log_loss": log_loss(p, y)})
    return pd.DataFrame(rows).set_index("stage")


# ------------------------------------------------------------------------ input checks
def _to_numpy(x, name: str) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real numbers, got dtype {a.dtype}")
    return a


def _as_scores(x, name: str) -> np.ndarray:
    a = _to_numpy(x, name).astype(np.float64)  # always a copy or a new array: inputs untouched
    if np.isnan(a).any():
        raise ValueError(f"{name} contains {int(np.isnan(a).sum())} NaN value(s)")
    return a


def _as_probs(x, name: str) -> np.ndarray:
    a = _as_scores(x, name)
    bad = ~((a >= 0) & (a <= 1))
    if bad.any():
        raise ValueError(f"{name} must lie in [0, 1]; {int(bad.sum())} value(s) do not")
    return a


def _as_labels(x, name: str, n: int | None = None) -> np.ndarray:
    a = _to_numpy(x, name).astype(np.float64)
    if n is not None and len(a) != n:
        raise ValueError(f"{name} has {len(a)} values but the scores/probabilities have {n}")
    bad = ~((a == 0) | (a == 1))
    if bad.any():
        raise ValueError(f"{name} must be 0 or 1; {int(bad.sum())} value(s) are not (e.g. {a[bad][0]!r})")
    return a


def _check_nonempty(a: np.ndarray) -> None:
    if len(a) == 0:
        raise ValueError("no samples given")


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


__all__ = ["BucketCalibrator", "calibration_error", "calibration_report", "expected_calibration_error",
           "log_loss", "reliability_table", "INTERPOLATIONS", "BIN_STRATEGIES"]
