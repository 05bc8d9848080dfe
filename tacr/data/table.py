"""Any impression log as a dataset (the "my own data" path), and the reading helpers the
real-data loaders share.

``tacr.data.load("table", path=...)`` reads a parquet file, a CSV file, or a folder of either,
with one row per impression: user, item, time, label (1 = clicked, 0 = shown and not clicked)
and the item's category; optional user columns (categorical, coded per user) and item
raw-feature columns (numeric, constant per item -> ``items.raw``). Column names, the time
format and the split are parameters; see :func:`load_table`.

Helpers used by :mod:`.taobao` and :mod:`.movielens` too:

* :func:`read_csv` — pyarrow CSV reading with explicit types; every malformed input becomes a
  :class:`DataError` naming the file, the column and the count of bad rows (wrong number of
  fields, non-numeric or empty values), never a bare parser exception.
* :func:`require_files` — a missing or incomplete data folder lists every expected file and
  the official download page.
* :func:`split_bounds`, :func:`to_unix` — time splits from fractions of the time span, row
  quantiles or explicit dates in the data's time zone.
* :func:`code_column`, :func:`reindex` — categorical codes (0 = unknown) and 0..n-1 ids.
"""
from __future__ import annotations

import fnmatch
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import register
from .cache import cached
from .schema import CTRData, DataError, Items, assemble, check_log

#: Environment variable naming the folder that holds one sub-folder per dataset.
DATA_ENV = "TACR_DATA_DIR"
RAW_FEATURES_NONE = "none: the model learns a 50-d item-id embedding in the raw-feature slot (SPEC §1)"


# ------------------------------------------------------------------------------- errors, files
def bad(source: str, column: str, n_bad: int, what: str) -> DataError:
    """A :class:`DataError` in the one format: file, column, count of bad rows, what is wrong."""
    return DataError(f"{source}: column {column!r}: {n_bad} bad row{'s' if n_bad != 1 else ''}: {what}")


