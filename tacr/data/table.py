"""Any impression log as a dataset (the "my own data" path; user guide: ``docs/own-data.md``).

``tacr.data.load("table", path=...)`` reads a parquet file, a CSV file, or a folder of either,
with one row per impression: user, item, time, label (1 = clicked, 0 = shown and not clicked)
and the item's category; optional user columns (categorical, coded per user) and item
raw-feature columns (numeric, constant per item -> ``items.raw``). Column names and the time
format are options, the split one :class:`~tacr.data.split.SplitSpec`; see :func:`load_table`.
Times are read by :mod:`.times`, files by :mod:`.readers`; ids are kept as written
(:func:`~tacr.data.readers.ids_as_written`).
"""
from __future__ import annotations

import fnmatch
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import register
from .cache import cached
from .readers import (CUT_NOTE, RAW_FEATURES_NONE, DataError, attach_ids, bad, code_column, ends_without_newline,
                      header_names, ids_as_written, parquet_columns, read_csv, read_parquet, reindex, resolve_encoding)
from .schema import CTRData, Items, assemble, check_log
from .split import SplitSpec
from .times import to_unix_seconds

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


def _expand_patterns(patterns, available: list[str], src: str, option: str) -> list[str]:
    """Column names and glob patterns -> names; a pattern that matches no column is an error,
    as an exact name that is not in the file is."""
    out: list[str] = []
    for p in ([patterns] if isinstance(patterns, str) else list(patterns or ())):
        if not any(ch in p for ch in "*?["):
            hits = [p]
        else:
            hits = [c for c in available if fnmatch.fnmatchcase(c, p)]
            if not hits:
                folded = [c for c in available if fnmatch.fnmatch(c.lower(), p.lower())]
                hint = (f"; patterns are case-sensitive and {folded[:3]} differ only in case" if folded else
                        f"; the header has {available[:30]}")
                raise DataError(f"{src}: column {p!r}: {option} pattern {p!r} matches no column{hint}")
        out += [h for h in hits if h not in out]
    return out


def _available_columns(files: list[Path], delimiter, encoding) -> list[str]:
    f = files[0]
    if _is_parquet(f):
        return parquet_columns(f)
    return header_names(f, _delimiter(f, delimiter), resolve_encoding(f, encoding), quoting=True)


