"""History readouts: the relative time embedding Eq. (3), time-aware attention Eq. (4)-(5),
and DIN's local activation unit (docs/method.md §3 baseline).

Eq. (3), d = 90, dt = t0 - t_l in seconds, argument in float64 (docs/method.md §2)::

    e_t_l[2j]   = sin(dt / 10000^(2j/d))
    e_t_l[2j+1] = cos(dt / 10000^(2j/d))

Eq. (4)-(5), width v = 90, no biases (as written in the paper)::

    u_l = v^T tanh(W_h h_l + W_i e_i0 + W_t e_t_l)
    a   = softmax(u) over the real history positions (padding gets weight exactly 0)
    e_h = sum_l a_l h_l                   (empty history -> e_h = 0)

``GRU attention`` (docs/method.md §3) is the same module without the ``W_t e_t_l`` term.
Only the real positions are evaluated (gathered with ``mask.nonzero()``); the softmax runs on a
(B, L) grid whose padded entries hold the float minimum, and is multiplied by the mask, so padded
weights are exactly 0 and an all-padding row gives ``a = 0``, ``e_h = 0`` without NaN.

DIN (Zhou et al., KDD 2018) local activation unit::

    w_l = MLP([e_l, e_0, e_l - e_0, e_l * e_0])   hidden (36,), ReLU, linear scalar output
    e_h = sum_l w_l e_l                           unnormalised: no softmax; padding w_l = 0

Given relative time (``time_dim`` set; beyond the paper, the ablation row ``din_time_dt``), the
unit also takes each history click's Eq. (3) encoding as a fifth input block,
``MLP([e_l, e_0, e_l - e_0, e_l * e_0, e_t_l])``: DIN sees the same time inputs as the time-aware
model and differs from it only in how it reads the history.

The first DIN layer is stored as one ``Linear(4d, 36)`` but evaluated split by blocks,
``(W_1 + W_3) e_l + (W_2 - W_3) e_0 + W_4 (e_l * e_0) + b``, so the history part is computed once
per distinct history. DIN's own code uses 80-40 hidden units with PReLU/Dice; we use one 36-unit
ReLU layer (configurable: ``ModelConfig.din_hidden``).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def time_phase(dt: torch.Tensor, dim: int = 90, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The sin and cos halves of Eq. (3), each (..., dim/2) float32: ``sin(dt / base^(2j/dim))``
    and ``cos(dt / base^(2j/dim))`` for j = 0 .. dim/2 - 1.

    The phase ``dt / (2 pi base^(2j/dim))`` is formed in float64 (``dt`` reaches 1e7 s and more,
    where float32 keeps only ~1 s resolution, i.e. O(1) rad error in the fastest components) and
    reduced to its fractional part in float64 (exact to ~1e-9 rad for |dt| < 1e8 s); float32
    ``sin``/``cos`` then see |angle| < 2 pi (a float64 sine of arguments ~1e7 rad needs a costly
    argument reduction; ``frac`` is cheaper than ``fmod``).
    """
    if dim < 2 or dim % 2:
        raise ValueError(f"relative time embedding dimension must be even and >= 2, got {dim}")
    j2 = torch.arange(0, dim, 2, dtype=torch.float64, device=dt.device)  # (dim/2,) = 2j
    turns_per_second = torch.exp(-j2 / dim * math.log(base)) / (2 * math.pi)  # (dim/2,)
    turns = torch.frac(dt.to(torch.float64).unsqueeze(-1) * turns_per_second)  # (..., dim/2) in (-1, 1)
    ang = (turns * (2 * math.pi)).to(torch.float32)  # (..., dim/2)
    return torch.sin(ang), torch.cos(ang)


def relative_time_encoding(dt: torch.Tensor, dim: int = 90, base: float = 10000.0) -> torch.Tensor:
    """Eq. (3): sinusoidal embedding of time differences ``dt`` (seconds), (...,) -> (..., dim).

    Layout is interleaved: even indices sin, odd indices cos (see :func:`time_phase` for the
    float64 phase reduction). :class:`TimeAwareAttention` never materialises this layout: it
    multiplies the two halves by the even and odd columns of ``W_t`` (same result, no
    interleaving copy, which cost a third of the encoding's time).
    """
    s, c = time_phase(dt, dim, base)
    return torch.stack((s, c), dim=-1).flatten(-2)  # (..., dim): sin, cos interleaved


def add_time_term(pre: torch.Tensor, W_t: nn.Linear, dt: torch.Tensor, base: float) -> torch.Tensor:
    """``pre + W_t e_t`` for Eq. (3)'s encoding ``e_t`` of ``dt`` (R,): (R, k). The even columns of
    ``W_t`` take the sin half and the odd ones the cos half, so the interleaved encoding is never
    built; ``pre`` (a fresh sum) is updated in place."""
    sin, cos = time_phase(dt, W_t.in_features, base)  # (R, d/2) x 2
    W = W_t.weight  # (k, d)
    return pre.addmm_(sin, W[:, 0::2].T).addmm_(cos, W[:, 1::2].T)


