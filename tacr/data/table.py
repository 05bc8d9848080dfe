"""Any impression log as a dataset (the "my own data" path).

``tacr.data.load("table", path=...)`` reads a parquet file, a CSV file, or a folder of either,
with one row per impression: user, item, time, label (1 = clicked, 0 = shown and not clicked)
and the item's category; optional user columns (categorical, coded per user) and item
raw-feature columns (numeric, constant per item -> ``items.raw``). Column names, the time
format and the split are parameters; see :func:`load_table`. The reading helpers it shares
with the other loaders live in :mod:`.readers`.
"""
from __future__ import annotations

import fnmatch
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import register
from .cache import cached
from .readers import (RAW_FEATURES_NONE, T_LIMIT, DataError, _header, attach_ids, bad, check_unix_seconds,
                      code_column, parquet_columns, read_csv, read_parquet, reindex, resolve_encoding, split_bounds,
                      split_info, time_unit)
from .schema import CTRData, Items, assemble, check_log


# ------------------------------------------------------------------------------------ table
_PARQUET = (".parquet", ".pq")
_TEXT = (".csv", ".tsv", ".txt")
_COMPRESSED = ("", ".gz", ".bz2", ".zst")
#: Texts read as missing in id, category and user columns (besides an empty field).
MISSING_TEXT = ("nan", "NaN", "NAN", "null", "NULL", "None")


def _is_parquet(f: Path) -> bool:
    return f.suffix.lower() in _PARQUET


def _is_text(f: Path) -> bool:
    return any(f.name.lower().endswith(t + c) for t in _TEXT for c in _COMPRESSED)


def _data_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        pq_files = sorted(p for p in path.iterdir() if _is_parquet(p) and p.is_file())
        csv_files = sorted(p for p in path.iterdir() if _is_text(p) and p.is_file())
        if pq_files and csv_files:
            raise DataError(f"table: folder {str(path)!r} holds both parquet and CSV files; point path at one file")
        if pq_files or csv_files:
            return pq_files or csv_files
    raise DataError(
        f"table: {str(path)!r} is not a parquet/CSV file or a folder of them. Expected one row per "
        "impression with columns user, item, time, label, category (names configurable: user_col=, "
        "item_col=, time_col=, label_col=, category_col=), optional aux_cols= and raw_cols=.")


def _delimiter(f: Path, delimiter) -> str:
    return delimiter or ("\t" if ".tsv" in f.name.lower() else ",")


def _read_table_file(f: Path, cols: list[str], numeric: dict[str, pa.DataType], delimiter, encoding) -> pd.DataFrame:
    if _is_parquet(f):
        return read_parquet(f, cols).to_pandas()
    types = {c: numeric.get(c, pa.string()) for c in cols}
    table = read_csv(f, types, delimiter=_delimiter(f, delimiter), encoding=encoding, quoting=True, required=[])
    return table.to_pandas()


def _expand_patterns(patterns, available: list[str]) -> list[str]:
    out: list[str] = []
    for p in ([patterns] if isinstance(patterns, str) else list(patterns or ())):
        hits = [c for c in available if fnmatch.fnmatchcase(c, p)] if any(ch in p for ch in "*?[") else [p]
        out += [h for h in hits if h not in out]
    return out


def _available_columns(files: list[Path], delimiter, encoding) -> list[str]:
    f = files[0]
    if _is_parquet(f):
        return parquet_columns(f)
    return _header(f, _delimiter(f, delimiter), resolve_encoding(f, encoding))


_LOSSLESS_INT = r"-?(0|[1-9][0-9]{0,17})"


def _maybe_int(values: pd.Series) -> pd.Series:
    """Text values that are all integers written canonically (no leading zeros, no "+", no
    spaces) become int64 (nullable Int64 with gaps), so ids and codes sort numerically. Any
    other text stays as written: "01" and "1" remain two ids."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        s = values.astype("string")
        present = s.dropna()
        if len(present) and present.str.fullmatch(_LOSSLESS_INT).all():
            return s.astype("Int64") if s.isna().any() else s.astype("int64")
    return values


def _missing_text(values: pd.Series) -> pd.Series:
    """"NaN", "null", "None" (and empty) text as missing."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return values.where(~values.isin(MISSING_TEXT))
    return values


_DAY_MONTH = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?!\d)(.*)$")


