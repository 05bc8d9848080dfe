"""The canonical CTR data format: :class:`CTRData`, :class:`Split`, :class:`DataError`.

Every loader returns a :class:`CTRData`. A split is a set of aligned numpy arrays, one row per
impression, holding item *indices* (features live once in ``CTRData.items``). Histories are
built by :func:`tacr.data.history.build_histories` and validated here.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from .history import TIME_FEATURE_SIZES, Histories, build_histories
from .readers import DataError, bad
from .split import check_splits
from .times import check_unix_seconds


SPLIT_ARRAYS = ("user", "item", "time", "label", "hist_item", "hist_time", "hist_len", "hist_id")


@dataclass(repr=False)
class Split:
    """One time-ordered slice of impressions. All arrays share the first axis N."""

    user: np.ndarray  # (N,) int64
    item: np.ndarray  # (N,) int64
    time: np.ndarray  # (N,) int64 unix seconds
    label: np.ndarray  # (N,) int8 in {0, 1}
    hist_item: np.ndarray  # (N, L) int32, PAD after hist_len
    hist_time: np.ndarray  # (N, L) int64, PAD after hist_len
    hist_len: np.ndarray  # (N,) int16
    hist_id: np.ndarray  # (N,) int64, equal <=> identical history, -1 empty
    p_click: np.ndarray | None = None  # (N,) float32 true click probability (simulator only)
    components: np.ndarray | None = None  # (N, K) float32 logit components (simulator only; names in info)

    def __len__(self) -> int:
        return len(self.label)

    @property
    def L(self) -> int:
        return self.hist_item.shape[1]

    @property
    def n_pos(self) -> int:
        return int(self.label.sum())

    def describe(self, tz: str = "UTC") -> dict:
        """Rows, users, items, clicks, CTR and time span, as one summary line's fields."""
        n = len(self)
        span = (_when(self.time.min(), tz), _when(self.time.max(), tz)) if n else ("", "")
        return {"rows": n, "users": int(len(np.unique(self.user))), "items": int(len(np.unique(self.item))),
                "clicks": self.n_pos, "CTR (%)": 100.0 * self.n_pos / max(n, 1), "from": span[0], "to": span[1]}

    def __repr__(self) -> str:
        d = self.describe()
        return (f"Split({d['rows']:,} rows, {d['users']:,} users, {d['items']:,} items, {d['clicks']:,} clicks, "
                f"CTR {d['CTR (%)']:.3f} %, {d['from']} .. {d['to']} UTC, L={self.L})")

    def subset(self, rows) -> "Split":
        return Split(**{f.name: (None if getattr(self, f.name) is None else getattr(self, f.name)[rows])
                        for f in fields(self)})

    @classmethod
    def from_rows(cls, user, item, time, label, hist: Histories, p_click=None, components=None) -> "Split":
        return cls(
            user=np.asarray(user, dtype=np.int64),
            item=np.asarray(item, dtype=np.int64),
            time=np.asarray(time, dtype=np.int64),
            label=np.asarray(label, dtype=np.int8),
            hist_item=hist.hist_item,
            hist_time=hist.hist_time,
            hist_len=hist.hist_len,
            hist_id=hist.hist_id,
            p_click=None if p_click is None else np.asarray(p_click, dtype=np.float32),
            components=None if components is None else np.asarray(components, dtype=np.float32),
        )


@dataclass
class Items:
    """Per-item features: ``raw`` (n_items, raw_dim) float32 or None (learn an id embedding)."""

    category: np.ndarray  # (n_items,) int64
    raw: np.ndarray | None = None  # (n_items, raw_dim) float32

    def __len__(self) -> int:
        return len(self.category)


@dataclass(frozen=True)
class DataSpec:
    """Sizes a model needs to be built; no arrays."""

    n_items: int
    n_categories: int
    raw_dim: int = 50
    has_raw_features: bool = True
    aux_sizes: tuple[int, ...] = ()
    history_len: int = 10
    time_sizes: tuple[int, ...] = TIME_FEATURE_SIZES


