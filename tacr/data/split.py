"""The split of a log by time: one :class:`SplitSpec`, validated once, part of the data cache key.

A loader takes its settings as one frozen :class:`SplitSpec` (``tacr.data.load`` builds it
from the flat options ``valid_frac=``, ``test_frac=``, ``split_by=``, ``valid_start=``,
``test_start=``, ``test_end=``, ``tz=`` over the loader's own defaults, or takes ``split=``).
Every field is checked when the spec is made, so a bad value stops before any file is read.

* :meth:`SplitSpec.bounds` — (valid_start, test_start, test_end) unix seconds of a log's times.
* :meth:`SplitSpec.info` — the bounds as unix seconds and as dates in ``tz`` (``data.info``).
* :func:`check_splits` — a split that comes out empty, or without positives, or a
  validation/test split without negatives, as a :class:`DataError` that says why.
"""
from __future__ import annotations

import datetime as _dt
import numbers
import re
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd

from ..params import ParameterError, as_choice, as_float, as_text, did_you_mean
from .readers import DataError, bad

SPLIT_BY = ("span", "rows")
BOUNDS = ("valid_start", "test_start", "test_end")


def check_tz(value, name: str = "tz") -> str:
    """An IANA time zone name (``"UTC"``, ``"Europe/Berlin"``, ...) that pandas knows."""
    text = as_text(value, name, accepted="a time zone name such as 'UTC' or 'Europe/Berlin'")
    try:
        pd.Timestamp(0, unit="s", tz="UTC").tz_convert(text)
    except Exception:  # pytz, zoneinfo and dateutil raise different types
        import zoneinfo

        known = sorted(zoneinfo.available_timezones())
        raise ParameterError(f"{name}: {value!r} is not a time zone{did_you_mean(text, known)}; accepted: an IANA "
                             "name such as 'UTC', 'Europe/Berlin', 'America/Chicago'") from None
    return text


def to_unix(value, tz: str) -> int:
    """Unix seconds of a number (already unix seconds, floored) or a date/datetime (naive = in ``tz``)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return int(np.floor(value))
    ts = pd.Timestamp(value)
    ts = ts.tz_localize(tz) if ts.tzinfo is None else ts
    return int(ts.timestamp())


def _bound(value, name: str):
    """A split bound as the spec keeps it: None, whole unix seconds, or date text that parses."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParameterError(f"{name}: {value!r} is not a date; accepted: a date such as '2024-03-08' "
                             "(in tz), unix seconds, or null")
    if isinstance(value, numbers.Real):
        as_float(value, name)
        return int(np.floor(value))
    if isinstance(value, (_dt.date, pd.Timestamp)):
        return pd.Timestamp(value).isoformat()
    text = as_text(value, name, accepted="a date such as '2024-03-08' (in tz), unix seconds")
    if re.fullmatch(r"\s*[+-]?\d{9,}\s*", text):
        return int(text)
    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ParameterError(f"{name}: {value!r} is not a date; accepted: a date or time such as '2024-03-08' or "
                             "'2024-03-08 12:00' (in tz; an offset such as '+01:00' may follow), unix seconds, "
                             "or null") from None
    return text.strip()


