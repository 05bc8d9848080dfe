"""Times of an impression log as unix seconds: the rules every loader reads a time column by.

* Numbers (``time_format="auto"``) are unix seconds, or milliseconds when every value is one
  (noted in ``data.info["time_unit"]``); a mix of the two is an error. Times before 1990 are
  implausible for a click log (Excel serial days such as 45352.5, or small relative counters,
  would read as 1970) and are an error unless ``time_format`` says how to read them:
  ``"unix"`` / ``"unix_ms"`` (as they are), ``"excel"`` (days since 1899-12-30, in ``tz``).
* Text is parsed as dates and times. Naive times are in the split's ``tz``; a local time
  that a daylight-saving change skips or repeats is an error. Times with a UTC offset are
  converted to UTC, also when the offsets differ (a log crossing a daylight-saving change:
  ``+01:00`` then ``+02:00``; noted in ``data.info["time_offsets"]``). Times with and without
  an offset in one column are an error naming one example of each. Dates whose day and month
  cannot be told apart (``01/03/2024``, ``2024/01/03``) are an error unless ``time_format``
  gives the format (strftime, e.g. ``"%d/%m/%Y %H:%M"``).
* Timestamp columns (parquet) are converted; naive ones are in ``tz``. Durations are refused.
* Every time must lie in 1970-01-01 .. 2106-02-07 (the histories' unix seconds).
"""
from __future__ import annotations

import datetime as _dt
import re
import warnings

import numpy as np
import pandas as pd

from ..params import ParameterError
from .readers import bad

#: ``time_format`` values besides a strftime format (text holding ``%``).
TIME_FORMATS = ("auto", "unix", "unix_ms", "excel", "datetime")
#: 1990-01-01 00:00 UTC: numeric times before it are refused as implausible under "auto".
PLAUSIBLE_FROM = 631152000
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (with its 1900 leap-year quirk)


def check_time_format(value, name: str = "time_format") -> str:
    """One of :data:`TIME_FORMATS`, or a strftime format (text with ``%``) that can read what
    it writes."""
    if isinstance(value, str) and value in TIME_FORMATS:
        return value
    if isinstance(value, str) and "%" in value:
        sample = _dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=_dt.timezone.utc)
        try:
            _dt.datetime.strptime(sample.strftime(value), value)
        except ValueError as exc:
            raise ParameterError(f"{name}: {value!r} is not a usable strftime format ({exc}); e.g. "
                                 "'%d/%m/%Y %H:%M'") from None
        return value
    raise ParameterError(f"{name}: {value!r} is not a time format; accepted: {', '.join(map(repr, TIME_FORMATS))} "
                         "or a strftime format such as '%d/%m/%Y %H:%M'")


# -------------------------------------------------------------------------------- time checks
#: Unix seconds the histories and time features accept: 1970-01-01 .. 2106-02-07 (UTC).
T_LIMIT = 2**32
_MS_LOW = 1e11  # 1973-03-03 in milliseconds (5138 in seconds): the smallest value read as ms


def _date(seconds: float) -> str:
    try:
        return pd.Timestamp(float(seconds), unit="s").strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        return "beyond year 9999" if seconds > 0 else "before year 1"


def time_unit(values, source: str, column: str) -> str:
    """"s" when every value is a plausible unix time in seconds, "ms" when every value is one
    in milliseconds; otherwise a DataError naming the count (a mix of units, or values that
    are neither: say a row in year 3000)."""
    v = np.asarray(values, dtype=np.float64)
    sec = (v >= 0) & (v < T_LIMIT)
    if sec.all():
        return "s"
    ms = (v >= _MS_LOW) & (v < T_LIMIT * 1000.0)
    if ms.all():
        return "ms"
    n_s, n_ms = int(sec.sum()), int(ms.sum())
    if n_s and n_ms:
        few, which = (n_ms, "milliseconds") if n_ms <= n_s else (n_s, "seconds")
        eg = v[ms][0] if which == "milliseconds" else v[sec][0]
        raise bad(source, column, few,
                  f"unix times in {which} (e.g. {eg:.0f}) mixed with {max(n_s, n_ms)} in the other unit "
                  f"(seconds: {n_s}, milliseconds: {n_ms}); one unit per column: convert them, then give "
                  "time_format='unix' or 'unix_ms'")
    out = ~(sec | ms) if n_ms else ~sec
    return _range_error(v, out, source, column, "seconds" if not n_ms else "milliseconds")