@dataclass(repr=False)
class CTRData:
    """A dataset in the canonical format; see the module docstring."""

    name: str
    items: Items
    user_aux: np.ndarray  # (n_users, n_fields) int64 codes, one column per attribute
    aux_sizes: tuple[int, ...]  # cardinality of each aux column
    train: Split
    valid: Split
    test: Split
    tz: str = "UTC"
    raw_dim: int = 50
    aux_names: tuple[str, ...] = ()
    info: dict = field(default_factory=dict)  # loader notes: cleaning counts, oracle AUC, ...
    #: How to load it again, ``{"name": dataset, "params": options}``: ``tacr.data.load(name,
    #: **params)`` returns the same data. Set by :func:`tacr.data.load` on the object it returns;
    #: None for data built otherwise (not a dataclass field: ``dataclasses.replace`` gives a
    #: changed copy no recipe). Workers reload the data from it instead of receiving arrays.
    recipe = None

    @property
    def splits(self) -> dict[str, Split]:
        return {"train": self.train, "valid": self.valid, "test": self.test}

    @property
    def spec(self) -> DataSpec:
        return DataSpec(
            n_items=len(self.items),
            n_categories=int(self.items.category.max()) + 1 if len(self.items) else 1,
            raw_dim=self.items.raw.shape[1] if self.items.raw is not None else self.raw_dim,
            has_raw_features=self.items.raw is not None,
            aux_sizes=tuple(int(s) for s in self.aux_sizes),
            history_len=self.train.L,
        )

    @property
    def n_users(self) -> int:
        return len(self.user_aux)

    def fingerprint(self) -> str:
        """A short hash of every array, for caching results computed on this dataset (memoised)."""
        if getattr(self, "_fingerprint", None):
            return self._fingerprint
        h = hashlib.sha1(self.name.encode())
        arrays = [self.items.category, self.user_aux]
        if self.items.raw is not None:
            arrays.append(self.items.raw)
        for split in self.splits.values():
            arrays += [split.user, split.item, split.time, split.label, split.hist_item]
        for a in arrays:
            a = np.ascontiguousarray(a)
            h.update(str((a.shape, a.dtype)).encode())
            if a.size:
                h.update(memoryview(a).cast("B"))
        self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    def summary(self) -> pd.DataFrame:
        """The columns of the paper's Table 1, one row per split (train, valid, test)."""
        rows = []
        for name, s in self.splits.items():
            pos = s.n_pos
            rows.append({
                "dataset": self.name,
                "split": name,
                "items": int(len(np.unique(s.item))),
                "categories": int(len(np.unique(self.items.category[s.item]))),
                "users": int(len(np.unique(s.user))),
                "positives": pos,
                "negatives": len(s) - pos,
                "CTR (%)": 100.0 * pos / max(len(s), 1),
                "from": pd.to_datetime(s.time.min(), unit="s", utc=True).tz_convert(self.tz).strftime("%Y-%m-%d %H:%M") if len(s) else "",
                "to": pd.to_datetime(s.time.max(), unit="s", utc=True).tz_convert(self.tz).strftime("%Y-%m-%d %H:%M") if len(s) else "",
            })
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        lines = [f"CTRData {self.name!r}: {self.n_users:,} users, {len(self.items):,} items, "
                 f"{self.spec.n_categories:,} categories, raw item features "
                 f"{'%d-d' % self.items.raw.shape[1] if self.items.raw is not None else 'none'}, "
                 f"aux {list(self.aux_names) or 'none'}, time zone {self.tz}"]
        table = pd.DataFrame({name: s.describe(self.tz) for name, s in self.splits.items()}).T
        table["CTR (%)"] = table["CTR (%)"].map(lambda v: f"{v:.3f}")
        for col in ("rows", "users", "items", "clicks"):
            table[col] = table[col].map(lambda v: f"{v:,}")
        lines.append(table.to_string())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{self!r}</pre>"

    def validate(self, source: str | None = None) -> "CTRData":
        validate(self, source or self.name)
        return self


