"""The reading helpers every real-data loader shares, and the one :class:`DataError` builder.

* :func:`bad` — a :class:`DataError` in the one format: source (file), column, count of bad
  rows, what is wrong. Every loader and :mod:`.schema` raise through it.
* :func:`read_csv` — pyarrow CSV reading with explicit types; every malformed input becomes a
  :class:`DataError` naming the file, the column and the count of bad rows (wrong number of
  fields, non-numeric or empty values, a repeated header name, text not in the file's
  encoding, a quote left open), never a bare parser exception and never a silent loss of
  rows: with quoting on, the rows read are checked against a plain count of the file's lines.
  Compressed files (gzip, bz2, zstd) are read by their content, whatever their name; a UTF-16
  file is recognised by its byte-order mark.
* :func:`header_names` — a file's header (quoted names may hold the delimiter).
* :func:`read_parquet` — parquet reading whose errors (a damaged file, a missing, repeated or
  nested column) are :class:`DataError` too.
* :func:`require_files` — a missing or incomplete data folder lists every expected file and
  the official download page.
* :func:`ids_as_written`, :func:`code_column`, :func:`reindex` — ids kept as written (text
  becomes integers only when nothing is lost), categorical codes (0 = unknown), 0..n-1 ids.

Time columns are read by :mod:`.times`, the split by :mod:`.split`. An error never quotes a
file that is not the delimited file asked for (a wrong path shows what is wrong, not its content).
"""
from __future__ import annotations

import codecs
import csv
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
RAW_FEATURES_NONE = "none: the model learns a 50-d item-id embedding in the raw-feature slot"


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


def header_names(path, delimiter: str, encoding: str, quoting: bool = False) -> list[str]:
    """The first line of a (possibly compressed) delimited file, split into names (with
    ``quoting``, a quoted name may hold the delimiter: ``"cat, level 3"`` is one name). A
    header that is not text in ``encoding`` is a DataError naming the field with the bad byte."""
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
    if quoting and len(delimiter) == 1:
        fields = next(csv.reader([text], delimiter=delimiter, quotechar='"', strict=False), [])
        return [c.strip() for c in fields]
    return [c.strip().strip('"').strip() for c in text.split(delimiter)]


def missing_columns(src: str, missing: list[str], header: list[str], delimiter: str) -> DataError:
    """The error of columns not in a header. A first line without the delimiter is not a
    header of a delimited file: the error then says so without quoting the line."""
    also = f" (also missing: {missing[1:]})" if len(missing) > 1 else ""
    if len(header) == 1:
        name = {",": "comma", ";": "semicolon", "|": "pipe", "\t": "tab"}.get(delimiter, repr(delimiter))
        return DataError(f"{src}: column {missing[0]!r}: missing{also}: the first line holds no {name} "
                         f"({delimiter!r}), so this is not a {name}-separated file with a header; is it the "
                         "right file? (another separator: give delimiter=)")
    shown = [h if len(h) <= 40 else h[:37] + "..." for h in header[:30]]
    more = f" and {len(header) - 30} more" if len(header) > 30 else ""
    return DataError(f"{src}: column {missing[0]!r}: missing{also}; the header has {shown}{more}")


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
            titles may contain a bare ``"``. With quoting, the rows read are checked against
            the file's non-empty lines (:func:`check_line_count`).

    Raises :class:`DataError` naming the file, the column and the count of bad rows for a
    missing column, rows with the wrong number of fields (a last line cut off is named so),
    values that do not parse as the column's type, empty required values and a quoted value
    that swallows line breaks.
    """
    path = Path(path)
    src = path.name
    required = list(types) if required is None else list(required)
    compression = compression_of(path)
    encoding = resolve_encoding(path, encoding)
    if names is None:
        header = header_names(path, delimiter, encoding, quoting)
        skip = 1
    else:
        header, skip = list(names), 0
    missing = [c for c in types if c not in header]
    if missing:
        raise missing_columns(src, missing, header, delimiter)
    _check_repeated(src, header, types)

    raw = None
    if len(delimiter) > 1:  # rewritten in memory to a one-character separator
        with _stream(path, compression) as fh:
            raw = fh.read().replace(delimiter.encode(encoding), b"\x1f")
        delimiter = "\x1f"
        open_source = lambda: io.BytesIO(raw)  # noqa: E731
    elif compression is not None:  # decompressed as it is read (each read opens it anew)
        open_source = lambda: _stream(path, compression)  # noqa: E731
    else:
        open_source = lambda: path  # noqa: E731
    open_bytes = (lambda: io.BytesIO(raw)) if raw is not None else (lambda: _stream(path, compression))  # noqa: E731

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
        if quoting:
            check_line_count(src, open_bytes, encoding, delimiter, header, text.num_rows + len(bad_rows) + skip)
        _raise_bad_rows(src, header, bad_rows, open_bytes, encoding)
        for col, typ in types.items():
            if typ is None or pa.types.is_string(typ) or pa.types.is_large_string(typ):
                continue
            n = _count_unparsable(text.column(col), typ)
            if n:
                first = _first_unparsable(text.column(col), typ)
                raise bad(src, col, n, f"not a valid {typ} value (e.g. {first!r})")
        raise DataError(f"{src}: cannot parse: {conversion_error}") from conversion_error

    if quoting:
        check_line_count(src, open_bytes, encoding, delimiter, header, table.num_rows + len(bad_rows) + skip)
    _raise_bad_rows(src, header, bad_rows, open_bytes, encoding)
    for col in required:
        n = table.column(col).null_count
        if n:
            raise bad(src, col, n, "empty value")
    return table


def _is_utf8_error(exc) -> bool:
    return "utf8" in str(exc).lower().replace("-", "")


def _raise_bad_rows(src: str, header: list[str], rows: list, open_bytes=None, encoding: str = "utf8") -> None:
    if not rows:
        return
    expected, actual, number, text = rows[0]
    if actual < expected:
        col, what = header[actual], f"truncated row: {actual} of {expected} fields"
    else:
        col, what = header[-1], f"{actual} fields where {expected} are expected"
    note = ""
    if number is None and open_bytes is not None:
        number, last, cut = _find_line(open_bytes, encoding, text)
        note = CUT_NOTE if cut and number == last else ""
    where = f" at line {number}" if number is not None else ""
    raise bad(src, col, len(rows), f"wrong number of fields (first bad row{where}: {what}: {text!r}){note}")


#: What a last line without a line end suggests when it is also a bad row.
CUT_NOTE = ("; the last bad row is the file's last line, which ends without a line break: the file looks cut off "
            "while being written (complete or drop that line)")
_BLANK = re.compile(rb"(?:^|(?<=\n))\r?\n")


def _lines(open_bytes, encoding: str):
    """The file's lines as text (error paths only: the whole file is decoded)."""
    with open_bytes() as fh:
        data = fh.read()
    return data.decode(encoding if _wide(encoding) else "utf-8", errors="replace").split("\n")