def _range_error(v: np.ndarray, out: np.ndarray, source: str, column: str, unit: str):
    nb = int(out.sum())
    eg = float(v[out][0])
    neg = int((v[out] < 0).sum())
    if unit == "seconds" and np.all((v[out] >= _MS_LOW) & (v[out] < T_LIMIT * 1000.0)):
        hint = (f"they look like unix milliseconds ({eg:.0f} ms = {_date(eg / 1000)}): "
                "read them with time_format='unix_ms' (the table loader) or convert them to seconds")
    elif neg == nb:
        hint = f"negative unix times (before 1970-01-01; e.g. {eg:.0f})"
    else:
        scale = 1.0 if unit == "seconds" else 1000.0
        hint = (f"outside 1970-01-01 .. 2106-02-07 (e.g. {eg:.0f} {unit} = {_date(eg / scale)}); "
                "a wrong or placeholder time? fix or drop those rows")
    raise bad(source, column, nb, f"unix time in {unit} out of range: {hint}")


def check_unix_seconds(t, source: str, column: str, unit: str = "seconds") -> None:
    """Raise a DataError naming file, column and count when a time is not unix seconds in
    [0, 2**32) (1970 .. 2106), with a hint when the values look like milliseconds."""
    v = np.asarray(t)
    if v.size == 0:
        return
    lo, hi = v.min(), v.max()
    if lo >= 0 and hi < T_LIMIT:
        return
    v = v.astype(np.float64)
    _range_error(v, (v < 0) | (v >= T_LIMIT), source, column, unit)



# ------------------------------------------------------------------------------- a column
def to_unix_seconds(s: pd.Series, fmt: str, tz: str, src: str, col: str, info: dict | None = None) -> np.ndarray:
    """Unix seconds (int64) of a time column read by ``fmt`` (see the module docstring)."""
    info = {} if info is None else info
    if pd.api.types.is_timedelta64_dtype(s):
        raise bad(src, col, len(s), f"durations ({s.dtype}), not points in time: give timestamps, unix seconds "
                                    "or dates (a duration since what start?)")
    if (nb := int(s.isna().sum())):
        raise bad(src, col, nb, "empty time")
    if pd.api.types.is_datetime64_any_dtype(s):
        return _localized(s, tz, src, col)
    if isinstance(fmt, str) and "%" in fmt:
        text = s.astype(str)
        aware = "%z" in fmt or "%Z" in fmt
        dt = pd.to_datetime(text, errors="coerce", format=fmt, utc=aware)
        if (nb := int(dt.isna().sum())):
            raise bad(src, col, nb, f"does not match time_format={fmt!r} (e.g. {text[dt.isna()].iloc[0]!r})")
        return _localized(dt, tz, src, col)
    num = s.astype(np.float64) if pd.api.types.is_numeric_dtype(s) else pd.to_numeric(s, errors="coerce")
    n_text = int(num.isna().sum())
    if fmt == "auto":
        if n_text == len(s):
            return _text_times(s, tz, src, col, info)
        if n_text:
            raise bad(src, col, n_text, f"non-numeric time among numbers (e.g. {s[num.isna()].iloc[0]!r}); one "
                                        "kind per column: unix times, or dates")
        return _auto_numbers(num.to_numpy(dtype=np.float64), tz, src, col, info)
    if fmt == "datetime":
        return _text_times(s, tz, src, col, info)
    if n_text:
        raise bad(src, col, n_text, f"non-numeric time (time_format={fmt!r}; e.g. {s[num.isna()].iloc[0]!r})")
    v = _finite(num.to_numpy(dtype=np.float64), src, col)
    info.setdefault("time_unit", fmt)
    if fmt == "excel":
        return _excel(v, tz, src, col)
    if fmt == "unix_ms":
        return _unix_ms(v, src, col)
    check_unix_seconds(v, src, col)
    return np.floor(v).astype(np.int64)


def _finite(v: np.ndarray, src: str, col: str) -> np.ndarray:
    if (nb := int((~np.isfinite(v)).sum())):
        raise bad(src, col, nb, "time not finite")
    return v


