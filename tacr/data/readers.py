"""The reading helpers every real-data loader shares, and the one :class:`DataError` builder.

* :func:`bad` — a :class:`DataError` in the one format: source (file), column, count of bad
  rows, what is wrong. Every loader and :mod:`.schema` raise through it.
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

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv


class DataError(ValueError):
    """Malformed input data; the message names the source, the column and the bad-row count."""


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


def attach_ids(data, **ids):
    """Keep raw-id mappings on the dataset: ``data.raw_ids["user"][u]`` is user index u's raw
    id (likewise ``"item"``, ``"category"``, and e.g. ``"title"`` aligned with items)."""
    data.raw_ids = {k: np.asarray(v) for k, v in ids.items()}
    return data