def real_positions(mask: torch.Tensor, inv: torch.Tensor | None):
    """The real history positions of a batch: sample ``b`` (R,), position ``l`` (R,), and the row
    ``r`` (R,) of position l of the sample's history in a (U * L, ...) flattening of the
    per-distinct-history tensors (``inv`` (B,) maps samples to distinct histories; None: U = B)."""
    b, l = mask.nonzero(as_tuple=True)  # (R,), (R,)
    return b, l, (b if inv is None else inv[b]) * mask.shape[1] + l


def _rows(x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """(U, L, k) -> (R, k): rows ``r`` of the (U * L, k) flattening (index_select: fast on CPU)."""
    return x.reshape(-1, x.shape[-1]).index_select(0, r)


class TimeAwareAttention(nn.Module):
    """Eq. (4)-(5). ``time_dim`` = None gives the plain GRU attention (no ``W_t e_t`` term).

    Args (forward):
        states: (U, L, H) GRU states of the distinct histories.
        inv: (B,) index into ``states`` of each sample's history, or None when U == B.
        e_0: (B, d) target item embedding.
        dt: (B, L) int64 t0 - t_l in seconds (ignored without the time term).
        mask: (B, L) bool, True on real positions.
    Returns:
        e_h (B, H), a (B, L).
    """

    def __init__(self, hidden: int = 90, item_dim: int = 90, width: int = 90,
                 time_dim: int | None = 90, time_base: float = 10000.0):
        super().__init__()
        self.W_h = nn.Linear(hidden, width, bias=False)
        self.W_i = nn.Linear(item_dim, width, bias=False)
        self.W_t = nn.Linear(time_dim, width, bias=False) if time_dim else None
        self.v = nn.Linear(width, 1, bias=False)
        self.time_base = time_base

    def forward(self, states, inv, e_0, dt, mask):
        b, l, r = real_positions(mask, inv)  # (R,) x 3: only real positions are computed
        h = _rows(states, r)  # (R, H)
        pre = _rows(self.W_h(states), r) + self.W_i(e_0)[b]  # (R, v); W_h h_l once per distinct history
        if self.W_t is not None:
            pre = add_time_term(pre, self.W_t, dt[b, l], self.time_base)  # (R, v)
        u = self.v(torch.tanh(pre)).squeeze(-1)  # (R,)
        u = u.new_full(mask.shape, torch.finfo(u.dtype).min).index_put((b, l), u)  # (B, L)
        a = torch.softmax(u, dim=-1) * mask  # (B, L), padding and empty rows exactly 0
        e_h = h.new_zeros(mask.shape[0], h.shape[1]).index_add(0, b, a[b, l].unsqueeze(1) * h)  # (B, H)
        return e_h, a


class DINActivation(nn.Module):
    """DIN's local activation unit and unnormalised weighted sum of history item embeddings.

    Args (forward):
        e_l: (U, L, d) history item embeddings of the distinct histories.
        inv: (B,) or None, as in :class:`TimeAwareAttention`.
        e_0: (B, d) target item embedding.
        mask: (B, L) bool.
        dt: (B, L) int64 t0 - t_l in seconds, used only with ``time_dim`` (the fifth input block).
    Returns:
        e_h (B, d), w (B, L).
    """

    def __init__(self, item_dim: int = 90, hidden: tuple[int, ...] = (36,), time_dim: int | None = None,
                 time_base: float = 10000.0):
        super().__init__()
        if not hidden:
            raise ValueError("DIN activation unit needs at least one hidden layer")
        self.d = item_dim
        self.fc1 = nn.Linear(4 * item_dim, hidden[0])
        self.W_t = nn.Linear(time_dim, hidden[0], bias=False) if time_dim else None  # the e_t_l block of fc1
        self.time_base = time_base
        rest = []
        for a, b in zip(hidden, hidden[1:]):
            rest += [nn.ReLU(), nn.Linear(a, b)]
        self.rest = nn.Sequential(*rest, nn.ReLU(), nn.Linear(hidden[-1], 1))

    def forward(self, e_l, inv, e_0, mask, dt=None):
        b, l, r = real_positions(mask, inv)  # (R,) x 3
        W_l, W_0, W_d, W_p = self.fc1.weight.split(self.d, dim=1)  # 4 x (k, d)
        x = _rows(e_l, r)  # (R, d)
        hist = _rows(e_l @ (W_l + W_d).T, r)  # (R, k): once per distinct history
        tgt = (e_0 @ (W_0 - W_d).T + self.fc1.bias)[b]  # (R, k)
        pre = hist + tgt + (x * e_0[b]) @ W_p.T  # (R, k)
        if self.W_t is not None:
            pre = add_time_term(pre, self.W_t, dt[b, l], self.time_base)  # (R, k)
        w = self.rest(pre).squeeze(-1)  # (R,)
        e_h = x.new_zeros(e_0.shape).index_add(0, b, w.unsqueeze(1) * x)  # (B, d)
        w = w.new_zeros(mask.shape).index_put((b, l), w)  # (B, L), padding exactly 0
        return e_h, w