def resolve_data_dir(data_dir, default_sub: str) -> Path:
    """``data_dir`` if given, else ``$TACR_DATA_DIR/<default_sub>``, else ``./data/<default_sub>``."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    return Path(os.environ.get(DATA_ENV, "data")).expanduser() / default_sub


def require_files(data_dir: Path, files: dict[str, str], dataset: str, url: str,
                  subfolders: tuple[str, ...] = ()) -> tuple[Path, dict[str, Path]]:
    """Find every expected file in ``data_dir`` (or in one of its ``subfolders``, the name an
    archive unpacks to). Raise a :class:`DataError` listing all expected files, which are
    missing, and the download page."""
    data_dir = Path(data_dir)
    for d in [data_dir] + [data_dir / s for s in subfolders]:
        if all((d / f).is_file() for f in files):
            return d, {f: d / f for f in files}
    state = "does not exist" if not data_dir.exists() else (
        "is not a folder" if not data_dir.is_dir() else "is incomplete")
    lines = [f"{dataset}: data folder {str(data_dir)!r} {state}. Expected files:"]
    for f, what in files.items():
        mark = "ok     " if (data_dir / f).is_file() else "MISSING"
        lines.append(f"  [{mark}] {f}  ({what})")
    lines.append(f"Download from the official page: {url}")
    if subfolders:
        lines.append(f"and unpack it so that the files lie in {str(data_dir)!r} "
                     f"(or its sub-folder {subfolders[0]!r}).")
    raise DataError("\n".join(lines))


# --------------------------------------------------------------------------------------- CSV
_INT_RE = r"^\s*[+-]?[0-9]+\s*$"
_FLOAT_RE = r"^\s*[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|inf|Inf|INF|nan|NaN|NAN|infinity|Infinity)\s*$"


def _header(path: Path, delimiter: str, encoding: str) -> list[str]:
    with open(path, "rb") as fh:
        line = fh.readline()
    text = line.decode(encoding).rstrip("\r\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    return [c.strip().strip('"').strip() for c in text.split(delimiter)]


def read_csv(path, types: dict[str, "pa.DataType | None"], *, names: list[str] | None = None,
             delimiter: str = ",", encoding: str = "utf8", null_values=("",),
             required=None, quoting: bool = False) -> pa.Table:
    """Read the columns ``types`` (name -> pyarrow type, None = inferred) of a delimited file.

    Args:
        names: the column names of a file without a header; None = the first line is a header
            (names are stripped of surrounding spaces: Taobao's ``user_profile.csv`` ends its
            header with a space).
        delimiter: one character, or a longer separator such as MovieLens' ``::`` (the file
            is then rewritten in memory to a one-character separator).
        null_values: the texts read as missing (e.g. ``("", "NULL")`` for Taobao's brands).
        required: columns that may not be empty (default: all of ``types``).
        quoting: honour double quotes (generic CSV); off for the raw dataset formats, whose
            titles may contain a bare ``"``.

    Raises :class:`DataError` naming the file, the column and the count of bad rows for a
    missing column, rows with the wrong number of fields, values that do not parse as the
    column's type and empty required values.
    """
    path = Path(path)
    src = path.name
    required = list(types) if required is None else list(required)
    if names is None:
        header = _header(path, delimiter, encoding)
        skip = 1
    else:
        header, skip = list(names), 0
    missing = [c for c in types if c not in header]
    if missing:
        also = f" (also missing: {missing[1:]})" if len(missing) > 1 else ""
        raise DataError(f"{src}: column {missing[0]!r}: missing{also}; the header has {header}")

    source = path
    if len(delimiter) > 1:
        source = io.BytesIO(path.read_bytes().replace(delimiter.encode(encoding), b"\x1f"))
        delimiter = "\x1f"

    bad_rows: list = []

    def on_invalid(row):
        bad_rows.append((row.expected_columns, row.actual_columns, row.number, row.text))
        return "skip"

    def _read(column_types):
        if isinstance(source, io.BytesIO):
            source.seek(0)
        bad_rows.clear()
        null_list = list(null_values)
        conv = pacsv.ConvertOptions(
            column_types={c: t for c, t in column_types.items() if t is not None},
            include_columns=list(column_types), null_values=null_list,
            strings_can_be_null=True, quoted_strings_can_be_null=True)
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=skip, encoding=encoding,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"' if quoting else False,
                                             invalid_row_handler=on_invalid),
            convert_options=conv)

    try:
        table = _read(types)
        conversion_error = None
    except pa.ArrowInvalid as exc:
        table, conversion_error = None, exc
    except UnicodeDecodeError as exc:  # pragma: no cover - encoding given per dataset
        raise DataError(f"{src}: not {encoding} text: {exc}") from exc

    if conversion_error is not None:
        # Re-read every column as text to count the bad values of each typed column.
        try:
            text = _read({c: pa.string() for c in types})
        except pa.ArrowInvalid as exc:
            raise DataError(f"{src}: cannot parse: {exc}") from exc
        _raise_bad_rows(src, header, bad_rows)
        for col, typ in types.items():
            if typ is None or pa.types.is_string(typ) or pa.types.is_large_string(typ):
                continue
            n = _count_unparsable(text.column(col), typ)
            if n:
                first = _first_unparsable(text.column(col), typ)
                raise bad(src, col, n, f"not a valid {typ} value (e.g. {first!r})")
        raise DataError(f"{src}: cannot parse: {conversion_error}") from conversion_error

    _raise_bad_rows(src, header, bad_rows)
    for col in required:
        n = table.column(col).null_count
        if n:
            raise bad(src, col, n, "empty value")
    return table


def _raise_bad_rows(src: str, header: list[str], rows: list) -> None:
    if not rows:
        return
    expected, actual, number, text = rows[0]
    if actual < expected:
        col, what = header[actual], f"truncated row: {actual} of {expected} fields"
    else:
        col, what = header[-1], f"{actual} fields where {expected} are expected"
    where = f" at line {number}" if number is not None else ""
    raise bad(src, col, len(rows), f"wrong number of fields (first bad row{where}: {what}: {text!r})")


def _unparsable_mask(arr: pa.ChunkedArray, typ: pa.DataType) -> pa.ChunkedArray:
    valid = arr.is_valid()
    if pa.types.is_integer(typ):
        ok = pc.match_substring_regex(arr, _INT_RE)
    elif pa.types.is_floating(typ):
        ok = pc.match_substring_regex(arr, _FLOAT_RE)
    else:  # any other type: trust pyarrow's own cast, element by element is too slow
        return pc.and_(valid, pc.invert(valid))
    bad_mask = pc.and_kleene(valid, pc.invert(ok))
    if pa.types.is_integer(typ):  # out of the type's range
        info = np.iinfo(typ.to_pandas_dtype())
        nums = pc.cast(pc.if_else(bad_mask, "0", pc.utf8_trim_whitespace(pc.fill_null(arr, "0"))),
                       pa.float64())
        out = pc.or_(pc.less(nums, float(info.min)), pc.greater(nums, float(info.max)))
        bad_mask = pc.or_kleene(bad_mask, pc.and_kleene(valid, out))
    return bad_mask


def _count_unparsable(arr, typ) -> int:
    return int(pc.sum(pc.cast(_unparsable_mask(arr, typ), pa.int64())).as_py() or 0)


def _first_unparsable(arr, typ):
    mask = _unparsable_mask(arr, typ)
    idx = pc.indices_nonzero(pc.cast(mask.combine_chunks(), pa.int8()))
    return arr.combine_chunks()[idx[0].as_py()].as_py() if len(idx) else None


def column_numpy(table: pa.Table, col: str, dtype=None, fill=None) -> np.ndarray:
    """A column as numpy (nulls replaced by ``fill``)."""
    arr = table.column(col)
    if fill is not None and arr.null_count:
        arr = pc.fill_null(arr, pa.scalar(fill, arr.type))
    out = arr.to_numpy()
    return out if dtype is None else out.astype(dtype, copy=False)


# ------------------------------------------------------------------------------------ coding
def code_column(values, vocab=None) -> tuple[np.ndarray, np.ndarray]:
    """Categorical codes: 0 = missing or unknown, 1..k = position in the sorted vocabulary.

    ``vocab`` defaults to the sorted distinct non-missing ``values``. Returns (codes int64,
    vocab); the column's aux size is ``len(vocab) + 1``.
    """
    values = pd.Series(values)
    if vocab is None:
        vocab = pd.Index(pd.unique(values.dropna())).sort_values()
    else:
        vocab = pd.Index(vocab)
    codes = vocab.get_indexer(values) + 1  # -1 (missing / unknown) -> 0
    return codes.astype(np.int64), np.asarray(vocab)


def reindex(values) -> tuple[np.ndarray, np.ndarray]:
    """(index 0..n-1 int64, sorted distinct raw values) of an id column."""
    codes, uniques = pd.factorize(np.asarray(values), sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


def lookup_sorted(keys: np.ndarray, sorted_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``sorted_ids``, found mask) for each key."""
    if len(sorted_ids) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    pos = np.searchsorted(sorted_ids, keys)
    pos = np.minimum(pos, len(sorted_ids) - 1)
    return pos.astype(np.int64), sorted_ids[pos] == keys


# ------------------------------------------------------------------------------------- time
def to_unix(value, tz: str) -> int:
    """Unix seconds of an int (already unix seconds) or a date/datetime (naive = in ``tz``)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(np.floor(value))
    ts = pd.Timestamp(value)
    ts = ts.tz_localize(tz) if ts.tzinfo is None else ts
    return int(ts.timestamp())


def split_bounds(time: np.ndarray, *, tz: str = "UTC", valid_frac: float = 0.1, test_frac: float = 0.1,
                 split_by: str = "span", valid_start=None, test_start=None, test_end=None) -> dict:
    """(valid_start, test_start, test_end) unix seconds for :func:`tacr.data.schema.assemble`.

    Explicit bounds win (ints = unix seconds, strings = dates in ``tz``); otherwise the last
    ``test_frac`` of the time span is test and the ``valid_frac`` before it validation
    (``split_by="span"``), or the same fractions of the rows in time order (``"rows"``; a
    boundary falls between distinct seconds, so tied rows share a split). ``test_end`` None
    keeps everything from ``test_start`` on.
    """
    if split_by not in ("span", "rows"):
        raise ValueError(f"split_by must be 'span' or 'rows', got {split_by!r}")
    if not (0 < test_frac < 1 and 0 < valid_frac < 1 and valid_frac + test_frac < 1):
        raise ValueError(f"need 0 < valid_frac, test_frac and valid_frac + test_frac < 1; got {valid_frac}, {test_frac}")
    t = np.asarray(time, dtype=np.int64)
    t_min, t_max = int(t.min()), int(t.max())
    if split_by == "span":
        span = t_max - t_min + 1
        auto_test = t_min + int(np.floor((1 - test_frac) * span))
        auto_valid = t_min + int(np.floor((1 - test_frac - valid_frac) * span))
    else:
        ts = np.sort(t)
        auto_test = int(ts[min(int(np.floor((1 - test_frac) * len(ts))), len(ts) - 1)])
        auto_valid = int(ts[min(int(np.floor((1 - test_frac - valid_frac) * len(ts))), len(ts) - 1)])
    vs = auto_valid if valid_start is None else to_unix(valid_start, tz)
    ts_ = auto_test if test_start is None else to_unix(test_start, tz)
    te = None if test_end is None else to_unix(test_end, tz)
    if not vs <= ts_ or (te is not None and not ts_ < te):
        raise ValueError(f"split bounds must satisfy valid_start <= test_start < test_end; got {vs}, {ts_}, {te}")
    return {"valid_start": vs, "test_start": ts_, "test_end": te}


def iso(t: int | None, tz: str) -> str | None:
    return None if t is None else pd.Timestamp(int(t), unit="s", tz="UTC").tz_convert(tz).isoformat()


def split_info(bounds: dict, tz: str) -> dict:
    return {f"{k}_iso": iso(v, tz) for k, v in bounds.items()} | {k: v for k, v in bounds.items()}


def attach_ids(data: CTRData, **ids) -> CTRData:
    """Keep raw-id mappings on the dataset: ``data.raw_ids["user"][u]`` is user index u's raw
    id (likewise ``"item"``, ``"category"``, and e.g. ``"title"`` aligned with items)."""
    data.raw_ids = {k: np.asarray(v) for k, v in ids.items()}
    return data


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