def _find_line(open_bytes, encoding: str, text: str) -> tuple[int | None, int, bool]:
    """(line number of the first line equal to ``text``, number of the last non-empty line,
    whether the file ends without a line break)."""
    lines = _lines(open_bytes, encoding)
    cut = lines[-1] != ""
    while lines and lines[-1].strip("\r") == "":
        lines.pop()
    found = next((j + 1 for j, ln in enumerate(lines) if ln.rstrip("\r") == text), None)
    return found, len(lines), cut


def ends_without_newline(path) -> bool:
    """Whether a (possibly compressed) file's last byte is not a line break: its last line may
    have been cut off while it was written."""
    path = Path(path)
    last = b""
    with _stream(path, compression_of(path)) as fh:
        while chunk := fh.read(1 << 24):
            last = chunk[-1:]
    return last not in (b"", b"\n")


def _count_lines(open_bytes, encoding: str) -> int:
    """Non-empty lines of a file (what a reader without quotes would take as rows)."""
    if _wide(encoding):
        return sum(1 for ln in _lines(open_bytes, encoding) if ln.strip("\r"))
    n, carry = 0, b""
    with open_bytes() as fh:
        while chunk := fh.read(1 << 24):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            block, carry = data[:cut], data[cut:]
            n += block.count(b"\n") - len(_BLANK.findall(block))
    return n + (1 if carry.strip(b"\r") else 0)


def check_line_count(src: str, open_bytes, encoding: str, delimiter: str, header: list[str], n_read: int) -> None:
    """Refuse a file whose rows read (header included) differ from its non-empty lines: a
    quote left open swallows the lines after it into one value, or a quoted value runs over
    several lines. The error names the line where the quoted value starts and the column."""
    n_lines = _count_lines(open_bytes, encoding)
    if n_lines == n_read:
        return
    text = "\n".join(_lines(open_bytes, encoding))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"', strict=False)
    prev = 0
    for record in reader:
        if reader.line_num - prev > 1 and record:
            start, end = prev + 1, reader.line_num
            j = next((i for i, v in enumerate(record) if "\n" in v), len(record) - 1)
            col = header[j] if j < len(header) else f"field {j + 1}"
            if end >= n_lines:
                raise bad(src, col, end - start + 1,
                          f"a quote opened at line {start} is never closed: the {end - start} line(s) after it were "
                          "read as part of one value; close or remove that quote")
            raise bad(src, col, end - start + 1,
                      f"a quoted value runs from line {start} to line {end}: a quote left open, or a line break "
                      "inside quotes; one impression per line is needed")
        prev = reader.line_num
    raise DataError(f"{src}: {n_read} rows read (with the header) but the file has {n_lines} non-empty lines; "
                    "check its quotes and line breaks")


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


_CANONICAL_INT = r"0|-?[1-9][0-9]{0,17}"


def ids_as_written(values: pd.Series) -> pd.Series:
    """Ids (or codes) kept as written. Text that is all integers written canonically (no
    leading zero, no "+", no "-0", no spaces) becomes int64 (nullable Int64 with gaps), so ids
    sort as numbers; any other text stays text: "01" and "1", "+101" and "101", "-0" and "0"
    remain distinct. Non-text columns are returned as they are."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        s = values.astype("string")
        present = s.dropna()
        if len(present) and present.str.fullmatch(_CANONICAL_INT).all():
            return s.astype("Int64") if s.isna().any() else s.astype("int64")
    return values


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


def attach_ids(data, **ids):
    """Keep raw-id mappings on the dataset: ``data.raw_ids["user"][u]`` is user index u's raw
    id (likewise ``"item"``, ``"category"``, and e.g. ``"title"`` aligned with items)."""
    data.raw_ids = {k: np.asarray(v) for k, v in ids.items()}
    return data
