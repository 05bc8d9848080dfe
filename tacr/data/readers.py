"""The reading helpers every real-data loader shares, and the one :class:`DataError` builder.

* :func:`bad` — a :class:`DataError` in the one format: source (file), column, count of bad
  rows, what is wrong. Every loader and :mod:`.schema` raise through it.
* :func:`read_csv` — pyarrow CSV reading with explicit types; every malformed input becomes a
  :class:`DataError` naming the file, the column and the count of bad rows (wrong number of
  fields, non-numeric or empty values, a repeated header name, text not in the file's
  encoding), never a bare parser exception. Compressed files (gzip, bz2, zstd) are read by
  their content, whatever their name; a UTF-16 file is recognised by its byte-order mark.
* :func:`read_parquet` — parquet reading whose errors (a damaged file, a missing, repeated or
  nested column) are :class:`DataError` too.
* :func:`check_unix_seconds`, :func:`check_splits` — times outside unix seconds (say, in
  milliseconds) and splits that come out empty, or without positives or negatives, as errors
  that name the file and the column and say why.
* :func:`require_files` — a missing or incomplete data folder lists every expected file and
  the official download page.
* :func:`split_bounds`, :func:`to_unix` — time splits from fractions of the time span, row
  quantiles or explicit dates in the data's time zone.
* :func:`code_column`, :func:`reindex` — categorical codes (0 = unknown) and 0..n-1 ids.
"""
from __future__ import annotations

import codecs
import io
import os
import re
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


_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\x28\xb5\x2f\xfd": "zstd"}
_UNSUPPORTED_MAGIC = {b"PK\x03\x04": "a zip archive", b"\xfd7zXZ\x00": "xz-compressed",
                      b"PAR1": "a parquet file"}
_UTF8 = ("utf8", "utf-8", "utf_8", "u8")