def _auto_numbers(v: np.ndarray, tz: str, src: str, col: str, info: dict) -> np.ndarray:
    """Unix seconds or milliseconds, whichever every value is; before 1990 is an error."""
    v = _finite(v, src, col)
    unit = time_unit(v, src, col)
    sec = v / 1000.0 if unit == "ms" else v
    early = sec < PLAUSIBLE_FROM
    if early.any():
        raise bad(src, col, int(early.sum()), _implausible(v[early], sec[early], unit, len(v)))
    if unit == "ms":
        info["time_unit"] = "unix_ms (detected: every time is a plausible unix time in milliseconds)"
        warnings.warn(f"{src}: column {col!r}: every time is a unix time in milliseconds; read as such "
                      "(time_format='unix_ms' says so explicitly)", stacklevel=5)
        return np.floor(sec).astype(np.int64)
    info["time_unit"] = "unix"
    return np.floor(v).astype(np.int64)


def _implausible(v: np.ndarray, sec: np.ndarray, unit: str, n: int) -> str:
    eg, when = v[0], _date(sec[0])
    what = f"before 1990 as unix {'milliseconds' if unit == 'ms' else 'seconds'} (e.g. {eg:g} = {when})"
    if len(v) == n and unit == "s" and ((v > 20_000) & (v < 80_000)).all():
        day = EXCEL_EPOCH + pd.to_timedelta(float(eg), unit="D")
        return (f"{what}: they look like Excel serial days ({eg:g} = {day:%Y-%m-%d %H:%M}): give "
                "time_format='excel' (or 'unix' to read them as seconds since 1970 after all)")
    if len(v) == n:
        return (f"{what}: relative times (counted from a start of your own)? convert them to unix times, or give "
                "time_format='unix' to read them as seconds since 1970 after all")
    return (f"{what}, among {n - len(v)} later ones: a wrong or placeholder time (0 = 1970-01-01)? fix or drop "
            "those rows (time_format='unix' keeps them)")


def _unix_ms(v: np.ndarray, src: str, col: str) -> np.ndarray:
    if len(v) and ((v >= 1e8) & (v < T_LIMIT)).all():  # 1973 .. 2106 if seconds, Jan 1970 if ms
        raise bad(src, col, len(v), f"unix time in milliseconds out of range: every value reads as January 1970 "
                                    f"in milliseconds but as 1973 .. 2106 in seconds (e.g. {v[0]:.0f}): give "
                                    "time_format='unix' (or 'auto')")
    sec = v / 1000.0
    out = (sec < 0) | (sec >= T_LIMIT)
    if out.any():
        raise bad(src, col, int(out.sum()), f"unix time in milliseconds out of range (1970-01-01 .. 2106-02-07; "
                                            f"e.g. {v[out][0]:.0f})")
    return np.floor(sec).astype(np.int64)


def _excel(v: np.ndarray, tz: str, src: str, col: str) -> np.ndarray:
    out = (v < 1) | (v >= 2_958_466)  # Excel's range: 1900-01-01 .. 9999-12-31
    if out.any():
        raise bad(src, col, int(out.sum()), f"not an Excel serial day (1 .. 2958465; e.g. {v[out][0]:g})")
    dt = EXCEL_EPOCH + pd.to_timedelta(np.round(v * 86400.0), unit="s")
    return _localized(pd.Series(dt), tz, src, col)


# ------------------------------------------------------------------------------------ text
_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)\s*$", re.IGNORECASE)


def _text_times(s: pd.Series, tz: str, src: str, col: str, info: dict) -> np.ndarray:
    """Dates and times written as text; see the module docstring."""
    text = s.astype(str).str.strip()
    _ambiguous_dates(text, src, col)
    offset = text.str.extract(_OFFSET, expand=False)
    aware = offset.notna()
    if aware.any() and not aware.all():
        n_aware, n_naive = int(aware.sum()), int((~aware).sum())
        raise bad(src, col, min(n_aware, n_naive),
                  f"times with a UTC offset (e.g. {text[aware].iloc[0]!r}, {n_aware} rows) mixed with times without "
                  f"one (e.g. {text[~aware].iloc[0]!r}, {n_naive} rows): the zone of the latter cannot be known; "
                  f"give every time an offset, or none (naive times are read in tz={tz!r})")
    try:
        dt = pd.to_datetime(text, errors="coerce", format="mixed", utc=bool(aware.all()))
    except ValueError as exc:  # named zones pandas cannot reconcile
        raise bad(src, col, len(s), f"time zones mixed in one column ({exc}); give every time a UTC offset such "
                                    "as +01:00, or none (naive times are read in tz)") from None
    if (nb := int(dt.isna().sum())):
        raise bad(src, col, nb, f"not a parseable date/time (e.g. {s[dt.isna()].iloc[0]!r}); give time_format= as "
                                "a strftime format (e.g. '%d.%m.%Y %H:%M') or 'unix' / 'unix_ms' for numbers")
    if aware.all():
        kinds = sorted(set(offset.str.upper()))
        if len(kinds) > 1:
            info["time_offsets"] = (f"column {col!r}: {len(kinds)} UTC offsets ({', '.join(kinds[:6])}"
                                    f"{', ...' if len(kinds) > 6 else ''}), each time converted to UTC")
    return _localized(dt, tz, src, col)


