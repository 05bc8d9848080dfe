"""RecBole atomic files as an impression log (``tacr.data.load("atomic", data_dir=..., dataset=...)``).

About forty public recommendation datasets are distributed in RecBole's atomic format
(https://recbole.io/atomic_files.html): a folder with ``<name>.inter`` (interactions) and
optionally ``<name>.item`` and ``<name>.user``. Each file is tab-separated, UTF-8, unquoted,
with a header of typed field names ``name:type``; the types are ``token`` (a categorical
value), ``token_seq`` (tokens joined by a space), ``float`` and ``float_seq``. Empty fields
are missing values. Example (``ml-100k.inter``)::

    user_id:token   item_id:token   rating:float    timestamp:float
    196             242             3               881250949

Mapping (every field name is a parameter of :func:`load_atomic`):

* user, item: ``user_id``, ``item_id`` (tokens, kept as written: ``01`` and ``1``, ``+101``
  and ``101`` are distinct, and a ``.item``/``.user`` row matches an id only as written;
  re-indexed 0..n-1 in raw-id order, canonical integer tokens sorted as numbers; raw ids in
  ``data.raw_ids``).
* time: ``timestamp`` (unix seconds, floored to whole seconds; read by :mod:`.times`'s rules:
  before 1990 is an error unless ``time_format`` says how to read it).
* label: the ``label`` field if present (0/1), else ``rating >= rating_threshold`` (default
  4): a rating below it is an observed negative. Every row is an impression at its time.
* category: the first token of an item ``token``/``token_seq`` field, ``category_field``;
  "auto" takes the first of :data:`CATEGORY_FIELDS` that the ``.item`` file holds, None (or
  no such field) puts every item in one category. Items without a value or without an
  ``.item`` row get the category "(none)".
* aux: user ``token`` fields of ``.user`` (default: all but the user id), coded 0 = missing,
  1..k = sorted distinct values; users without a ``.user`` row are all 0.
* No content features: ``items.raw`` is None (learned 50-d item-id embedding; :mod:`tacr.data.schema`).

Split by time as the other loaders (one :class:`~tacr.data.split.SplitSpec`). Malformed input
raises a :class:`DataError` through :func:`tacr.data.readers.bad` naming the file, the field
and the count of bad rows (missing file, header field without type or of an unknown type,
missing field, unparsable or empty values, labels outside {0, 1}).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import register
from .cache import cached
from .readers import (RAW_FEATURES_NONE, DataError, attach_ids, bad, code_column, header_names, ids_as_written,
                      read_csv, reindex)
from .schema import CTRData, Items, assemble, check_log
from .split import SplitSpec
from .times import to_unix_seconds

ATOMIC_TYPES = ("token", "token_seq", "float", "float_seq")
#: pyarrow type each atomic type is read as (sequences are split after reading).
ARROW_TYPES = {"token": pa.string(), "token_seq": pa.string(), "float": pa.float64(), "float_seq": pa.string()}
#: Item fields that "auto" takes as the category, first found wins (RecBole's datasets).
CATEGORY_FIELDS = ("class", "genre", "genres", "categories", "category", "category_id", "cate_id", "cat_id",
                   "categories_id")
NO_CATEGORY = "(none)"
FORMAT_URL = "https://recbole.io/atomic_files.html"


# ------------------------------------------------------------------------------------ header
def read_header(path) -> dict[str, str]:
    """``{field name: atomic type}`` of an atomic file, in file order.

    Raises :class:`DataError` (via :func:`bad`) for an empty file, a header field without a
    ``:type`` suffix, a type outside :data:`ATOMIC_TYPES` and a repeated field name.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise bad(path.name, "(header)", 1, "empty file: the first line must be a header of name:type fields")
    out: dict[str, str] = {}
    for raw in header_names(path, "\t", "utf8"):
        name, sep, typ = raw.rpartition(":")
        if not sep or not name:
            raise bad(path.name, raw, 1, f"header field {raw!r} has no type; atomic headers are name:type "
                                         f"with type one of {', '.join(ATOMIC_TYPES)} ({FORMAT_URL})")
        if typ not in ATOMIC_TYPES:
            raise bad(path.name, name, 1, f"header field {raw!r}: unknown type {typ!r}; "
                                          f"expected one of {', '.join(ATOMIC_TYPES)}")
        if name in out:
            raise bad(path.name, name, 1, "header field repeated")
        out[name] = typ
    return out


