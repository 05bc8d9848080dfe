"""An on-disk cache of assembled datasets, so real data is parsed and its histories built once.

:func:`cached` wraps a loader's build function. The assembled :class:`CTRData` is stored as
parquet in a folder keyed by

* the format version (:data:`FORMAT_VERSION`; bump it when this layout or a loader's output
  changes: every older entry then misses once and is rebuilt),
* the loader's name and its whole validated options (JSON, sorted keys) and its
  :class:`~tacr.data.split.SplitSpec`,
* each raw file's absolute path, size, modification time (ns) and a content hash (of the
  whole file up to :data:`HASH_WHOLE` bytes, else of :data:`HASH_BLOCKS` blocks spread over it),

so a changed raw file or option misses and rebuilds, also a file rewritten with its size and
modification time kept; the stale entries of the same loader, options and file paths are then
removed (moving the data folder also rebuilds). Layout of
``<root>/<name>-<options hash>-<files hash>/``::

    meta.json                       format version, key inputs, tz, aux names/sizes, info, sizes
    train.parquet valid.parquet test.parquet
        user, item, time int64; label int8; hist_item fixed_size_list<int32>[L];
        hist_time fixed_size_list<int64>[L]; hist_len int16; hist_id int64; p_click float32 (opt.);
        components fixed_size_list<float32>[K] (opt., the simulator's logit components)
    items.parquet                   category int64; raw fixed_size_list<float32>[d] (if any)
    users.parquet                   one int64 code column per aux field
    ids_<key>.parquet               raw-id mappings (``data.raw_ids``), column "id"

The root is ``cache_dir`` if given, else ``$TACR_CACHE_DIR``, else ``<data_dir>/.tacr_cache``
beside the raw files, falling back to ``$XDG_CACHE_HOME/tacr`` (``~/.cache/tacr``) when the
data folder is not writable. An entry is written to a temporary folder in the same root and
moved into place with one ``os.replace``, so readers never see a partial entry; ``meta.json``
is written last and marks a complete entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .schema import CTRData, Items, Split

FORMAT_VERSION = 2
#: Files up to this size are hashed whole; larger ones by HASH_BLOCKS blocks of HASH_BLOCK bytes.
HASH_WHOLE = 32 << 20
HASH_BLOCKS, HASH_BLOCK = 256, 16 << 10
CACHE_ENV = "TACR_CACHE_DIR"
CACHE_SUBDIR = ".tacr_cache"
#: Counters for tests and diagnostics: entries read, built (missed) and written.
STATS = {"hits": 0, "misses": 0, "writes": 0}

_SPLITS = ("train", "valid", "test")


# ----------------------------------------------------------------------------------- keying
def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, Path):
        return str(x)
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(_jsonable(obj), sort_keys=True).encode()).hexdigest()[:12]


def content_hash(path: Path, size: int) -> str:
    """A hash of the file's bytes: all of them up to :data:`HASH_WHOLE`, else evenly spread
    blocks (the first and the last included) and the size."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        if size <= HASH_WHOLE:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        else:
            for k in range(HASH_BLOCKS):
                fh.seek((size - HASH_BLOCK) * k // (HASH_BLOCKS - 1))
                h.update(fh.read(HASH_BLOCK))
    return h.hexdigest()


def file_stamp(files) -> list:
    """[absolute path, size, mtime_ns, content hash] of each raw file: the part of the key that
    a changed file changes."""
    out = []
    for f in files:
        p = Path(f).resolve()
        st = p.stat()
        out.append([str(p), st.st_size, st.st_mtime_ns, content_hash(p, st.st_size)])
    return out


def entry_name(name: str, options: dict, files, split=None) -> str:
    """``<name>-<hash of version, options, split, file paths>-<hash of the files' stamps>``:
    entries that differ only in the last part are older builds of the same files (pruned)."""
    stamp = file_stamp(files)
    pkey = _digest({"v": FORMAT_VERSION, "name": name, "options": options,
                    "split": None if split is None else split.key(), "paths": [s[0] for s in stamp]})
    fkey = _digest(stamp)
    return f"{_safe(name)}-{pkey}-{fkey}"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tacr"


def cache_roots(data_dir, cache_dir=None) -> list[Path]:
    """Candidate roots, preferred first."""
    if cache_dir is not None:
        return [Path(cache_dir).expanduser()]
    if os.environ.get(CACHE_ENV):
        return [Path(os.environ[CACHE_ENV]).expanduser()]
    roots = [] if data_dir is None else [Path(data_dir) / CACHE_SUBDIR]
    return roots + [user_cache_dir()]


# ------------------------------------------------------------------------------ entry point
def cached(name: str, options: dict, split, files, build, *, data_dir=None, enabled: bool = True,
           cache_dir=None) -> CTRData:
    """Return the cached dataset for (name, options, split, files) or ``build()`` it and store it.
    ``split`` is the loader's :class:`~tacr.data.split.SplitSpec` (None for a loader without one).

    ``enabled=False`` bypasses the cache (no read, no write). ``data.info["cache"]`` says
    "hit", "written", "unwritable" or "off"; ``data.info["cache_path"]`` where it lies.
    """
    if not enabled:
        data = build()
        data.info["cache"] = "off"
        return data
    entry = entry_name(name, options, files, split)
    roots = cache_roots(data_dir, cache_dir)
    for root in roots:
        folder = root / entry
        if (folder / "meta.json").is_file():
            try:
                data = load_entry(folder)
            except Exception as exc:  # a damaged entry: rebuild it
                warnings.warn(f"tacr cache: ignoring unreadable entry {folder}: {exc}")
                shutil.rmtree(folder, ignore_errors=True)
                continue
            STATS["hits"] += 1
            data.info["cache"] = "hit"
            data.info["cache_path"] = str(folder)
            return data
    STATS["misses"] += 1
    data = build()
    meta = {"name": name, "options": options, "split": None if split is None else split.key(),
            "files": file_stamp(files)}
    for root in roots:
        try:
            folder = save_entry(data, root, entry, meta)
        except OSError:
            continue
        STATS["writes"] += 1
        data.info["cache"] = "written"
        data.info["cache_path"] = str(folder)
        _prune(root, entry)
        return data
    warnings.warn(f"tacr cache: no writable cache folder among {[str(r) for r in roots]}; not cached")
    data.info["cache"] = "unwritable"
    return data


def _prune(root: Path, entry: str) -> None:
    """Remove the entries of the same loader and parameters built from older raw files."""
    prefix = entry.rsplit("-", 1)[0] + "-"
    for other in root.iterdir():
        if other.name.startswith(prefix) and other.name != entry and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)


