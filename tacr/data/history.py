"""Histories and time features of a sample (the canonical format: :mod:`tacr.data.schema`).

* :func:`build_histories` — each impression's latest ``L`` clicks **strictly before** its
  time, oldest first, padded at the end; vectorised with one sort and one ``searchsorted``.
* :func:`time_features` — month of year, day of week, day of month and hour of day of a unix
  time in a given time zone. The same integer arithmetic runs on numpy
  arrays and on torch tensors, so the model computes the features on the device.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

#: Cardinality of each time feature, in the column order of :func:`time_features`.
TIME_FEATURE_SIZES = (12, 7, 31, 24)  # month, weekday, day of month, hour
TIME_FEATURE_NAMES = ("month", "weekday", "day", "hour")
PAD_ITEM = 0
PAD_TIME = 0


@dataclass(frozen=True)
class Histories:
    hist_item: np.ndarray  # (N, L) int32 item index, PAD_ITEM after hist_len
    hist_time: np.ndarray  # (N, L) int64 unix seconds, PAD_TIME after hist_len
    hist_len: np.ndarray  # (N,) int16 number of real positions
    hist_id: np.ndarray  # (N,) int64: equal id <=> identical history (-1: empty)


def build_histories(user, item, time, label, L: int = 10, query_user=None, query_time=None,
                    chunk: int = 2_000_000) -> Histories:
    """Latest ``L`` clicks of each query's user strictly before the query time.

    The clicks are the rows of (user, item, time, label) with label 1. The queries default to
    the same rows. ``hist_id`` is the position of the newest history click in the sorted click
    log, so two queries share an id exactly when they share a history.
    """
    if L < 1:
        raise ValueError(f"history length L must be >= 1, got {L}")
    user = np.asarray(user, dtype=np.int64)
    time = np.asarray(time, dtype=np.int64)
    clicked = np.asarray(label) == 1
    query_user = user if query_user is None else np.asarray(query_user, dtype=np.int64)
    query_time = time if query_time is None else np.asarray(query_time, dtype=np.int64)

    c_user, c_time = user[clicked], time[clicked]
    c_item = np.asarray(item)[clicked]
    order = np.lexsort((c_time, c_user))
    c_user, c_time, c_item = c_user[order], c_time[order], c_item[order]

    # first click of each query's user, and first click of that user at or after the query time
    for what, t in (("time", time), ("query_time", query_time)):
        if len(t) and (t.min() < 0 or t.max() >= 2**32):
            n_bad = int(((t < 0) | (t >= 2**32)).sum())
            raise ValueError(
                f"build_histories: {what}: {n_bad} of {len(t)} values are not unix seconds in [0, 2**32) "
                f"(1970-01-01 .. 2106-02-07; min {int(t.min())}, max {int(t.max())}). Times in milliseconds? "
                "Divide by 1000 (the table loader: time_format='unix_ms'); the loaders name the file and "
                "column of such values before this point.")
    c_key = (c_user << 32) + c_time
    start = np.searchsorted(c_key, query_user << 32, side="left")
    pos = np.searchsorted(c_key, (query_user << 32) + query_time, side="left")
    n = np.minimum(pos - start, L)

    # fill only the real positions (histories are mostly shorter than L), in slices of queries
    # so the temporaries stay small at the paper's scale
    hist_item = np.full((len(pos), L), PAD_ITEM, dtype=np.int32)
    hist_time = np.full((len(pos), L), PAD_TIME, dtype=np.int64)
    j = np.arange(L, dtype=np.int64)
    for a in range(0, len(pos), chunk):
        p, m = pos[a:a + chunk], n[a:a + chunk]
        rows, cols = np.nonzero(j[None, :] < m[:, None])  # real positions of this slice
        src = p[rows] - m[rows] + cols  # click index, oldest first
        hist_item[a + rows, cols] = c_item[src]
        hist_time[a + rows, cols] = c_time[src]
    hist_id = np.where(n > 0, pos - 1, -1).astype(np.int64)
    return Histories(hist_item, hist_time, n.astype(np.int16), hist_id)


# ---------------------------------------------------------------------------- time features
@lru_cache(maxsize=64)
def _offset_table(tz: str, t_min: int, t_max: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC offsets of ``tz`` as a step function: (change times, offset seconds) over a range."""
    if tz in ("UTC", "utc", "Etc/UTC", "GMT"):
        return np.array([np.iinfo(np.int64).min], dtype=np.int64), np.array([0], dtype=np.int64)
    grid = np.arange((t_min - 86400) // 900 * 900, t_max + 2 * 86400, 900, dtype=np.int64)
    local = pd.to_datetime(grid, unit="s", utc=True).tz_convert(tz)
    offset = local.tz_localize(None).values.astype("datetime64[s]").astype(np.int64) - grid
    change = np.flatnonzero(np.diff(offset)) + 1
    keep = np.concatenate([[0], change])
    starts = grid[keep].copy()
    starts[0] = np.iinfo(np.int64).min
    return starts, offset[keep]


class TimeZone:
    """A time zone as a step table of UTC offsets, valid over ``[t_min, t_max]``.

    Offsets are looked up with ``searchsorted`` so numpy and torch share one code path.
    """

    def __init__(self, tz: str = "UTC", t_min: int = 0, t_max: int = 2**31):
        try:
            self.starts, self.offsets = _offset_table(str(tz), int(t_min), int(t_max))
        except Exception as exc:  # unknown zone names
            raise ValueError(f"unknown time zone {tz!r}: {exc}") from exc
        self.name = str(tz)
        self.t_min, self.t_max = int(t_min), int(t_max)

    def offset(self, t):
        """UTC offset in seconds at each unix time ``t`` (numpy array or torch tensor)."""
        if _is_torch(t):
            import torch

            starts = torch.as_tensor(self.starts, device=t.device)
            offsets = torch.as_tensor(self.offsets, device=t.device)
            idx = torch.searchsorted(starts, t.contiguous(), right=True) - 1
            return offsets[idx]
        idx = np.searchsorted(self.starts, t, side="right") - 1
        return self.offsets[idx]


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def time_features(t, tz: "str | TimeZone" = "UTC"):
    """Month (0-11), weekday (0 = Monday), day of month (0-30), hour (0-23) of unix times.

    Works on numpy arrays and torch tensors of any shape; returns the input's kind with a
    trailing axis of 4 (int64). Civil dates use Hinnant's days-from-civil inverse, exact for
    the proleptic Gregorian calendar.
    """
    if not isinstance(tz, TimeZone):
        if _is_torch(t):
            lo, hi = int(t.min()) if t.numel() else 0, int(t.max()) if t.numel() else 0
        else:
            arr = np.asarray(t)
            lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        tz = TimeZone(tz, lo, hi)
    if _is_torch(t):
        import torch

        local = t.to(torch.int64) + tz.offset(t.to(torch.int64))
        stack = lambda cols: torch.stack(cols, dim=-1)  # noqa: E731
        floordiv = lambda a, b: torch.div(a, b, rounding_mode="floor")  # noqa: E731
    else:
        t = np.asarray(t, dtype=np.int64)
        local = t + tz.offset(t)
        stack = lambda cols: np.stack(cols, axis=-1)  # noqa: E731
        floordiv = np.floor_divide
    days = floordiv(local, 86400)
    secs = local - days * 86400
    hour = floordiv(secs, 3600)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    # civil_from_days (H. Hinnant), integer-only
    z = days + 719468
    era = floordiv(z, 146097)
    doe = z - era * 146097
    yoe = floordiv(doe - floordiv(doe, 1460) + floordiv(doe, 36524) - floordiv(doe, 146096), 365)
    doy = doe - (365 * yoe + floordiv(yoe, 4) - floordiv(yoe, 100))
    mp = floordiv(5 * doy + 2, 153)
    day = doy - floordiv(153 * mp + 2, 5)  # 0-based
    month = mp + 3 - 12 * (mp >= 10)  # 1..12
    return stack([month - 1, weekday, day, hour])