def read_atomic(path, fields: dict[str, "pa.DataType | None"], *, required=(), allowed_types=None) -> pd.DataFrame:
    """Read ``fields`` of an atomic file into a DataFrame whose columns are the plain names.

    Args:
        fields: field name -> pyarrow type to parse it as (None: the atomic type's default,
            :data:`ARROW_TYPES`; e.g. ``pa.int64()`` for integer tokens).
        required: fields that may not be empty.
        allowed_types: field name -> tuple of atomic types it may have (e.g. a category must
            be ``token`` or ``token_seq``).
    Raises :class:`DataError` naming the file, the field and the count of bad rows.
    """
    path = Path(path)
    header = read_header(path)
    for name in fields:
        if name not in header:
            raise bad(path.name, name, 0, f"field missing; the header has {[f'{n}:{t}' for n, t in header.items()]}")
        ok = (allowed_types or {}).get(name)
        if ok and header[name] not in ok:
            raise bad(path.name, name, 0, f"field has type {header[name]!r}, expected {' or '.join(ok)}")
    col = {name: f"{name}:{header[name]}" for name in fields}
    types = {col[n]: (t if t is not None else ARROW_TYPES[header[n]]) for n, t in fields.items()}
    table = read_csv(path, types, delimiter="\t", encoding="utf8", required=[col[n] for n in required])
    return table.rename_columns([n for n in fields]).to_pandas() if table.num_columns else pd.DataFrame()


def first_token(values: pd.Series, sep: str = " ") -> pd.Series:
    """The first token of each ``token_seq`` value (missing or blank -> None)."""
    s = values.astype("string").str.strip()
    first = s.str.split(sep, n=1).str[0].str.strip()
    return first.where(first.notna() & (first != ""), None).astype(object)


def find_inter(folder: Path, name: str | None) -> tuple[Path, str]:
    """The folder holding ``<name>.inter`` (``folder`` or its sub-folder ``<name>``) and the name;
    ``folder`` may also be the ``.inter`` file itself."""
    if folder.is_file():
        if folder.suffix != ".inter":
            raise bad(folder.name, "(file)", 0, "data_dir is a file, not a folder; give the folder holding "
                      f"<name>.inter (or the .inter file itself; {FORMAT_URL})")
        if name is not None and name != folder.stem:
            raise bad(folder.name, "(file)", 0, f"data_dir is {folder.name!r} but dataset={name!r}; give one of them")
        return folder.parent, folder.stem
    if name is not None:
        for d in (folder, folder / name):
            if (d / f"{name}.inter").is_file():
                return d, name
        raise bad(f"{name}.inter", "(file)", 0, f"file not found in {str(folder)!r} (nor in its sub-folder {name!r}); "
                  f"an atomic dataset is <name>.inter with optional <name>.item and <name>.user ({FORMAT_URL})")
    if not folder.is_dir():
        raise bad(str(folder), "(file)", 0, "data folder does not exist; give data_dir= a folder holding <name>.inter "
                  f"(optionally <name>.item, <name>.user; {FORMAT_URL})")
    inters = sorted(p for p in folder.iterdir() if p.suffix == ".inter" and p.is_file())
    if not inters:
        subs = sorted(p for p in folder.iterdir() if p.is_dir() and (p / f"{p.name}.inter").is_file())
        if len(subs) == 1:
            return subs[0], subs[0].name
        raise bad("*.inter", "(file)", 0, f"no .inter file in {str(folder)!r}"
                  + (f"; several datasets in sub-folders {[p.name for p in subs]}: give dataset=" if subs else
                     f"; an atomic dataset is <name>.inter with optional <name>.item and <name>.user ({FORMAT_URL})"))
    if len(inters) > 1:
        raise DataError(f"atomic: {str(folder)!r} holds several .inter files {[p.name for p in inters]}; give dataset=")
    return folder, inters[0].stem


