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
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import register
from .cache import cached
from .readers import (RAW_FEATURES_NONE, DataError, _header, attach_ids, bad, code_column, read_csv, reindex,
                      split_bounds, split_info)
from .schema import CTRData, Items, assemble, check_log


# ------------------------------------------------------------------------------------ table
def _data_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        pq_files = sorted(p for p in path.iterdir() if p.suffix in (".parquet", ".pq") and p.is_file())
        csv_files = sorted(p for p in path.iterdir() if p.name.endswith((".csv", ".tsv", ".csv.gz")) and p.is_file())
        if pq_files and csv_files:
            raise DataError(f"table: folder {str(path)!r} holds both parquet and CSV files; point path at one file")
        if pq_files or csv_files:
            return pq_files or csv_files
    raise DataError(
        f"table: {str(path)!r} is not a parquet/CSV file or a folder of them. Expected one row per "
        "impression with columns user, item, time, label, category (names configurable: user_col=, "
        "item_col=, time_col=, label_col=, category_col=), optional aux_cols= and raw_cols=.")


def _read_table_file(f: Path, cols: list[str], numeric: dict[str, pa.DataType], delimiter) -> pd.DataFrame:
    if f.suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        names = pq.read_schema(f).names
        missing = [c for c in cols if c not in names]
        if missing:
            also = f" (also missing: {missing[1:]})" if len(missing) > 1 else ""
            raise DataError(f"{f.name}: column {missing[0]!r}: missing{also}; the file has {names}")
        return pq.read_table(f, columns=cols).to_pandas()
    if f.name.endswith(".csv.gz"):
        raise DataError(f"{f.name}: compressed CSV is not supported; decompress it or convert to parquet")
    delim = delimiter or ("\t" if f.suffix == ".tsv" else ",")
    types = {c: numeric.get(c, pa.string()) for c in cols}
    table = read_csv(f, types, delimiter=delim, quoting=True, required=[])
    df = table.to_pandas()
    return df


def _expand_patterns(patterns, available: list[str]) -> list[str]:
    out: list[str] = []
    for p in ([patterns] if isinstance(patterns, str) else list(patterns or ())):
        hits = [c for c in available if fnmatch.fnmatchcase(c, p)] if any(ch in p for ch in "*?[") else [p]
        out += [h for h in hits if h not in out]
    return out


def _available_columns(files: list[Path], delimiter) -> list[str]:
    f = files[0]
    if f.suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_schema(f).names
    return _header(f, delimiter or ("\t" if f.suffix == ".tsv" else ","), "utf8")