@dataclass(frozen=True)
class SplitSpec:
    """How a log is split by time; every field is checked when the spec is made.

    Explicit bounds win (``valid_start``, ``test_start``, ``test_end``: dates in ``tz`` or unix
    seconds); a bound left None comes from the fractions: the last ``test_frac`` of the time
    span is test and the ``valid_frac`` before it validation (``split_by="span"``), or the same
    fractions of the rows in time order (``"rows"``; a boundary falls between distinct seconds,
    so tied rows share a split). ``test_end`` None keeps everything from ``test_start`` on.
    ``tz`` is the zone of naive dates and of the time features.
    """

    valid_frac: float = 0.1
    test_frac: float = 0.1
    split_by: str = "span"
    valid_start: int | str | None = None
    test_start: int | str | None = None
    test_end: int | str | None = None
    tz: str = "UTC"

    def __post_init__(self):
        def set_(name, value):  # frozen: the fields are normalised once, here
            object.__setattr__(self, name, value)

        set_("valid_frac", as_float(self.valid_frac, "valid_frac", 0, 1, open_low=True, open_high=True))
        set_("test_frac", as_float(self.test_frac, "test_frac", 0, 1, open_low=True, open_high=True))
        if self.valid_frac + self.test_frac >= 1:
            raise ParameterError(f"valid_frac + test_frac: {self.valid_frac:g} + {self.test_frac:g} leaves no "
                                 "training rows; accepted: a sum below 1")
        set_("split_by", as_choice(self.split_by, "split_by", SPLIT_BY))
        set_("tz", check_tz(self.tz))
        for name in BOUNDS:
            set_(name, _bound(getattr(self, name), name))
        given = {n: to_unix(getattr(self, n), self.tz) for n in BOUNDS if getattr(self, n) is not None}
        _check_order(given)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_options(cls, options: dict, default: "SplitSpec | None" = None) -> "SplitSpec":
        """``default`` (a loader's split) with ``options`` (flat split settings, or ``split=``
        a SplitSpec or a mapping of them) over it. A fraction or ``split_by`` that could have no
        effect, because the bounds it would set are given, is an error, not ignored."""
        default = cls() if default is None else default
        options = dict(options)
        base = options.pop("split", None)
        for where, given in (("split", base if isinstance(base, dict) else {}), ("split setting", options)):
            unknown = sorted(set(given) - set(cls.names()))
            if unknown:
                raise ParameterError(f"{where}: unknown setting {unknown[0]!r}{did_you_mean(unknown[0], cls.names())}; "
                                     f"accepted: {', '.join(cls.names())}")
        if isinstance(base, dict):
            options = {**base, **options}
        elif base is not None and not isinstance(base, SplitSpec):
            raise ParameterError(f"split: {base!r} is not a SplitSpec or a mapping of {', '.join(cls.names())}")
        spec = replace(base if isinstance(base, SplitSpec) else default, **options)
        unused = {"valid_frac": ("valid_start",), "test_frac": ("valid_start", "test_start"),
                  "split_by": ("valid_start", "test_start")}
        for name, needs in unused.items():
            if name in options and all(getattr(spec, b) is not None for b in needs):
                set_bounds = ", ".join(f"{b}={getattr(spec, b)!r}" for b in needs)
                raise ParameterError(f"{name}: {options[name]!r} has no effect: the split is set by {set_bounds}; "
                                     f"give {' and '.join(f'{b}: null' for b in needs)} to split by fractions")
        return spec

    def key(self) -> dict:
        """The fields as a plain dict (the data cache key's part)."""
        return asdict(self)

    def bounds(self, time) -> dict:
        """(valid_start, test_start, test_end) unix seconds for :func:`tacr.data.schema.assemble`."""
        t = np.asarray(time, dtype=np.int64)
        t_min, t_max = int(t.min()), int(t.max())
        if self.split_by == "span":
            span = t_max - t_min + 1
            auto_test = t_min + int(np.floor((1 - self.test_frac) * span))
            auto_valid = t_min + int(np.floor((1 - self.test_frac - self.valid_frac) * span))
        else:
            ts = np.sort(t)
            auto_test = int(ts[min(int(np.floor((1 - self.test_frac) * len(ts))), len(ts) - 1)])
            auto_valid = int(ts[min(int(np.floor((1 - self.test_frac - self.valid_frac) * len(ts))), len(ts) - 1)])
        out = {"valid_start": auto_valid if self.valid_start is None else to_unix(self.valid_start, self.tz),
               "test_start": auto_test if self.test_start is None else to_unix(self.test_start, self.tz),
               "test_end": None if self.test_end is None else to_unix(self.test_end, self.tz)}
        _check_order(out)
        return out

    def info(self, bounds: dict) -> dict:
        """``bounds`` as unix seconds and as ISO dates in ``tz`` (``<bound>_iso``), for ``data.info``."""
        return {f"{k}_iso": iso(v, self.tz) for k, v in bounds.items()} | dict(bounds)


def _check_order(b: dict) -> None:
    vs, ts, te = (b.get(k) for k in BOUNDS)
    if (vs is not None and ts is not None and vs > ts) or (ts is not None and te is not None and ts >= te):
        raise ParameterError(f"split bounds: need valid_start <= test_start < test_end; got "
                             f"{', '.join(f'{k}={v}' for k, v in b.items() if v is not None)} (unix seconds)")