def _missing_text(values: pd.Series) -> pd.Series:
    """"NaN", "null", "None" (and empty) text as missing."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return values.where(~values.isin(MISSING_TEXT))
    return values


def _refuse_missing(values: pd.Series, files: list[Path], src: str, col: str, what: str) -> None:
    """A missing value is an error; when the last row is one and the last file ends without a
    line break, the error says the file looks cut off."""
    missing = values.isna().to_numpy()
    if not (nb := int(missing.sum())):
        return
    cut = missing[-1] and not _is_parquet(files[-1]) and ends_without_newline(files[-1])
    raise bad(src, col, nb, what + (CUT_NOTE if cut else ""))


def _labels(lab: pd.Series, src: str, col: str) -> pd.Series:
    """The label column as numbers in {0, 1}; non-numeric and other values are errors."""
    if lab.dtype == bool:
        return lab.astype(np.int64)
    num = pd.to_numeric(lab, errors="coerce") if not pd.api.types.is_numeric_dtype(lab) else lab
    if (nb := int(num.isna().sum())):
        raise bad(src, col, nb, f"label not a number (e.g. {lab[num.isna()].iloc[0]!r}); 1 = clicked, 0 = not")
    if (nb := int((~num.isin([0, 1])).sum())):
        raise bad(src, col, nb, f"label outside {{0, 1}} (e.g. {num[~num.isin([0, 1])].iloc[0]:g}); 1 = clicked, 0 = not")
    return num


@register("table")
def load_table(path=None, *, split: SplitSpec = SplitSpec(), data_dir=None, name: str = "table",
               user_col: str = "user", item_col: str = "item", time_col: str = "time", label_col: str = "label",
               category_col: str | None = "category", aux_cols=(), raw_cols=(), time_format: str = "auto",
               L: int = 10, delimiter: str | None = None, encoding: str = "utf8", cache: bool = True,
               cache_dir=None) -> CTRData:
    """Load an impression log (parquet, CSV, or a folder of either) in the canonical format.

    Args:
        path: the file or folder (``data_dir`` is accepted as a synonym).
        split: the split and time zone (:class:`~tacr.data.split.SplitSpec`; ``load`` builds it
            from ``valid_frac=``, ``test_frac=``, ``split_by=``, ``valid_start=``,
            ``test_start=``, ``test_end=``, ``tz=``). Default: the last 10 % of the time span
            test, the 10 % before it validation, UTC.
        name: the dataset's name in tables and caches.
        user_col, item_col, time_col, label_col, category_col: column names. Ids may be any
            values (re-indexed 0..n-1; raw ids in ``data.raw_ids``), kept as written: text ids
            become integers only when that loses nothing ("01" and "1" stay two users). An
            empty id, or one written ``NaN``/``null``/``None``, is an error. ``category_col=None``:
            every item in one category. An item whose category differs across rows is an error.
        aux_cols: user columns (categorical; names or glob patterns; the user column itself
            may be one). Coded 0 = missing, 1..k = sorted distinct values; a user's code is its
            latest non-missing value (users whose value changes are counted in ``info``).
        raw_cols: numeric item columns (names or glob patterns, e.g. ``"emb_*"``) -> ``items.raw``
            (float32); must be constant per item. None/empty: learned item-id embedding. A
            pattern that matches no column is an error (patterns are case-sensitive).
        time_format: "auto", "unix", "unix_ms", "excel", "datetime" or a strftime format such
            as ``"%d/%m/%Y %H:%M"``; the rules are :mod:`tacr.data.times`'.
        L: history length. cache, cache_dir: see :mod:`tacr.data.cache`.
        delimiter: CSV separator (default "," or tab for .tsv).
        encoding: of CSV files (default UTF-8; a UTF-16 byte-order mark is recognised). CSV
            files may be gzip-, bz2- or zstd-compressed (recognised by content, not name).

    Refused with a :class:`DataError` naming file, column and count of bad rows (besides
    malformed values): a repeated column name, labels outside {0, 1}, a quote left open, a log
    without positives or negatives, a split (train, valid, test) that is empty or holds one
    label only (its AUC would be undefined). Exact duplicate rows are kept, counted in
    ``info`` and warned about.
    """
    if path is not None and data_dir is not None and Path(path) != Path(data_dir):
        raise DataError(f"table: path={str(path)!r} and data_dir={str(data_dir)!r} differ; give one of them")
    path = path if path is not None else data_dir
    if path is None:
        raise DataError("table: give path= (a parquet/CSV file or a folder of them)")
    path = Path(path).expanduser()
    files = _data_files(path)
    options = dict(name=name, user_col=user_col, item_col=item_col, time_col=time_col, label_col=label_col,
                   category_col=category_col, aux_cols=list([aux_cols] if isinstance(aux_cols, str) else aux_cols),
                   raw_cols=list([raw_cols] if isinstance(raw_cols, str) else raw_cols or ()),
                   time_format=time_format, L=L, delimiter=delimiter, encoding=encoding)
    base = path if path.is_dir() else path.parent
    return cached(f"table-{name}", options, split, files, lambda: _build_table(files, split, **options),
                  data_dir=base, enabled=cache, cache_dir=cache_dir)


def _build_table(files: list[Path], split: SplitSpec, *, name, user_col, item_col, time_col, label_col,
                 category_col, aux_cols, raw_cols, time_format, L, delimiter, encoding) -> CTRData:
    src = files[0].name if len(files) == 1 else f"{files[0].parent.name}/*{files[0].suffix}"
    available = _available_columns(files, delimiter, encoding)
    aux = _expand_patterns(aux_cols, available, src, "aux_cols")
    raw = _expand_patterns(raw_cols, available, src, "raw_cols")
    ids = [user_col, item_col] + ([category_col] if category_col else [])
    cols = list(dict.fromkeys(ids + [time_col, label_col] + aux + raw))
    numeric = {c: pa.float64() for c in raw}
    if time_format in ("unix", "unix_ms", "excel"):
        numeric[time_col] = pa.float64()  # CSV: a non-numeric time is counted by read_csv
    numeric[label_col] = pa.float64()
    frames = [_read_table_file(f, cols, numeric, delimiter, encoding) for f in files]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(df) == 0:
        raise DataError(f"{src}: no rows")
    info: dict = {}

    for col in list(dict.fromkeys(ids + aux)):
        df[col] = _missing_text(df[col])
    for col in ids:
        _refuse_missing(df[col], files, src, col, "missing id (an empty field, or the text NaN / null / None)")
    _refuse_missing(df[time_col], files, src, time_col, "empty time")
    _refuse_missing(df[label_col], files, src, label_col, "empty label")
    t = to_unix_seconds(df[time_col], time_format, split.tz, src, time_col, info)
    lab = _labels(df[label_col], src, label_col)

    user, user_ids = reindex(ids_as_written(df[user_col]))
    item, item_ids = reindex(ids_as_written(df[item_col]))
    log = pd.DataFrame({"user": user, "item": item, "time": t, "label": lab})
    check_log(log, src)
    log["label"] = log["label"].astype(np.int8)
    n_items = len(item_ids)

    info |= {"source_files": [f.name for f in files], "n_rows": int(len(df)), "n_users": int(len(user_ids)),
             "n_items": int(n_items), "n_clicks": int(log["label"].sum())}
    keys = [user_col, item_col, time_col, label_col]
    n_dup = int(pd.DataFrame({"u": user, "i": item, "t": t, "l": log["label"].to_numpy()}).duplicated().sum())
    info["n_duplicate_rows"] = n_dup
    if n_dup:
        warnings.warn(f"{src}: {n_dup} row{'s' if n_dup != 1 else ''} repeat an earlier row's {', '.join(keys)} "
                      "exactly (kept; counted in info['n_duplicate_rows']): a file appended twice?", stacklevel=3)

    category, cat_ids = _categories(df, item, item_ids, category_col, src)
    info["n_categories"] = int(len(cat_ids))
    raw_mat = _raw_features(df, item, n_items, raw, src, info)
    user_aux, aux_sizes = _aux(df, user, len(user_ids), t, aux, info)

    bounds = split.bounds(t)
    info |= split.info(bounds)
    data = assemble(name, log, Items(category=category, raw=raw_mat), user_aux, aux_sizes, L=L, tz=split.tz,
                    aux_names=aux, info=info, source=src, columns={"time": time_col, "label": label_col}, **bounds)
    return attach_ids(data, user=user_ids, item=item_ids, category=cat_ids)


def _categories(df, item, item_ids, category_col, src) -> tuple[np.ndarray, np.ndarray]:
    """One category per item (codes 0..k-1, and the raw values); conflicting rows are an error."""
    n_items = len(item_ids)
    if not category_col:
        return np.zeros(n_items, dtype=np.int64), np.array(["all"])
    cat, cat_ids = reindex(ids_as_written(df[category_col]))
    per_item = pd.DataFrame({"item": item, "cat": cat})
    n_cat_per_item = per_item.groupby("item")["cat"].nunique()
    conflicting = n_cat_per_item.index[n_cat_per_item.to_numpy() > 1]
    if len(conflicting):
        rows = int(per_item["item"].isin(conflicting).sum())
        raise bad(src, category_col, rows, f"{len(conflicting)} item(s) carry more than one category (e.g. item "
                                           f"{item_ids[conflicting[0]]!r}); a category must be constant per item")
    category = np.zeros(n_items, dtype=np.int64)
    category[item] = cat
    return category, cat_ids


def _raw_features(df, item, n_items, raw, src, info) -> np.ndarray | None:
    """The raw feature matrix (float32), constant per item; None without raw columns."""
    if not raw:
        info["raw_features"] = RAW_FEATURES_NONE
        return None
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
    return raw_mat


def _aux(df, user, n_users, t, aux, info) -> tuple[np.ndarray, list[int]]:
    """User codes per aux column: each user's latest non-missing value (0 = missing)."""
    user_aux = np.zeros((n_users, len(aux)), dtype=np.int64)
    aux_sizes: list[int] = []
    if not aux:
        return user_aux, aux_sizes
    order = np.argsort(t, kind="stable")
    values = {c: ids_as_written(df[c]) for c in aux}
    by_user = pd.DataFrame({c: values[c].to_numpy()[order] for c in aux}).groupby(user[order], sort=True)
    last = by_user.last()
    info["n_users_aux_changed"] = int(by_user.nunique().gt(1).any(axis=1).sum())
    for j, c in enumerate(aux):
        _, vocab = code_column(values[c])
        user_aux[last.index.to_numpy(), j] = code_column(last[c], vocab)[0]
        aux_sizes.append(len(vocab) + 1)
        info[f"aux_vocab_{c}"] = [v.item() if hasattr(v, "item") else v for v in vocab[:50]]
    return user_aux, aux_sizes
