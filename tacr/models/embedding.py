"""Item and auxiliary embeddings (docs/method.md §2; paper Eq. (1) with the activations of Sec. 4.2).

Implements

    e_c  = tanh(W_c O(c) + b_c)                                   category, 8-d
    e_t  = concat(tanh(W_m O(t_m) + b_m), ..., tanh(W_h O(t_h) + b_h))   4 x 8-d
    e_i  = F(concat(e_r, e_c, e_t)),   F = Linear-ReLU, Linear-ReLU, Linear-tanh (90 wide)
    e_a  = tanh(W_a concat(O(a_1), ..., O(a_F)) + b_a)            auxiliary, 8-d

``O(.)`` is a one-hot vector. ``W O(x) + b`` is computed as a row lookup plus bias
(:class:`OneHotLinear`), numerically identical to ``nn.Linear`` on the one-hot vector.

**Values never seen in training (docs/method.md §9; a departure from a plain lookup).** A one-hot value
(a category, a month, weekday, day of month or hour, an aux code, or an item id of the learned
id embedding) that no training impression or history click carries has a row that never gets a
gradient: it would enter every score it touches with its random initial value (a test day's day
of month shifted every test score by its random row; issue 13 measured the calibration error
moving between 39 % and 76 % with it). With the training counts set (:meth:`set_counts`, done
by the trainer), such a value takes the count-weighted **mean of the seen rows** instead: the
embedding of an average training value, the neutral choice that marginalises the unknown value
over the training distribution. Seen values are untouched, so training is unchanged.
Eq. (1) writes ReLU (``R``) on the one-hot layers; Sec. 4.2 says tanh, and docs/method.md §2 follows 4.2.
Models "without temporal inputs" (docs/method.md §3) drop ``e_t``: ``e_i = F(concat(e_r, e_c))``.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def lookup(weight: torch.Tensor, idx: torch.Tensor, counts: torch.Tensor | None) -> torch.Tensor:
    """Rows of ``weight`` (n, o) at ``idx``; with training ``counts`` (n,), a value never seen
    in training takes the count-weighted mean of the seen rows (see the module docstring)."""
    emb = F.embedding(idx, weight)  # (..., o)
    if counts is None:
        return emb
    mean = (counts @ weight) / counts.sum().clamp_min(1.0)  # (o,)
    return torch.where((counts[idx] == 0).unsqueeze(-1), mean, emb)  # (..., o)


class CountedLookup(nn.Module):
    """A lookup table that knows how often each row occurred in training (:func:`lookup`)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("counts", None, persistent=False)

    def set_counts(self, counts: torch.Tensor | None) -> None:
        """Training occurrences per row; None, or no zero among them, disables the fallback."""
        self.counts = None if counts is None or bool((counts > 0).all()) else counts.to(self.weight)


class OneHotLinear(CountedLookup):
    """``Linear(n_values, out)`` applied to one-hot vectors, as an embedding lookup plus bias.

    ``weight`` is stored as (n_values, out), i.e. the transpose of ``nn.Linear.weight``, and is
    initialised like ``nn.Linear`` (uniform in +-1/sqrt(n_values)).
    """

    def __init__(self, n_values: int, out_dim: int):
        super().__init__()
        if n_values < 1 or out_dim < 1:
            raise ValueError(f"OneHotLinear needs n_values >= 1 and out_dim >= 1, got {n_values}, {out_dim}")
        self.n_values, self.out_dim = n_values, out_dim
        self.weight = nn.Parameter(torch.empty(n_values, out_dim))  # (n, o)
        self.bias = nn.Parameter(torch.empty(out_dim))  # (o,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.n_values)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return lookup(self.weight, idx, self.counts) + self.bias  # (..., o)


class IdEmbedding(CountedLookup):
    """A learned id embedding, initialised N(0, ``init_std``^2) (1.0: ``nn.Embedding``'s default)."""

    def __init__(self, n: int, dim: int, init_std: float = 1.0):
        super().__init__()
        self.init_std = float(init_std)
        self.weight = nn.Parameter(torch.empty(n, dim))  # (n, d)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, mean=0.0, std=self.init_std)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return lookup(self.weight, idx, self.counts)  # (..., d)


class MultiOneHotLinear(CountedLookup):
    """``Linear(sum(sizes), out)`` on the concatenated one-hots of several categorical fields."""

    def __init__(self, sizes: tuple[int, ...], out_dim: int):
        super().__init__()
        sizes = tuple(int(s) for s in sizes)
        if not sizes or min(sizes) < 1:
            raise ValueError(f"MultiOneHotLinear needs at least one field of size >= 1, got {sizes}")
        self.sizes = sizes
        self.weight = nn.Parameter(torch.empty(sum(sizes), out_dim))  # (sum n_f, o)
        self.bias = nn.Parameter(torch.empty(out_dim))  # (o,)
        offsets = torch.tensor((0,) + sizes[:-1], dtype=torch.int64).cumsum(0)
        self.register_buffer("offsets", offsets, persistent=False)  # (F,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(sum(self.sizes))
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return lookup(self.weight, codes + self.offsets, self.counts).sum(-2) + self.bias  # (..., o)