def _when(t, tz: str) -> str:
    return pd.to_datetime(int(t), unit="s", utc=True).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def validate(data: CTRData, source: str) -> None:
    """Raise :class:`DataError` on the first inconsistency, naming field and bad-row count."""
    n_items, n_users = len(data.items), len(data.user_aux)
    cat = data.items.category
    if not np.issubdtype(cat.dtype, np.integer):
        raise bad(source, "items.category", len(cat), f"dtype {cat.dtype} is not integer")
    if (nb := int((cat < 0).sum())):
        raise bad(source, "items.category", nb, "negative category index")
    if data.items.raw is not None:
        raw = data.items.raw
        if raw.ndim != 2 or raw.shape[0] != n_items:
            raise bad(source, "items.raw", n_items, f"shape {raw.shape} is not ({n_items}, d)")
        if (nb := int((~np.isfinite(raw)).any(axis=1).sum())):
            raise bad(source, "items.raw", nb, "NaN or inf feature values")
    if data.user_aux.ndim != 2 or data.user_aux.shape[1] != len(data.aux_sizes):
        raise bad(source, "user_aux", n_users, f"shape {data.user_aux.shape} does not match {len(data.aux_sizes)} aux sizes")
    for j, size in enumerate(data.aux_sizes):
        col = data.user_aux[:, j]
        if (nb := int(((col < 0) | (col >= size)).sum())):
            raise bad(source, f"user_aux[{j}]", nb, f"code outside [0, {size})")
    for name, s in data.splits.items():
        validate_split(s, f"{source} [{name}]", n_items, n_users)


def validate_split(s: Split, source: str, n_items: int, n_users: int) -> None:
    n = len(s.label) if s.label is not None else 0
    for fld in SPLIT_ARRAYS:
        a = getattr(s, fld)
        if a is None:
            raise bad(source, fld, n, "missing column")
        if len(a) != n:
            raise bad(source, fld, abs(len(a) - n), f"length {len(a)} differs from label length {n}")
        if not np.issubdtype(np.asarray(a).dtype, np.integer):
            nb = int(np.isnan(a).sum()) if np.issubdtype(a.dtype, np.floating) else n
            raise bad(source, fld, max(nb, 1) if np.issubdtype(a.dtype, np.floating) and nb else n,
                       f"dtype {a.dtype} is not integer" + (" (NaN present)" if np.issubdtype(a.dtype, np.floating) and nb else ""))
    if n == 0:
        raise bad(source, "label", 0, "split is empty")
    if (nb := int((s.time < 0).sum())):
        raise bad(source, "time", nb, "negative unix time")
    if (nb := int(((s.label != 0) & (s.label != 1)).sum())):
        raise bad(source, "label", nb, "label outside {0, 1}")
    if s.n_pos == 0:
        raise bad(source, "label", n, "split has no positives")
    if (nb := int(((s.item < 0) | (s.item >= n_items)).sum())):
        raise bad(source, "item", nb, f"item index without an items row (n_items={n_items})")
    if (nb := int(((s.user < 0) | (s.user >= n_users)).sum())):
        raise bad(source, "user", nb, f"user index without an aux row (n_users={n_users})")
    L = s.hist_item.shape[1] if s.hist_item.ndim == 2 else 0
    if s.hist_item.ndim != 2 or s.hist_time.shape != s.hist_item.shape:
        raise bad(source, "hist_item", n, f"history arrays must be (N, L), got {s.hist_item.shape} and {s.hist_time.shape}")
    if (nb := int(((s.hist_len < 0) | (s.hist_len > L)).sum())):
        raise bad(source, "hist_len", nb, f"length outside [0, {L}]")
    real = np.arange(L)[None, :] < s.hist_len[:, None]
    if (nb := int((real & ((s.hist_item < 0) | (s.hist_item >= n_items))).any(axis=1).sum())):
        raise bad(source, "hist_item", nb, "history item index without an items row")
    if (nb := int((real & (s.hist_time >= s.time[:, None])).any(axis=1).sum())):
        raise bad(source, "hist_time", nb, "history click not strictly earlier than the target time (leak)")
    if (nb := int((real[:, 1:] & (np.diff(s.hist_time, axis=1) < 0)).any(axis=1).sum())):
        raise bad(source, "hist_time", nb, "history not ordered oldest first")