def _maybe_int(values: pd.Series) -> pd.Series:
    """Text values that are all integers become int64 (nullable Int64 with gaps), so ids and
    codes sort numerically and keep their integer identity."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        s = values.astype("string")
        present = s.dropna()
        if len(present) and present.str.fullmatch(r"[+-]?\d{1,18}").all():
            return s.astype("Int64") if s.isna().any() else s.astype("int64")
    return values


def _time_to_unix(s: pd.Series, fmt: str, tz: str, src: str, col: str) -> np.ndarray:
    if fmt not in ("auto", "unix", "unix_ms", "datetime"):
        raise ValueError(f"time_format must be 'auto', 'unix', 'unix_ms' or 'datetime', got {fmt!r}")
    if pd.api.types.is_datetime64_any_dtype(s):
        if (nb := int(s.isna().sum())):
            raise bad(src, col, nb, "empty time")
        dt = s if s.dt.tz is not None else s.dt.tz_localize(tz)
        return (dt.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[s]").astype(np.int64)).to_numpy()
    if (nb := int(s.isna().sum())):
        raise bad(src, col, nb, "empty time")
    num = s.astype(np.float64) if pd.api.types.is_numeric_dtype(s) else pd.to_numeric(s, errors="coerce")
    n_text = int(num.isna().sum())
    if fmt == "auto":  # numbers are unix seconds, text is parsed as dates; a mix is an error
        fmt = "unix" if n_text < len(s) else "datetime"
    if fmt in ("unix", "unix_ms"):
        if n_text:
            first = s[num.isna()].iloc[0]
            raise bad(src, col, n_text, f"non-numeric time (time_format={fmt!r}; e.g. {first!r})")
        num = num.to_numpy(dtype=np.float64)
        if fmt == "unix_ms":
            num = num / 1000.0
        return np.floor(num).astype(np.int64)
    dt = pd.to_datetime(s.astype(str), errors="coerce", format="mixed")
    nb = int(dt.isna().sum())
    if nb:
        first = s[dt.isna()].iloc[0]
        raise bad(src, col, nb, f"not a parseable date/time (e.g. {first!r})")
    if dt.dt.tz is None:
        dt = dt.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        if (nb := int(dt.isna().sum())):
            raise bad(src, col, nb, f"ambiguous local time in {tz} (DST change); give UTC offsets")
    return (dt.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[s]").astype(np.int64)).to_numpy()


@register("table")
def load_table(path=None, *, data_dir=None, name: str = "table", user_col: str = "user", item_col: str = "item",
               time_col: str = "time", label_col: str = "label", category_col: str | None = "category",
               aux_cols=(), raw_cols=(), time_format: str = "auto", tz: str = "UTC",
               valid_frac: float = 0.1, test_frac: float = 0.1, split_by: str = "span",
               valid_start=None, test_start=None, test_end=None, L: int = 10,
               delimiter: str | None = None, cache: bool = True, cache_dir=None) -> CTRData:
    """Load an impression log (parquet, CSV, or a folder of either) in the canonical format.

    Args:
        path: the file or folder (``data_dir`` is accepted as a synonym).
        name: the dataset's name in tables and caches.
        user_col, item_col, time_col, label_col, category_col: column names. Ids may be any
            values (re-indexed 0..n-1; raw ids in ``data.raw_ids``). ``category_col=None``:
            every item in one category. An item whose category differs across rows is an error.
        aux_cols: user columns (categorical; names or glob patterns). Coded 0 = missing,
            1..k = sorted distinct values; a user's code is its latest non-missing value
            (users whose value changes are counted in ``info``).
        raw_cols: numeric item columns (names or glob patterns, e.g. ``"emb_*"``) -> ``items.raw``
            (float32); must be constant per item. None/empty: learned item-id embedding.
        time_format: "auto" (numbers are unix seconds, text is parsed as dates), "unix"
            (seconds), "unix_ms" or "datetime" (parseable text; naive times are in ``tz``).
            Timestamp-typed parquet columns are converted whatever the format.
        tz: the time zone of the time features (SPEC §1) and of naive dates.
        valid_frac, test_frac, split_by, valid_start, test_start, test_end: the split, see
            :func:`split_bounds` (default: last 10 % of the time span test, the 10 % before it
            validation).
        L: history length. cache, cache_dir: see :mod:`tacr.data.cache`.
        delimiter: CSV separator (default "," or tab for .tsv).
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
                  valid_start=valid_start, test_start=test_start, test_end=test_end, L=L, delimiter=delimiter)
    base = path if path.is_dir() else path.parent
    return cached(f"table-{name}", params, files, lambda: _build_table(files, **params),
                  data_dir=base, enabled=cache, cache_dir=cache_dir)


def _build_table(files: list[Path], *, name, user_col, item_col, time_col, label_col, category_col, aux_cols,
                 raw_cols, time_format, tz, valid_frac, test_frac, split_by, valid_start, test_start, test_end,
                 L, delimiter) -> CTRData:
    src = files[0].name if len(files) == 1 else f"{files[0].parent.name}/*{files[0].suffix}"
    available = _available_columns(files, delimiter)
    aux = _expand_patterns(aux_cols, available)
    raw = _expand_patterns(raw_cols, available)
    base = [user_col, item_col, time_col, label_col] + ([category_col] if category_col else [])
    cols = list(dict.fromkeys(base + aux + raw))
    numeric = {c: pa.float64() for c in raw}
    if time_format in ("unix", "unix_ms"):
        numeric[time_col] = pa.float64()  # CSV: a non-numeric time is counted by read_csv
    numeric[label_col] = pa.float64()
    frames = [_read_table_file(f, cols, numeric, delimiter) for f in files]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(df) == 0:
        raise DataError(f"{src}: no rows")

    for col in [user_col, item_col] + ([category_col] if category_col else []):
        if (nb := int(df[col].isna().sum())):
            raise bad(src, col, nb, "empty value")
    t = _time_to_unix(df[time_col], time_format, tz, src, time_col)
    lab = df[label_col]
    if lab.dtype == bool:
        lab = lab.astype(np.int64)
    lab = pd.to_numeric(lab, errors="coerce") if not pd.api.types.is_numeric_dtype(lab) else lab

    user_raw = _maybe_int(df[user_col])
    item_raw = _maybe_int(df[item_col])
    user, user_ids = reindex(user_raw)
    item, item_ids = reindex(item_raw)
    log = pd.DataFrame({"user": user, "item": item, "time": t, "label": lab})
    check_log(log, src)
    log["label"] = log["label"].astype(np.int8)
    n_items = len(item_ids)

    info: dict = {"source_files": [f.name for f in files], "n_rows": int(len(df)), "n_users": int(len(user_ids)),
                  "n_items": int(n_items), "n_clicks": int(log["label"].sum())}

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
                    aux_names=aux, info=info, source=src, **bounds)
    return attach_ids(data, user=user_ids, item=item_ids, category=cat_ids)