_DAY_MONTH = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?!\d)(.*)$")
_YEAR_FIRST = re.compile(r"^\s*(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})(?!\d)(.*)$")


def _ambiguous_dates(text: pd.Series, src: str, col: str) -> None:
    """Refuse dates whose day and month cannot be told apart: d/m/y or m/d/y, and year-first
    dates written with ``/`` or ``.`` whose numbers are all <= 12 (y/m/d or y/d/m?), or whose
    middle number exceeds 12 somewhere (y/d/m). ISO dates (``2024-03-01``) are year-month-day."""
    hit = text.str.match(_DAY_MONTH)
    if hit.any():
        parts = text[hit].str.extract(_DAY_MONTH)
        first, second = parts[0].astype(int), parts[2].astype(int)
        sep, rest = parts[1].iloc[0], parts[4].iloc[0].strip()
        year = "%Y" if len(parts[3].iloc[0]) == 4 else "%y"
        fmt = lambda a, b: f"{a}{sep}{b}{sep}{year}{_clock(rest)}"  # noqa: E731
        raise bad(src, col, int(hit.sum()), "ambiguous dates (e.g. {!r}: day/month or month/day?); {}".format(
            text[hit].iloc[0], _which(text[hit], first, second, fmt("%d", "%m"), fmt("%m", "%d"))))
    hit = text.str.match(_YEAR_FIRST)
    if not hit.any():
        return
    parts = text[hit].str.extract(_YEAR_FIRST)
    middle, last = parts[2].astype(int), parts[3].astype(int)
    sep, rest = parts[1].iloc[0], parts[4].iloc[0].strip()
    fmt = lambda a, b: f"%Y{sep}{a}{sep}{b}{_clock(rest)}"  # noqa: E731
    if (middle > 12).any() or (sep != "-" and not (last > 12).any()):
        raise bad(src, col, int(hit.sum()), "ambiguous dates (e.g. {!r}: year/month/day or year/day/month?); {}".format(
            text[hit].iloc[0], _which(text[hit], middle, last, fmt("%d", "%m"), fmt("%m", "%d"))))


def _clock(rest: str) -> str:
    return (" %H:%M:%S" if re.match(r"^\d{1,2}:\d{2}:\d{2}", rest) else " %H:%M" if re.match(r"^\d{1,2}:\d{2}", rest)
            else "")


def _which(text: pd.Series, a: pd.Series, b: pd.Series, a_day: str, b_day: str) -> str:
    """The hint: which number is the day, where some value says so."""
    if (a > 12).any() and not (b > 12).any():
        return f"the values with a first number above 12 (e.g. {text[a > 12].iloc[0]!r}) say day first: " \
               f"time_format={a_day!r}"
    if (b > 12).any() and not (a > 12).any():
        return f"the values with a second number above 12 (e.g. {text[b > 12].iloc[0]!r}) say month first: " \
               f"time_format={b_day!r}"
    return f"give time_format={a_day!r} (day first) or {b_day!r} (month first)"


def _localized(dt: pd.Series, tz: str, src: str, col: str) -> np.ndarray:
    """Unix seconds of datetimes; naive ones are local times in ``tz`` (one a daylight-saving
    change skips or repeats is an error)."""
    if dt.dt.tz is None:
        local = dt.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        if (nb := int(local.isna().sum())):
            eg = dt[local.isna()].iloc[0]
            raise bad(src, col, nb, f"local time {eg} does not exist or is repeated in {tz} (a daylight-saving "
                                    "change); give UTC offsets (e.g. +01:00) or times in UTC with tz='UTC'")
        dt = local
    t = dt.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[s]").astype(np.int64).to_numpy()
    check_unix_seconds(t, src, col)
    return t