# ------------------------------------------------------------------------------------ write
def _fsl(a: np.ndarray) -> pa.Array:
    """(N, k) numpy -> fixed_size_list<k> without nulls (zero-copy for contiguous input)."""
    a = np.ascontiguousarray(a)
    values = pa.array(a.reshape(-1))
    typ = pa.list_(pa.field("element", values.type, nullable=False), a.shape[1])
    return pa.FixedSizeListArray.from_arrays(values, type=typ)


def _write(columns: dict, path: Path) -> None:
    """Columns declared non-nullable (no definition levels to decode); snappy reads fastest."""
    arrays = {k: v if isinstance(v, pa.Array) else pa.array(v) for k, v in columns.items()}
    schema = pa.schema([pa.field(k, a.type, nullable=a.null_count > 0) for k, a in arrays.items()])
    pq.write_table(pa.table(arrays, schema=schema), path, compression="snappy", row_group_size=1 << 20)


def save_entry(data: CTRData, root: Path, entry: str, meta: dict) -> Path:
    """Write ``data`` to ``root/entry`` atomically; return the folder. Raises OSError when the
    root is not writable."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{entry}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    final = root / entry
    try:
        for split_name in _SPLITS:
            s = data.splits[split_name]
            cols = {"user": s.user, "item": s.item, "time": s.time, "label": s.label,
                    "hist_item": _fsl(s.hist_item), "hist_time": _fsl(s.hist_time),
                    "hist_len": s.hist_len, "hist_id": s.hist_id}
            if s.p_click is not None:
                cols["p_click"] = s.p_click
            if s.components is not None:
                cols["components"] = _fsl(np.asarray(s.components, dtype=np.float32))
            _write(cols, tmp / f"{split_name}.parquet")
        items = {"category": np.asarray(data.items.category)}
        if data.items.raw is not None:
            items["raw"] = _fsl(np.asarray(data.items.raw, dtype=np.float32))
        _write(items, tmp / "items.parquet")
        aux_cols = _aux_columns(data)
        _write({c: np.ascontiguousarray(data.user_aux[:, j]) for j, c in enumerate(aux_cols)} if aux_cols
               else {"_": np.zeros(data.n_users, dtype=np.int8)}, tmp / "users.parquet")
        raw_ids = getattr(data, "raw_ids", None) or {}
        for key, ids in raw_ids.items():
            ids = np.asarray(ids)
            _write({"id": pa.array(ids.tolist() if ids.dtype == object else ids)}, tmp / f"ids_{_safe(key)}.parquet")
        full_meta = {
            "format_version": FORMAT_VERSION, **meta, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "dataset": data.name, "tz": data.tz, "raw_dim": data.raw_dim, "aux_names": list(data.aux_names),
            "aux_sizes": list(data.aux_sizes), "aux_columns": aux_cols, "n_users": data.n_users,
            "n_items": len(data.items), "sizes": {k: len(s) for k, s in data.splits.items()},
            "raw_ids": {k: f"ids_{_safe(k)}.parquet" for k in raw_ids},
            "info": {k: v for k, v in data.info.items() if k not in ("cache", "cache_path")},
        }
        with open(tmp / "meta.json", "w") as fh:
            json.dump(_jsonable(full_meta), fh, indent=1, sort_keys=True)
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / "meta.json").is_file():  # not a concurrent writer's complete entry
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _aux_columns(data: CTRData) -> list[str]:
    F = data.user_aux.shape[1]
    names = [str(n) for n in data.aux_names]
    if len(names) == F and len(set(names)) == F and "_" not in names:
        return names
    return [f"aux_{j}" for j in range(F)]


# ------------------------------------------------------------------------------------- read
def _read_columns(path: Path, columns: list[str]):
    """Yield (name, numpy array) one column at a time, so peak memory stays near one copy."""
    pf = pq.ParquetFile(path)
    for c in columns:
        col = pf.read(columns=[c], use_threads=True).column(0)
        fixed = pa.types.is_fixed_size_list(col.type)
        if fixed or (col.null_count == 0 and (pa.types.is_integer(col.type) or pa.types.is_floating(col.type))):
            # copy chunk by chunk into one writable numpy array (no second full copy)
            dtype = (col.type.value_type if fixed else col.type).to_pandas_dtype()
            out = np.empty((len(col), col.type.list_size) if fixed else len(col), dtype=dtype)
            at = 0
            for chunk in col.chunks:
                n = len(chunk)
                if n:
                    vals = chunk.flatten() if fixed else chunk
                    out[at:at + n] = vals.to_numpy(zero_copy_only=False).reshape(out[at:at + n].shape)
                at += n
        else:
            out = col.to_numpy()
            if not out.flags.writeable:
                out = out.copy()
        del col
        yield c, out


def load_entry(folder: Path) -> CTRData:
    """Read a cache entry written by :func:`save_entry`."""
    folder = Path(folder)
    with open(folder / "meta.json") as fh:
        meta = json.load(fh)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format version {meta.get('format_version')} != {FORMAT_VERSION}")
    splits = {}
    for split_name in _SPLITS:
        path = folder / f"{split_name}.parquet"
        names = pq.read_schema(path).names
        cols = dict(_read_columns(path, names))
        splits[split_name] = Split(**{k: cols.get(k) for k in
                                      ("user", "item", "time", "label", "hist_item", "hist_time",
                                       "hist_len", "hist_id", "p_click", "components")})
        if len(splits[split_name]) != meta["sizes"][split_name]:
            raise ValueError(f"{split_name}: {len(splits[split_name])} rows, meta says {meta['sizes'][split_name]}")
    item_cols = dict(_read_columns(folder / "items.parquet", pq.read_schema(folder / "items.parquet").names))
    items = Items(category=item_cols["category"], raw=item_cols.get("raw"))
    aux_cols = meta["aux_columns"]
    if aux_cols:
        ucols = dict(_read_columns(folder / "users.parquet", aux_cols))
        user_aux = np.stack([ucols[c] for c in aux_cols], axis=1).astype(np.int64, copy=False)
    else:
        user_aux = np.zeros((meta["n_users"], 0), dtype=np.int64)
    data = CTRData(name=meta["dataset"], items=items, user_aux=user_aux, aux_sizes=tuple(meta["aux_sizes"]),
                   train=splits["train"], valid=splits["valid"], test=splits["test"], tz=meta["tz"],
                   raw_dim=meta["raw_dim"], aux_names=tuple(meta["aux_names"]), info=dict(meta["info"]))
    raw_ids = {}
    for key, fname in meta.get("raw_ids", {}).items():
        raw_ids[key] = pq.read_table(folder / fname).column("id").to_numpy(zero_copy_only=False)
    if raw_ids:
        data.raw_ids = raw_ids
    return data