def compression_of(path) -> str | None:
    """The compression of a file by its first bytes ("gzip", "bz2", "zstd") or None; a zip or
    xz file (which pyarrow cannot stream) or a parquet file named like a CSV is a DataError."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    for magic, codec in _MAGIC.items():
        if head.startswith(magic):
            return codec
    for magic, what in _UNSUPPORTED_MAGIC.items():
        if head.startswith(magic):
            hint = "name it .parquet" if what == "a parquet file" else "unpack it (gzip, bz2 and zstd are read as they are)"
            raise DataError(f"{path.name}: is {what}, not delimited text: {hint}")
    return None


def _stream(path: Path, compression: str | None):
    return pa.input_stream(str(path), compression=compression)


def _head_bytes(path: Path, n: int = 1 << 16) -> bytes:
    with _stream(path, compression_of(path)) as fh:
        return fh.read(n)


def resolve_encoding(path, encoding: str | None = "utf8") -> str:
    """``encoding``, except that a UTF-16/32 byte-order mark at the start of a file asked for
    as UTF-8 (the default) wins: such files are read in the encoding their mark declares."""
    enc = "utf8" if encoding in (None, "auto") else encoding
    if enc.lower() in _UTF8:
        head = _head_bytes(Path(path), 4)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
    return enc


def _wide(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _header(path: Path, delimiter: str, encoding: str) -> list[str]:
    """The first line of a (possibly compressed) delimited file, split into names. A header
    that is not text in ``encoding`` is a DataError naming the field with the bad byte."""
    path = Path(path)
    head = _head_bytes(path)
    if _wide(encoding):  # no byte-wise line split for UTF-16/32
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head).split("\n", 1)[0]
        except UnicodeDecodeError as exc:
            raise DataError(f"{path.name}: column (header): 1 bad row: not {encoding} text ({exc.reason}); "
                            f"give the file's encoding, e.g. encoding='utf-8'") from exc
    else:
        line = head.split(b"\n", 1)[0]
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _encoding_error(path.name, line, delimiter, encoding, exc) from exc
    text = text.rstrip("\r\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    return [c.strip().strip('"').strip() for c in text.split(delimiter)]


def _encoding_error(src: str, line: bytes, delimiter: str, encoding: str, exc) -> DataError:
    field = line.decode(encoding, errors="backslashreplace")
    for raw in line.split(delimiter.encode("ascii", errors="ignore") or b","):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            field = raw.decode(encoding, errors="backslashreplace").strip().strip('"')
            break
    byte = line[exc.start:exc.start + 1]
    return DataError(f"{src}: column {field!r}: 1 bad row (the header): not {encoding} text "
                     f"(byte {byte!r} at position {exc.start}); re-save the file as UTF-8, or give its encoding "
                     f"(the table loader: encoding='latin-1', 'cp1252', ...)")


def _check_repeated(src: str, header: list[str], wanted) -> None:
    for col in wanted:
        n = header.count(col)
        if n > 1:
            where = [i + 1 for i, h in enumerate(header) if h == col]
            raise DataError(f"{src}: column {col!r}: repeated in the header ({n} times, at positions {where}); "
                            "rename all but one: which one is meant cannot be guessed")


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
    compression = compression_of(path)
    encoding = resolve_encoding(path, encoding)
    if names is None:
        header = _header(path, delimiter, encoding)
        skip = 1
    else:
        header, skip = list(names), 0
    missing = [c for c in types if c not in header]
    if missing:
        also = f" (also missing: {missing[1:]})" if len(missing) > 1 else ""
        raise DataError(f"{src}: column {missing[0]!r}: missing{also}; the header has {header}")
    _check_repeated(src, header, types)

    if len(delimiter) > 1:  # rewritten in memory to a one-character separator
        with _stream(path, compression) as fh:
            raw = fh.read().replace(delimiter.encode(encoding), b"\x1f")
        delimiter = "\x1f"
        open_source = lambda: io.BytesIO(raw)  # noqa: E731
    elif compression is not None:  # decompressed as it is read (each read opens it anew)
        open_source = lambda: _stream(path, compression)  # noqa: E731
    else:
        open_source = lambda: path  # noqa: E731

    bad_rows: list = []

    def on_invalid(row):
        bad_rows.append((row.expected_columns, row.actual_columns, row.number, row.text))
        return "skip"

    def _read(column_types):
        source = open_source()
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

    def _not_text(exc):
        # pyarrow says "invalid UTF8 data" without a row or a name: find the column and count
        try:
            binary = _read({c: pa.binary() for c in types})
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return DataError(f"{src}: not {encoding} text ({exc}); give the file's encoding to the loader, "
                             f"e.g. encoding='latin-1'")
        _raise_bad_rows(src, header, bad_rows)
        for col in types:
            values = binary.column(col).to_pylist()
            n_bad, first = 0, None
            for v in values:
                if v is not None:
                    try:
                        v.decode("utf-8")
                    except UnicodeDecodeError:
                        n_bad += 1
                        first = v if first is None else first
            if n_bad:
                return bad(src, col, n_bad, f"not {encoding} text (e.g. {first!r}); give the file's encoding "
                                            "to the loader, e.g. encoding='latin-1' (or 'cp1252')")
        return DataError(f"{src}: not {encoding} text ({exc}); give the file's encoding, e.g. encoding='latin-1'")

    try:
        table = _read(types)
        conversion_error = None
    except pa.ArrowInvalid as exc:
        if _is_utf8_error(exc):
            raise _not_text(exc) from exc
        table, conversion_error = None, exc
    except UnicodeDecodeError as exc:  # a transcoded (non-UTF-8) encoding that does not fit
        raise DataError(f"{src}: not {encoding} text ({exc.reason} at byte {exc.start}); "
                        f"give the file's encoding to the loader, e.g. encoding='utf-8' or 'latin-1'") from exc

    if conversion_error is not None:
        # Re-read every column as text to count the bad values of each typed column.
        try:
            text = _read({c: pa.string() for c in types})
        except pa.ArrowInvalid as exc:
            if _is_utf8_error(exc):
                raise _not_text(exc) from exc
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


def _is_utf8_error(exc) -> bool:
    return "utf8" in str(exc).lower().replace("-", "")


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


# ------------------------------------------------------------------------------------ parquet
def parquet_columns(path) -> list[str]:
    """The column names of a parquet file; a file that is not readable parquet is a DataError."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        return pq.read_schema(path).names
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{path.name}: not a readable parquet file ({type(exc).__name__}: {exc}); "
                        "is it damaged, truncated, or another format named .parquet?") from exc


def read_parquet(path, columns: list[str]) -> pa.Table:
    """``columns`` of a parquet file. A damaged file, a missing or repeated column and a nested
    column (list, struct, map: one value per row is needed) are DataErrors naming file and column."""
    import pyarrow.parquet as pq

    path = Path(path)
    src = path.name
    names = parquet_columns(path)
    missing = [c for c in columns if c not in names]
    if missing:
        also = f" (also missing: {missing[1:]})" if len(missing) > 1 else ""
        raise DataError(f"{src}: column {missing[0]!r}: missing{also}; the file has {names}")
    _check_repeated(src, names, columns)
    try:
        table = pq.read_table(path, columns=list(columns))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{src}: not a readable parquet file ({type(exc).__name__}: {exc}); "
                        "is it damaged or truncated?") from exc
    for col in columns:
        typ = table.schema.field(col).type
        if pa.types.is_nested(typ) or pa.types.is_dictionary(typ) and pa.types.is_nested(typ.value_type):
            n = len(table) - table.column(col).null_count
            raise bad(src, col, n, f"nested values ({typ}); one scalar value per row is needed "
                                   "(flatten or explode the column first)")
    return table


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