def _ambiguous_dates(s: pd.Series, src: str, col: str) -> None:
    """Refuse dates written d/m/y or m/d/y: which is the day cannot be read off the text."""
    text = s.astype(str)
    hit = text.str.match(_DAY_MONTH)
    if not hit.any():
        return
    parts = text.str.extract(_DAY_MONTH)
    first, second = parts.loc[hit, 0].astype(int), parts.loc[hit, 2].astype(int)
    sep = parts.loc[hit, 1].iloc[0]
    year = "%Y" if len(parts.loc[hit, 3].iloc[0]) == 4 else "%y"
    rest = parts.loc[hit, 4].iloc[0].strip()
    clock = (" %H:%M:%S" if re.match(r"^\d{1,2}:\d{2}:\d{2}", rest) else " %H:%M" if re.match(r"^\d{1,2}:\d{2}", rest)
             else "")
    day_first, month_first = f"%d{sep}%m{sep}{year}{clock}", f"%m{sep}%d{sep}{year}{clock}"
    if (first > 12).any() and not (second > 12).any():
        guess = f"the values with a first number above 12 (e.g. {text[hit][first > 12].iloc[0]!r}) say day first: " \
                f"time_format={day_first!r}"
    elif (second > 12).any() and not (first > 12).any():
        guess = f"the values with a second number above 12 (e.g. {text[hit][second > 12].iloc[0]!r}) say month " \
                f"first: time_format={month_first!r}"
    else:
        guess = f"give time_format={day_first!r} (day first) or {month_first!r} (month first)"
    raise bad(src, col, int(hit.sum()),
              f"ambiguous dates (e.g. {text[hit].iloc[0]!r}: day/month or month/day?); {guess}")


def _time_to_unix(s: pd.Series, fmt: str, tz: str, src: str, col: str, info: dict | None = None) -> np.ndarray:
    """Unix seconds of a time column; see :func:`load_table`'s ``time_format``."""
    info = {} if info is None else info
    strftime = isinstance(fmt, str) and "%" in fmt
    if not strftime and fmt not in ("auto", "unix", "unix_ms", "datetime"):
        raise ValueError(f"time_format must be 'auto', 'unix', 'unix_ms', 'datetime' or a strftime format "
                         f"such as '%d/%m/%Y %H:%M', got {fmt!r}")
    if pd.api.types.is_datetime64_any_dtype(s):
        if (nb := int(s.isna().sum())):
            raise bad(src, col, nb, "empty time")
        dt = s if s.dt.tz is not None else s.dt.tz_localize(tz)
        t = dt.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[s]").astype(np.int64).to_numpy()
        check_unix_seconds(t, src, col)
        return t
    if (nb := int(s.isna().sum())):
        raise bad(src, col, nb, "empty time")
    if strftime:
        fmt_used = fmt
        text = s.astype(str)
        dt = pd.to_datetime(text, errors="coerce", format=fmt)
        if (nb := int(dt.isna().sum())):
            first = text[dt.isna()].iloc[0]
            raise bad(src, col, nb, f"does not match time_format={fmt!r} (e.g. {first!r})")
        return _localized(dt, tz, src, col)
    num = s.astype(np.float64) if pd.api.types.is_numeric_dtype(s) else pd.to_numeric(s, errors="coerce")
    n_text = int(num.isna().sum())
    if fmt == "auto":  # numbers are unix seconds or milliseconds, text is parsed as dates; a mix is an error
        fmt = "unix" if n_text < len(s) else "datetime"
        if fmt == "unix" and not n_text:
            vals = num.to_numpy(dtype=np.float64)
            if (nb := int((~np.isfinite(vals)).sum())):
                raise bad(src, col, nb, "time not finite")
            if time_unit(vals, src, col) == "ms":
                fmt = "unix_ms"
                info["time_unit"] = "unix_ms (detected: every time is a plausible unix time in milliseconds)"
                warnings.warn(f"{src}: column {col!r}: every time is a unix time in milliseconds; read as such "
                              "(time_format='unix_ms' says so explicitly)", stacklevel=4)
    if fmt in ("unix", "unix_ms"):
        if n_text:
            first = s[num.isna()].iloc[0]
            raise bad(src, col, n_text, f"non-numeric time (time_format={fmt!r}; e.g. {first!r})")
        num = num.to_numpy(dtype=np.float64)
        if (nb := int((~np.isfinite(num)).sum())):
            raise bad(src, col, nb, "time not finite")
        if fmt == "unix_ms":
            if len(num) and ((num >= 1e8) & (num < T_LIMIT)).all():  # 1973 .. 2106 if seconds, Jan 1970 if ms
                raise bad(src, col, len(num), f"unix time in milliseconds out of range: every value reads as "
                                              f"January 1970 in milliseconds but as 1973 .. 2106 in seconds (e.g. "
                                              f"{num[0]:.0f}): give time_format='unix' (or 'auto')")
            num = num / 1000.0
            bad_ms = (num < 0) | (num >= T_LIMIT)
            if bad_ms.any():
                raise bad(src, col, int(bad_ms.sum()),
                          f"unix time in milliseconds out of range (1970-01-01 .. 2106-02-07; e.g. "
                          f"{num[bad_ms][0] * 1000:.0f})")
        else:
            check_unix_seconds(num, src, col)
        info.setdefault("time_unit", fmt)
        return np.floor(num).astype(np.int64)
    _ambiguous_dates(s, src, col)
    text = s.astype(str)
    dt = pd.to_datetime(text, errors="coerce", format="mixed")
    nb = int(dt.isna().sum())
    if nb:
        first = s[dt.isna()].iloc[0]
        raise bad(src, col, nb, f"not a parseable date/time (e.g. {first!r}); give time_format= as a strftime "
                                "format (e.g. '%d.%m.%Y %H:%M') or 'unix' / 'unix_ms' for numbers")
    return _localized(dt, tz, src, col)