def iso(t: int | None, tz: str) -> str | None:
    return None if t is None else pd.Timestamp(int(t), unit="s", tz="UTC").tz_convert(tz).isoformat()


SPLIT_NAMES = ("train", "valid", "test")


def check_splits(time: np.ndarray, label: np.ndarray, masks, bounds, source: str, tz: str = "UTC",
                 time_col: str = "time", label_col: str = "label") -> None:
    """Refuse a log whose split by time leaves a split empty, without positives, or a
    validation/test split without negatives (its AUC would be NaN at every epoch), with the
    reason: a whole log of one label, or a time far outside the others' range that stretches
    the span the fractions are taken of.

    ``masks`` are the (train, valid, test) row masks, ``bounds`` (valid_start, test_start,
    test_end) unix seconds (test_end may be None).
    """
    time = np.asarray(time)
    label = np.asarray(label)
    n = len(label)
    n_pos = int((label == 1).sum())
    if n and n_pos == n:
        raise bad(source, label_col, n, f"no negatives: all {n} rows have label 1; an impression log needs "
                                        "shown-and-not-clicked rows (label 0) to train and evaluate on")
    if n and n_pos == 0:
        raise bad(source, label_col, n, f"no positives: all {n} rows have label 0 (1 = clicked)")
    vs, ts, te = bounds
    ranges = {"train": (None, vs), "valid": (vs, ts), "test": (ts, te)}

    def span(name):
        a, b = ranges[name]
        return (f"[{'start' if a is None else iso(a, tz)}, {'end' if b is None else iso(b, tz)})")

    for name, mask in zip(SPLIT_NAMES, masks):
        k = int(mask.sum())
        if k == 0:
            raise DataError(f"{source}: column {time_col!r}: split {name!r} {span(name)} is empty: none of the "
                            f"{n} rows has a time in it. {_why_empty(time, tz)}")
    for name, mask in zip(SPLIT_NAMES, masks):
        k = int(mask.sum())
        pos = int((label[mask] == 1).sum())
        if pos == 0:
            raise bad(f"{source} [{name}]", label_col, k,
                      f"split {name!r} {span(name)} has no positives: all its {k} rows have label 0"
                      + (" (nothing to train on)" if name == "train" else " (its AUC is undefined)")
                      + f"; {_why_one_label(time, tz)}")
        if pos == k and name != "train":
            raise bad(f"{source} [{name}]", label_col, k,
                      f"split {name!r} {span(name)} has no negatives: all its {k} rows have label 1, so its AUC "
                      f"is undefined (NaN at every epoch); {_why_one_label(time, tz)}")


def _why_one_label(time: np.ndarray, tz: str) -> str:
    return (f"the log spans {iso(int(time.min()), tz)} .. {iso(int(time.max()), tz)}: move the split bounds "
            "(valid_start=, test_start=, or split_by='rows') so that each split holds both labels")


def _why_empty(time: np.ndarray, tz: str) -> str:
    u = np.unique(time)
    lo, hi = int(u[0]), int(u[-1])
    if len(u) > 1:
        gaps = np.diff(u)
        j = int(np.argmax(gaps))
        if gaps[j] > 0.5 * (hi - lo):
            before = int((time <= u[j]).sum())
            after = len(time) - before
            k, where = (before, "before") if before <= after else (after, "after")
            return (f"{k} row{'s lie' if k != 1 else ' lies'} far {where} the others (the times jump from "
                    f"{iso(int(u[j]), tz)} to {iso(int(u[j + 1]), tz)}, {100 * gaps[j] / (hi - lo):.0f} % of "
                    "the span the split fractions are taken of): a wrong or placeholder time (0 = 1970-01-01, "
                    "a default date, another unit)? Fix or drop those rows, or give explicit valid_start= and "
                    "test_start= (or split_by='rows').")
    return (f"The log spans {iso(lo, tz)} .. {iso(hi, tz)}; choose split bounds inside it "
            "(valid_start=, test_start=, test_end=, or valid_frac=/test_frac=).")