class ItemEmbedding(nn.Module):
    """Eq. (1): ``(item, time features) -> e_i``; shared by the target and the history items.

    Args (forward):
        data: the :class:`tacr.batch.DeviceData` holding ``category (I,)`` and ``raw (I, r)``.
        item: (...,) int64 item indices.
        tf: (..., 4) int64 month, weekday, day, hour; ignored (may be None) without temporal inputs.
    Returns:
        (..., item_dim) float32.
    Without raw features (``spec.has_raw_features`` False) ``e_r`` is a learned
    ``raw_dim``-d item-id embedding (:class:`IdEmbedding`) in the same input slot, initialised
    N(0, ``raw_id_init_std``^2) (1.0: ``nn.Embedding``'s default).
    """

    def __init__(self, spec, onehot_dim: int = 8, item_dim: int = 90, n_layers: int = 3, temporal: bool = True,
                 raw_id_init_std: float = 1.0):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"item embedding needs >= 1 layer, got {n_layers}")
        self.raw_dim, self.temporal = int(spec.raw_dim), bool(temporal)
        self.raw_id = None if spec.has_raw_features else IdEmbedding(spec.n_items, spec.raw_dim, raw_id_init_std)
        self.category = OneHotLinear(spec.n_categories, onehot_dim)
        self.time = nn.ModuleList(OneHotLinear(n, onehot_dim) for n in spec.time_sizes) if temporal else None
        in_dim = spec.raw_dim + onehot_dim * (1 + (len(spec.time_sizes) if temporal else 0))
        layers = []
        for k in range(n_layers):
            layers += [nn.Linear(in_dim if k == 0 else item_dim, item_dim), nn.Tanh() if k == n_layers - 1 else nn.ReLU()]
        self.mlp = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, item_dim

    def inputs(self, data, item: torch.Tensor, tf: torch.Tensor | None) -> torch.Tensor:
        """The concatenation ``[e_r, e_c, e_t]`` fed to F: (..., in_dim)."""
        if self.raw_id is None:
            if data.raw is None or data.raw.shape[-1] != self.raw_dim:
                raise ValueError(f"model expects {self.raw_dim}-d raw item features, data has "
                                 f"{None if data.raw is None else data.raw.shape[-1]}")
            e_r = data.raw[item]  # (..., r)
        else:
            e_r = self.raw_id(item)  # (..., r)
        parts = [e_r, torch.tanh(self.category(data.category[item]))]  # (..., r), (..., 8)
        if self.temporal:
            parts += [torch.tanh(layer(tf[..., k])) for k, layer in enumerate(self.time)]  # 4 x (..., 8)
        return torch.cat(parts, dim=-1)  # (..., in_dim)

    def forward(self, data, item: torch.Tensor, tf: torch.Tensor | None = None) -> torch.Tensor:
        return self.mlp(self.inputs(data, item, tf))  # (..., item_dim)

    def set_counts(self, item: torch.Tensor, category: torch.Tensor, time: list[torch.Tensor]) -> None:
        """Training occurrences of each item id, category and time-feature value (the rows of
        unseen values fall back to the mean of the seen ones)."""
        if self.raw_id is not None:
            self.raw_id.set_counts(item)
        self.category.set_counts(category)
        if self.temporal:
            for layer, counts in zip(self.time, time):
                layer.set_counts(counts)


class AuxEmbedding(nn.Module):
    """``e_a = tanh(Linear(one-hot user attributes))`` (Sec. 4.2), ``aux_dim`` = 8.

    With no auxiliary fields (``aux_sizes == ()``) the module has no parameters and returns
    zeros, so the sample embedding keeps its width (188).
    """

    def __init__(self, aux_sizes: tuple[int, ...], aux_dim: int = 8):
        super().__init__()
        self.aux_dim = aux_dim
        self.linear = MultiOneHotLinear(aux_sizes, aux_dim) if len(aux_sizes) else None

    def set_counts(self, counts: torch.Tensor) -> None:
        """Training users per code, the fields' codes concatenated (as the weight's rows)."""
        if self.linear is not None:
            self.linear.set_counts(counts)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        if self.linear is None:
            return codes.new_zeros(codes.shape[:-1] + (self.aux_dim,), dtype=torch.float32)  # (B, a)
        return torch.tanh(self.linear(codes))  # (B, a)