def _localized(dt: pd.Series, tz: str, src: str, col: str) -> np.ndarray:
    if dt.dt.tz is None:
        dt = dt.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        if (nb := int(dt.isna().sum())):
            raise bad(src, col, nb, f"ambiguous local time in {tz} (DST change); give UTC offsets")
    t = (dt.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[s]").astype(np.int64)).to_numpy()
    check_unix_seconds(t, src, col)
    return t


def _labels(lab: pd.Series, src: str, col: str) -> pd.Series:
    """The label column as numbers in {0, 1}; empty, non-numeric and other values are errors."""
    if lab.dtype == bool:
        return lab.astype(np.int64)
    if (nb := int(lab.isna().sum())):
        raise bad(src, col, nb, "empty label")
    num = pd.to_numeric(lab, errors="coerce") if not pd.api.types.is_numeric_dtype(lab) else lab
    if (nb := int(num.isna().sum())):
        raise bad(src, col, nb, f"label not a number (e.g. {lab[num.isna()].iloc[0]!r}); 1 = clicked, 0 = not")
    if (nb := int((~num.isin([0, 1])).sum())):
        raise bad(src, col, nb, f"label outside {{0, 1}} (e.g. {num[~num.isin([0, 1])].iloc[0]:g}); 1 = clicked, 0 = not")
    return num


@register("table")
def load_table(path=None, *, data_dir=None, name: str = "table", user_col: str = "user", item_col: str = "item",
               time_col: str = "time", label_col: str = "label", category_col: str | None = "category",
               aux_cols=(), raw_cols=(), time_format: str = "auto", tz: str = "UTC",
               valid_frac: float = 0.1, test_frac: float = 0.1, split_by: str = "span",
               valid_start=None, test_start=None, test_end=None, L: int = 10,
               delimiter: str | None = None, encoding: str = "utf8", cache: bool = True, cache_dir=None) -> CTRData:
    """Load an impression log (parquet, CSV, or a folder of either) in the canonical format.

    Args:
        path: the file or folder (``data_dir`` is accepted as a synonym).
        name: the dataset's name in tables and caches.
        user_col, item_col, time_col, label_col, category_col: column names. Ids may be any
            values (re-indexed 0..n-1; raw ids in ``data.raw_ids``), kept as written: text ids
            become integers only when that loses nothing ("01" and "1" stay two users). An
            empty id, or one written ``NaN``/``null``/``None``, is an error. ``category_col=None``:
            every item in one category. An item whose category differs across rows is an error.
        aux_cols: user columns (categorical; names or glob patterns). Coded 0 = missing,
            1..k = sorted distinct values; a user's code is its latest non-missing value
            (users whose value changes are counted in ``info``).
        raw_cols: numeric item columns (names or glob patterns, e.g. ``"emb_*"``) -> ``items.raw``
            (float32); must be constant per item. None/empty: learned item-id embedding.
        time_format: "auto" (numbers are unix seconds, or milliseconds when every value is
            one: noted in ``info["time_unit"]``; text is parsed as dates), "unix" (seconds),
            "unix_ms", "datetime" (parseable text; naive times are in ``tz``), or a strftime
            format such as ``"%d/%m/%Y %H:%M"``. Day/month dates such as ``01/03/2024`` are
            refused unless a format says which number is the day. Timestamp-typed parquet
            columns are converted whatever the format. Times must lie in 1970 .. 2106.
        tz: the time zone of the time features (SPEC §1) and of naive dates.
        valid_frac, test_frac, split_by, valid_start, test_start, test_end: the split, see
            :func:`split_bounds` (default: last 10 % of the time span test, the 10 % before it
            validation).
        L: history length. cache, cache_dir: see :mod:`tacr.data.cache`.
        delimiter: CSV separator (default "," or tab for .tsv).
        encoding: of CSV files (default UTF-8; a UTF-16 byte-order mark is recognised). CSV
            files may be gzip-, bz2- or zstd-compressed (recognised by content, not name).

    Refused with a :class:`DataError` naming file, column and count of bad rows (besides
    malformed values): a repeated column name, labels outside {0, 1}, a log without positives
    or negatives, a split (train, valid, test) that is empty or holds one label only (its AUC
    would be undefined). Exact duplicate rows are kept, counted in ``info`` and warned about.
    """
    path = path if path is not None else data_dir
    if path is None:
        raise DataError("table: give path= (a parquet/CSV file or a folder of them)")
    path = Path(path).expanduser()
    files = _data_files(path)
    params = dict(name=name, user_col=user_col, item_col=item_col, time_col=time_col, label_col=label_col,
                  category_col=category_col, aux_cols=list([aux_cols] if isinstance(aux_cols, str) else aux_cols),
                  raw_cols=list([raw_cols] if isinstance(raw_cols, str) else raw_cols or ()),
                  time_format=time_format, tz=tz, valid_frac=valid_frac, test_frac=test_frac, split_by=split_by,
                  valid_start=valid_start, test_start=test_start, test_end=test_end, L=L, delimiter=delimiter,
                  encoding=encoding)
    base = path if path.is_dir() else path.parent
    return cached(f"table-{name}", params, files, lambda: _build_table(files, **params),
                  data_dir=base, enabled=cache, cache_dir=cache_dir)


def _build_table(files: list[Path], *, name, user_col, item_col, time_col, label_col, category_col, aux_cols,
                 raw_cols, time_format, tz, valid_frac, test_frac, split_by, valid_start, test_start, test_end,
                 L, delimiter, encoding="utf8") -> CTRData:
    src = files[0].name if len(files) == 1 else f"{files[0].parent.name}/*{files[0].suffix}"
    available = _available_columns(files, delimiter, encoding)
    aux = _expand_patterns(aux_cols, available)
    raw = _expand_patterns(raw_cols, available)
    base = [user_col, item_col, time_col, label_col] + ([category_col] if category_col else [])
    cols = list(dict.fromkeys(base + aux + raw))
    numeric = {c: pa.float64() for c in raw}
    if time_format in ("unix", "unix_ms"):
        numeric[time_col] = pa.float64()  # CSV: a non-numeric time is counted by read_csv
    numeric[label_col] = pa.float64()
    frames = [_read_table_file(f, cols, numeric, delimiter, encoding) for f in files]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(df) == 0:
        raise DataError(f"{src}: no rows")
    info: dict = {}

    for col in [user_col, item_col] + ([category_col] if category_col else []) + aux:
        df[col] = _missing_text(df[col])
    for col in [user_col, item_col] + ([category_col] if category_col else []):
        if (nb := int(df[col].isna().sum())):
            raise bad(src, col, nb, "missing id (an empty field, or the text NaN / null / None)")
    t = _time_to_unix(df[time_col], time_format, tz, src, time_col, info)
    lab = _labels(df[label_col], src, label_col)

    user_raw = _maybe_int(df[user_col])
    item_raw = _maybe_int(df[item_col])
    user, user_ids = reindex(user_raw)
    item, item_ids = reindex(item_raw)
    log = pd.DataFrame({"user": user, "item": item, "time": t, "label": lab})
    check_log(log, src)
    log["label"] = log["label"].astype(np.int8)
    n_items = len(item_ids)

    info |= {"source_files": [f.name for f in files], "n_rows": int(len(df)), "n_users": int(len(user_ids)),
             "n_items": int(n_items), "n_clicks": int(log["label"].sum())}
    keys = [user_col, item_col, time_col, label_col] + ([category_col] if category_col else [])
    n_dup = int(pd.DataFrame({"u": user, "i": item, "t": t, "l": log["label"].to_numpy()}).duplicated().sum())
    info["n_duplicate_rows"] = n_dup
    if n_dup:
        warnings.warn(f"{src}: {n_dup} row{'s' if n_dup != 1 else ''} repeat an earlier row's {', '.join(keys[:4])} "
                      "exactly (kept; counted in info['n_duplicate_rows']): a file appended twice?", stacklevel=3)

    # category: one per item
    if category_col:
        cat_raw = _maybe_int(df[category_col])
        cat, cat_ids = reindex(cat_raw)
        per_item = pd.DataFrame({"item": item, "cat": cat})
        n_cat_per_item = per_item.groupby("item")["cat"].nunique()
        conflicting = n_cat_per_item.index[n_cat_per_item.to_numpy() > 1]
        if len(conflicting):
            rows = int(per_item["item"].isin(conflicting).sum())
            ex = item_ids[conflicting[0]]
            raise bad(src, category_col, rows,
                      f"{len(conflicting)} item(s) carry more than one category (e.g. item {ex!r}); "
                      "a category must be constant per item")
        category = np.zeros(n_items, dtype=np.int64)
        category[item] = cat
    else:
        category, cat_ids = np.zeros(n_items, dtype=np.int64), np.array(["all"])
    info["n_categories"] = int(len(cat_ids))

    # raw features: constant per item
    raw_mat = None
    if raw:
        vals = df[raw].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
        for j, c in enumerate(raw):
            if (nb := int((~np.isfinite(vals[:, j])).sum())):
                raise bad(src, c, nb, "raw feature missing, non-numeric or not finite")
        first = np.full(n_items, -1, dtype=np.int64)
        order = np.arange(len(item))[::-1]
        first[item[order]] = order  # smallest row index per item wins
        raw_mat = vals[first].astype(np.float32)
        diff = (raw_mat[item] != vals.astype(np.float32)).any(axis=1)
        if (nb := int(diff.sum())):
            j = int(np.flatnonzero((raw_mat[item] != vals.astype(np.float32))[diff][0])[0])
            raise bad(src, raw[j], nb, "raw features differ across rows of the same item; they must be constant per item")
        info["raw_features"] = f"{len(raw)} columns: {raw[:5]}{' ...' if len(raw) > 5 else ''}"
    else:
        info["raw_features"] = RAW_FEATURES_NONE

    # aux: latest non-missing value per user
    n_users = len(user_ids)
    user_aux = np.zeros((n_users, len(aux)), dtype=np.int64)
    aux_sizes = []
    if aux:
        order = np.argsort(t, kind="stable")
        frame = pd.DataFrame({"user": user[order]})
        aux_values = {c: _maybe_int(df[c]) for c in aux}
        for c in aux:
            frame[c] = aux_values[c].to_numpy()[order]
        last = frame.groupby("user", sort=True)[aux].last()
        changed = frame.groupby("user")[aux].nunique().gt(1).any(axis=1)
        info["n_users_aux_changed"] = int(changed.sum())
        for j, c in enumerate(aux):
            codes, vocab = code_column(aux_values[c])
            col = np.zeros(n_users, dtype=np.int64)
            col[last.index.to_numpy()] = code_column(last[c], vocab)[0]
            user_aux[:, j] = col
            aux_sizes.append(len(vocab) + 1)
            info[f"aux_vocab_{c}"] = [v.item() if hasattr(v, "item") else v for v in vocab[:50]]

    bounds = split_bounds(t, tz=tz, valid_frac=valid_frac, test_frac=test_frac, split_by=split_by,
                          valid_start=valid_start, test_start=test_start, test_end=test_end)
    info |= split_info(bounds, tz)
    data = assemble(name, log, Items(category=category, raw=raw_mat), user_aux, aux_sizes, L=L, tz=tz,
                    aux_names=aux, info=info, source=src, columns={"time": time_col, "label": label_col}, **bounds)
    return attach_ids(data, user=user_ids, item=item_ids, category=cat_ids)
