"""Data on the device: feature tables and splits moved once, batches gathered by row index.

``DeviceData`` holds the item and user tables and the time zone; ``DeviceSplit`` holds one
split's arrays. ``split.batch(rows)`` gathers a :class:`Batch` of index tensors on the device,
which every model consumes (``model(batch)``). Nothing here loops over samples.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from .data.history import TimeZone, time_features
from .data.schema import CTRData, Split
from .runtime import tune_cpu_allocator


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """"auto" -> CUDA when available, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def distinct(key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first position of each distinct value of ``key`` (K,) in sorted key order, and each
    position's index into them (N,): ``key[first][inv] == key``."""
    uniq, inv = torch.unique(key, return_inverse=True)  # (K,), (N,)
    first = torch.full((len(uniq),), len(key), dtype=torch.int64, device=key.device)
    return first.scatter_reduce(0, inv, torch.arange(len(key), device=key.device), "amin"), inv  # (K,), (N,)


class DeviceData:
    """Item features, category, user aux codes and the time zone, on one device."""

    def __init__(self, data: CTRData, device: str | torch.device = "auto"):
        self.device = resolve_device(device)
        tune_cpu_allocator()  # freed tensors stay in the heap: see tacr.runtime
        dev = self.device
        self.spec = data.spec
        self.category = torch.as_tensor(data.items.category, dtype=torch.int64, device=dev)  # (I,)
        self.raw = None if data.items.raw is None else torch.as_tensor(data.items.raw, dtype=torch.float32, device=dev)  # (I, r)
        self.user_aux = torch.as_tensor(data.user_aux, dtype=torch.int64, device=dev)  # (U, F)
        t_min = min(int(s.time.min()) for s in data.splits.values())
        t_max = max(int(s.time.max()) for s in data.splits.values())
        for s in data.splits.values():  # history clicks may predate every split (warm-up, long histories)
            real = s.hist_len > 0
            if real.any():
                t_min = min(t_min, int(s.hist_time[real, 0].min()))
        self.tz = TimeZone(data.tz, t_min, t_max)
        self.splits = {name: DeviceSplit(s, self) for name, s in data.splits.items()}
        self._counts = None

    def training_counts(self, chunk_rows: int = 1 << 20) -> dict:
        """How often each item id and category (targets and real history positions), time-feature
        value (the training impressions' own times only) and aux code (per training row) occurs
        in the training split, for :meth:`tacr.models.CTRModel.set_training_counts`. A date that
        occurs only inside history clicks counts as unseen: its embedding row is trained on
        history positions alone, and a test impression at that date gets the neutral fallback
        (docs/method.md §9). Computed once, ``chunk_rows`` training
        rows at a time (integer counts: exact whatever the chunking; at the paper's scale the
        history positions of all rows at once, with their time features, would take ~10 GB)."""
        if self._counts is None:
            tr, spec = self.splits["train"], self.spec
            zeros = lambda n: torch.zeros(n, dtype=torch.int64, device=self.device)  # noqa: E731
            counts = {"item": zeros(spec.n_items), "category": zeros(spec.n_categories),
                      "time": [zeros(n) for n in spec.time_sizes], "aux": zeros(sum(spec.aux_sizes))}
            offsets = torch.tensor((0,) + tuple(spec.aux_sizes[:-1]), device=self.device, dtype=torch.int64).cumsum(0)
            positions = torch.arange(tr.hist_item.shape[1], device=self.device)  # (L,)
            for lo in range(0, len(tr.item), chunk_rows):
                rows = slice(lo, lo + chunk_rows)
                real = positions < tr.hist_len[rows].unsqueeze(1)  # (n, L)
                items = torch.cat([tr.item[rows], tr.hist_item[rows][real]])  # (m,)
                tf = self.time_features(tr.time[rows])  # (n, 4): the impressions' own times
                aux = self.user_aux[tr.user[rows]]  # (n, F)
                counts["item"] += torch.bincount(items, minlength=spec.n_items)
                counts["category"] += torch.bincount(self.category[items], minlength=spec.n_categories)
                for k, size in enumerate(spec.time_sizes):
                    counts["time"][k] += torch.bincount(tf[:, k], minlength=size)
                counts["aux"] += torch.bincount((aux + offsets).reshape(-1), minlength=sum(spec.aux_sizes))
            self._counts = {"item": counts["item"].float(), "category": counts["category"].float(),
                            "time": [c.float() for c in counts["time"]], "aux": counts["aux"].float()}
        return self._counts

    def time_features(self, t: torch.Tensor) -> torch.Tensor:
        """(..., ) int64 unix seconds -> (..., 4) month, weekday, day, hour."""
        return time_features(t, self.tz)

    def __getitem__(self, name: str) -> "DeviceSplit":
        return self.splits[name]


class DeviceSplit:
    """One split's arrays as device tensors, moved once."""

    def __init__(self, split: Split, data: DeviceData):
        dev = data.device
        self.data = data
        self.n = len(split)
        self.user = torch.as_tensor(split.user, device=dev)  # (N,)
        self.item = torch.as_tensor(split.item, device=dev)  # (N,)
        self.time = torch.as_tensor(split.time, device=dev)  # (N,)
        self.label = torch.as_tensor(split.label.astype(np.float32), device=dev)  # (N,)
        self.hist_item = torch.as_tensor(split.hist_item.astype(np.int64), device=dev)  # (N, L)
        self.hist_time = torch.as_tensor(split.hist_time, device=dev)  # (N, L)
        self.hist_len = torch.as_tensor(split.hist_len.astype(np.int64), device=dev)  # (N,)
        self.hist_id = torch.as_tensor(split.hist_id, device=dev)  # (N,)
        self.pos_rows = torch.nonzero(self.label > 0.5).squeeze(1)  # (P,)
        self.neg_rows = torch.nonzero(self.label < 0.5).squeeze(1)  # (Q,)
        self._eval_rows: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return self.n

    def batch(self, rows: torch.Tensor) -> "Batch":
        """Gather rows (any shape, flattened) into a :class:`Batch`."""
        rows = rows.reshape(-1)
        return Batch(
            rows=rows,
            user=self.user[rows],
            item=self.item[rows],
            time=self.time[rows],
            label=self.label[rows],
            hist_item=self.hist_item[rows],
            hist_time=self.hist_time[rows],
            hist_len=self.hist_len[rows],
            hist_id=self.hist_id[rows],
            data=self.data,
        )

    def iter_batches(self, batch_size: int = 65536, rows: torch.Tensor | None = None):
        """The given rows (default: all, in order) in batches of ``batch_size``."""
        rows = torch.arange(self.n, device=self.data.device) if rows is None else rows
        for start in range(0, len(rows), batch_size):
            yield self.batch(rows[start:start + batch_size])

    def by_history(self, rows: torch.Tensor | None = None) -> torch.Tensor:
        """``rows`` (default all) reordered so rows sharing a history are adjacent (stable sort
        by ``hist_id``): scoring in this order runs each distinct history's GRU once per pass,
        not once per batch it happens to fall in."""
        rows = torch.arange(self.n, device=self.data.device) if rows is None else rows
        return rows[torch.argsort(self.hist_id[rows], stable=True)]

    def eval_rows(self, max_rows: int = 0) -> torch.Tensor:
        """The rows per-epoch metrics are computed on: every row when ``max_rows`` is 0 or the
        split is no larger; else a fixed stratified sample of ``max_rows`` rows: up to half of
        them positives, the rest negatives, each drawn uniformly within its class (the same
        rows for every run and config on this split: a constant seed). Uniform sampling within
        each class leaves the AUC unbiased; its variance is about ``(Q2 - A^2) / n_pos +
        (Q1 - A^2) / n_neg`` (Hanley & McNeil 1982), smallest for a row budget when the two
        classes are about equally represented. Sorted by history (:meth:`by_history`)."""
        key = 0 if max_rows <= 0 or max_rows >= self.n else int(max_rows)
        if key not in self._eval_rows:
            if key == 0:
                rows = torch.arange(self.n, device=self.data.device)
            else:
                rng = np.random.default_rng(20191103)  # fixed: the same rows for every run
                pos, neg = self.pos_rows.cpu().numpy(), self.neg_rows.cpu().numpy()
                n_pos = min(len(pos), key // 2)
                n_neg = min(len(neg), key - n_pos)
                keep = np.concatenate([rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)])
                rows = torch.as_tensor(np.sort(keep), device=self.data.device)
            self._eval_rows[key] = self.by_history(rows)
        return self._eval_rows[key]


@dataclass
class Batch:
    """Index tensors of B impressions on one device; features are gathered from ``data``."""

    rows: torch.Tensor  # (B,) row index in its split
    user: torch.Tensor  # (B,)
    item: torch.Tensor  # (B,)
    time: torch.Tensor  # (B,)
    label: torch.Tensor  # (B,) float 0/1
    hist_item: torch.Tensor  # (B, L)
    hist_time: torch.Tensor  # (B, L)
    hist_len: torch.Tensor  # (B,)
    hist_id: torch.Tensor  # (B,) equal id <=> identical history
    data: DeviceData

    def __len__(self) -> int:
        return self.item.shape[0]

    def with_item(self, item: torch.Tensor) -> "Batch":
        """The same users, histories and times with other target items (non-positive pairs)."""
        return replace(self, item=item, label=torch.zeros_like(self.label))

    def _map(self, fn) -> "Batch":
        """``fn`` applied to every per-sample tensor (all fields but ``data``)."""
        return Batch(**{f: fn(getattr(self, f)) for f in SAMPLE_FIELDS}, data=self.data)

    def take(self, idx: torch.Tensor) -> "Batch":
        """The samples at positions ``idx`` of this batch."""
        return self._map(lambda t: t[idx])

    def cat(self, *others: "Batch") -> "Batch":
        """This batch followed by ``others`` (same split): one model pass instead of several."""
        parts = (self, *others)
        return Batch(**{f: torch.cat([getattr(b, f) for b in parts]) for f in SAMPLE_FIELDS}, data=self.data)

    def repeat(self, k: int) -> "Batch":
        """Each sample repeated k times consecutively: (B,) -> (B*k,)."""
        return self._map(lambda t: t.repeat_interleave(k, dim=0))


SAMPLE_FIELDS = tuple(f.name for f in fields(Batch) if f.name != "data")