# ------------------------------------------------------------------------------------ loader
@register("atomic")
def load_atomic(data_dir=None, *, split: SplitSpec = SplitSpec(), dataset: str | None = None,
                user_field: str = "user_id", item_field: str = "item_id", time_field: str = "timestamp",
                label_field: str = "label", rating_field: str = "rating", rating_threshold: float = 4,
                category_field: str | None = "auto", aux_fields="auto", seq_separator: str = " ",
                time_format: str = "auto", L: int = 10, cache: bool = True, cache_dir=None) -> CTRData:
    """Load a dataset in RecBole's atomic format; see the module docstring for the mapping.

    Args:
        data_dir: the folder holding ``<name>.inter`` (or its sub-folder ``<name>``), or the
            ``.inter`` file itself.
        split: the split and time zone (:class:`~tacr.data.split.SplitSpec`).
        dataset: the dataset's file stem, ``<dataset>.inter`` (default: the one ``.inter`` file
            in ``data_dir``); also its name in tables and caches.
        user_field, item_field, time_field: field names in ``.inter`` (and of the ids in
            ``.user``/``.item``).
        label_field: a 0/1 click field of ``.inter``, used when present.
        rating_field, rating_threshold: otherwise the lowest rating that counts as a click.
        category_field: an item token/token_seq field, its first token is the category;
            "auto" (see :data:`CATEGORY_FIELDS`) or None (one category).
        aux_fields: user token fields (list), "auto" (all but the user id) or () for none. The
            user field itself may be listed: the user id is then coded as an aux field (1 + user
            index), an opt-in per-user term (see :mod:`tacr.data.movielens`' ``user_id_aux``).
        seq_separator: the token separator of ``token_seq`` fields (RecBole's default: space).
        time_format: how the time field reads (:mod:`tacr.data.times`): "auto", "unix",
            "unix_ms" or "excel".
        L: history length. cache, cache_dir: see :mod:`tacr.data.cache`.
    """
    if data_dir is None:
        raise DataError("atomic: give data_dir= (a folder holding <name>.inter, optionally <name>.item, <name>.user)")
    folder, name = find_inter(Path(data_dir).expanduser(), dataset)
    files = {ext: folder / f"{name}.{ext}" for ext in ("inter", "item", "user") if (folder / f"{name}.{ext}").is_file()}
    options = dict(name=name, user_field=user_field, item_field=item_field, time_field=time_field,
                   label_field=label_field, rating_field=rating_field, rating_threshold=float(rating_threshold),
                   category_field=category_field,
                   aux_fields=aux_fields if isinstance(aux_fields, str) else list(aux_fields or ()),
                   seq_separator=seq_separator, time_format=time_format, L=L)
    return cached(f"atomic-{name}", options, split, list(files.values()), lambda: _build(files, split, **options),
                  data_dir=folder, enabled=cache, cache_dir=cache_dir)


def unix_seconds(t: pd.Series, src: str, field: str) -> np.ndarray:
    """Float unix times -> int64 seconds (floored); NaN/inf are bad rows."""
    v = t.to_numpy(dtype=np.float64)
    if (nb := int((~np.isfinite(v)).sum())):
        raise bad(src, field, nb, "time is not a finite number")
    return np.floor(v).astype(np.int64)


def click_labels(inter: pd.DataFrame, src: str, label_field: str | None, rating_field: str,
                 threshold: float) -> tuple[np.ndarray, str]:
    """(0/1 int8 labels, how they were made) from the label field or ``rating >= threshold``."""
    if label_field and label_field in inter:
        v = inter[label_field].to_numpy(dtype=np.float64)
        if (nb := int((~np.isin(v, (0.0, 1.0))).sum())):
            raise bad(src, label_field, nb, "label outside {0, 1}")
        return v.astype(np.int8), f"field {label_field!r}"
    v = inter[rating_field].to_numpy(dtype=np.float64)
    if (nb := int((~np.isfinite(v)).sum())):
        raise bad(src, rating_field, nb, "rating is not a finite number")
    return (v >= threshold).astype(np.int8), f"{rating_field} >= {threshold:g}"


def _build(files: dict[str, Path], split: SplitSpec, *, name, user_field, item_field, time_field, label_field,
           rating_field, rating_threshold, category_field, aux_fields, seq_separator, time_format, L) -> CTRData:
    inter_path = files["inter"]
    src = inter_path.name
    header = read_header(inter_path)
    label_from = label_field if label_field and label_field in header else None
    if label_from is None and rating_field not in header:
        raise bad(src, label_field or rating_field, 0,
                  f"no click field: neither {label_field!r} nor {rating_field!r} in the header "
                  f"{[f'{n}:{t}' for n, t in header.items()]} (set label_field= or rating_field=)")
    fields = {user_field: None, item_field: None, time_field: pa.float64(), (label_from or rating_field): pa.float64()}
    num_ok = ("float", "token")
    inter = read_atomic(inter_path, fields, required=list(fields),
                        allowed_types={time_field: num_ok, label_from or rating_field: num_ok})
    if len(inter) == 0:
        raise bad(src, user_field, 0, "no rows")
    label, label_rule = click_labels(inter, src, label_from, rating_field, rating_threshold)
    info: dict = {}
    t = to_unix_seconds(inter[time_field], time_format, split.tz, src, time_field, info)
    user, user_ids = reindex(ids_as_written(inter[user_field]))
    item, item_ids = reindex(ids_as_written(inter[item_field]))
    log = pd.DataFrame({"user": user, "item": item, "time": t, "label": label})
    check_log(log, src)
    info |= {"source": "recbole-atomic", "source_files": [p.name for p in files.values()],
             "label_rule": label_rule, "n_rows": int(len(log)), "n_users": int(len(user_ids)),
             "n_items": int(len(item_ids)), "n_clicks": int(label.sum()), "raw_features": RAW_FEATURES_NONE}

    category, cat_ids = _categories(files.get("item"), item_field, item_ids, category_field, seq_separator, info)
    user_aux, aux_sizes, aux_names = _aux(files.get("user"), user_field, user_ids, aux_fields, info)

    bounds = split.bounds(t)
    info |= split.info(bounds)
    data = assemble(name, log, Items(category=category, raw=None), user_aux, aux_sizes, L=L, tz=split.tz,
                    aux_names=aux_names, info=info, source=src, columns={"time": time_field}, **bounds)
    return attach_ids(data, user=user_ids, item=item_ids, category=cat_ids)