def time_split(time: np.ndarray, valid_start: int, test_start: int, test_end: int | None = None):
    """Boolean masks (train, valid, test) for ``[.., valid_start)``, ``[valid_start, test_start)``,
    ``[test_start, test_end)``."""
    train = time < valid_start
    valid = (time >= valid_start) & (time < test_start)
    test = time >= test_start if test_end is None else (time >= test_start) & (time < test_end)
    return train, valid, test


def assemble(name: str, log: pd.DataFrame, items: Items, user_aux: np.ndarray, aux_sizes, *,
             valid_start: int, test_start: int, test_end: int | None = None, L: int = 10,
             tz: str = "UTC", aux_names=(), info: dict | None = None, source: str | None = None,
             drop_before: int | None = None, columns: dict | None = None) -> CTRData:
    """Build a validated :class:`CTRData` from an impression log (columns user, item, time,
    label, optional p_click): histories from all clicks of the log, then split by time.
    Rows before ``drop_before`` only feed histories (a warm-up period) and are in no split.
    ``columns`` maps "time" and "label" to the source file's column names, for the messages
    of a split that comes out empty or with one label only (:func:`.split.check_splits`)."""
    source = source or name
    names = {"time": "time", "label": "label"} | dict(columns or {})
    log = log.sort_values(["time", "user"], kind="stable").reset_index(drop=True)
    arr = {c: log[c].to_numpy() for c in log.columns}
    check_unix_seconds(arr["time"], source, names["time"])
    masks = time_split(arr["time"], valid_start, test_start, test_end)
    if drop_before is not None:
        masks = (masks[0] & (arr["time"] >= drop_before),) + masks[1:]
    check_splits(arr["time"], arr["label"], masks, (valid_start, test_start, test_end), source, tz,
                 time_col=names["time"], label_col=names["label"])
    splits = []
    for mask in masks:  # histories from every click of the log, for the split's rows only
        rows = np.flatnonzero(mask)
        hist = build_histories(arr["user"], arr["item"], arr["time"], arr["label"], L=L,
                               query_user=arr["user"][rows], query_time=arr["time"][rows])
        splits.append(Split.from_rows(
            arr["user"][rows], arr["item"][rows], arr["time"][rows], arr["label"][rows], hist,
            p_click=arr["p_click"][rows] if "p_click" in arr else None,
        ))
    data = CTRData(name=name, items=items, user_aux=np.asarray(user_aux, dtype=np.int64),
                   aux_sizes=tuple(int(s) for s in aux_sizes), train=splits[0], valid=splits[1],
                   test=splits[2], tz=tz, aux_names=tuple(aux_names), info=dict(info or {}))
    return data.validate(source)


LOG_COLUMNS = {"user": "integer", "item": "integer", "time": "integer", "label": "integer"}


def check_log(log: pd.DataFrame, source: str, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """Check an impression log's columns before assembly; raise :class:`DataError` naming the
    file, column and count of bad rows (missing/misnamed columns, dtypes, NaN, negative times,
    labels outside {0, 1})."""
    columns = columns or LOG_COLUMNS
    missing = [c for c in columns if c not in log.columns]
    if missing:
        also = f" (also missing: {missing[1:]})" if len(missing) > 1 else ""
        raise bad(source, missing[0], len(log), f"missing column{also}; found {list(log.columns)}")
    n = len(log)
    for col, kind in columns.items():
        s = log[col]
        if (nb := int(s.isna().sum())):
            raise bad(source, col, nb, "NaN / empty values")
        if kind == "integer" and not pd.api.types.is_integer_dtype(s):
            if pd.api.types.is_float_dtype(s):
                nb = int((s != np.floor(s)).sum())
                if nb:
                    raise bad(source, col, nb, f"non-integer values in a {s.dtype} column")
            else:
                nb = int(pd.to_numeric(s, errors="coerce").isna().sum()) or n
                raise bad(source, col, nb, f"dtype {s.dtype} is not numeric")
    if "time" in columns and (nb := int((log["time"] < 0).sum())):
        raise bad(source, "time", nb, "negative unix time")
    if "time" in columns:  # after 2106: milliseconds, or a wrong time
        check_unix_seconds(log["time"].to_numpy(), source, "time")
    if "label" in columns and (nb := int((~log["label"].isin([0, 1])).sum())):
        raise bad(source, "label", nb, "label outside {0, 1}")
    return log