def _lookup(ids: np.ndarray, keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Position in ``ids`` of each key, matched as written (-1 = not there): ``0101`` in an
    ``.item`` file is not item ``101``."""
    written = pd.Index([str(v) for v in ids])
    pos = written.get_indexer(pd.Index(keys.astype("string").fillna("\0missing")))
    return pos, pos >= 0


def _categories(path, item_field, item_ids, category_field, sep, info) -> tuple[np.ndarray, np.ndarray]:
    n = len(item_ids)
    field = None
    if path is not None and category_field is not None:
        header = read_header(path)
        if category_field == "auto":
            field = next((f for f in CATEGORY_FIELDS if header.get(f) in ("token", "token_seq")), None)
        else:
            field = category_field
    elif category_field not in (None, "auto"):
        raise bad("(no .item file)", category_field, 0, "category_field given but the dataset has no .item file")
    if field is None:
        info["category_field"] = None
        info["n_categories"] = 1
        return np.zeros(n, dtype=np.int64), np.array(["all"], dtype=object)
    df = read_atomic(path, {item_field: None, field: pa.string()}, required=[item_field],
                     allowed_types={field: ("token", "token_seq")})
    info["n_item_rows_duplicated"] = int(len(df) - df[item_field].nunique()) if len(df) else 0
    df = df.drop_duplicates(item_field, keep="first")
    first = first_token(df[field], sep)
    pos, found = _lookup(item_ids, df[item_field])
    cat = np.full(n, None, dtype=object)
    cat[pos[found]] = first.to_numpy()[found]
    missing = pd.isna(cat)
    info |= {"category_field": field, "n_items_without_category": int(missing.sum()),
             "n_items_without_item_row": int(n - found.sum())}
    cat[missing] = NO_CATEGORY
    codes, cat_ids = reindex(cat.astype(str))
    info["n_categories"] = int(len(cat_ids))
    return codes, cat_ids


def _aux(path, user_field, user_ids, aux_fields, info) -> tuple[np.ndarray, list[int], list[str]]:
    n = len(user_ids)
    if aux_fields == "auto":
        names = [f for f, t in read_header(path).items() if t == "token" and f != user_field] if path else []
    else:
        names = list(aux_fields or ())
    if not names:
        return np.zeros((n, 0), dtype=np.int64), [], []
    from_file = [f for f in names if f != user_field]
    if from_file and path is None:
        raise bad("(no .user file)", from_file[0], 0, "aux_fields given but the dataset has no .user file")
    pos = found = df = None
    if from_file:
        df = read_atomic(path, {user_field: None} | {f: pa.string() for f in from_file}, required=[user_field],
                         allowed_types={f: ("token",) for f in from_file})
        info["n_user_rows_duplicated"] = int(len(df) - df[user_field].nunique()) if len(df) else 0
        df = df.drop_duplicates(user_field, keep="first")
        pos, found = _lookup(user_ids, df[user_field])
        info["n_users_without_profile"] = int(n - found.sum())
    user_aux = np.zeros((n, len(names)), dtype=np.int64)
    sizes = []
    for j, f in enumerate(names):
        if f == user_field:  # the user id itself as a field: code 1 + user index (opt-in, see load_atomic)
            user_aux[:, j] = 1 + np.arange(n)
            sizes.append(n + 1)
            info[f"aux_{f}"] = "user id coded as an aux field: 1 + user index"
            continue
        values = ids_as_written(df[f].where(df[f].astype("string").str.strip() != "", None))
        codes, vocab = code_column(values)
        user_aux[pos[found], j] = codes[found]
        sizes.append(len(vocab) + 1)
        info[f"aux_vocab_{f}"] = [v.item() if hasattr(v, "item") else v for v in vocab[:50]]
    return user_aux, sizes, names
