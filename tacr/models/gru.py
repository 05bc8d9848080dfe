"""Eq. (2): the GRU over each history, oldest to newest, with two interchangeable kernels.

Both compute ``nn.GRU``'s equations (the cuDNN variant, see :mod:`.model`) on the real
positions of each history and leave the states of padded positions and empty histories at 0:

* ``packed`` (the reference): ``torch.nn.GRU`` on ``pack_padded_sequence``;
* ``fused``: tacr's own layer (:class:`_FusedLayer`), written for the CPU. Histories are sorted
  by length, so the rows still running at step t are a prefix; each step does its input and
  hidden projections on those rows only, and the backward pass is written by hand (the gate
  gradients of a step in one pass, the weight gradients accumulated step by step), instead of
  autograd's graph of some twenty small operations per step. Hidden and input widths are
  zero-padded to multiples of 16 inside the layer (90 -> 96), which the CPU's matrix kernels
  run much faster than widths of 90. Padded units start at 0 and stay 0 (zero weights and
  biases give r = z = 1/2, n = 0), so the arithmetic is the same; only float summation orders
  differ: states agree with ``packed`` to ~1e-7, gradients to ~1e-6 relative
  (``tests/test_models.py``). ``benchmarks/`` measures the two side by side.

Training runs ``fused`` (``TrainConfig.gru_kernel``, one path for every profile); ``packed`` stays
as the tests' oracle and a model's default when built directly. On CUDA ``fused`` runs the packed
kernel: cuDNN's fused GRU is the fast one there.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

KERNELS = ("packed", "fused")
_ALIGN = 16


def run_gru(gru: nn.GRU, e_l: torch.Tensor, lengths: torch.Tensor, kernel: str = "packed") -> torch.Tensor:
    """Eq. (2) over each history: (U, L, d) inputs, (U,) lengths -> states (U, L, H); padded steps
    and empty histories have states 0."""
    if kernel == "packed":
        return _run_packed(gru, e_l, lengths)
    if kernel == "fused":
        if e_l.is_cuda:  # the fused layer is a CPU kernel; on a GPU its per-step loop would lose to cuDNN
            return _run_packed(gru, e_l, lengths)
        return _run_fused(gru, e_l, lengths)
    raise ValueError(f"unknown GRU kernel {kernel!r}; choose from {KERNELS}")


def _run_packed(gru: nn.GRU, e_l: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    U, L, _ = e_l.shape
    out = e_l.new_zeros(U, L, gru.hidden_size)  # (U, L, H)
    keep = (lengths > 0).nonzero().squeeze(1)  # (U',)
    if len(keep) == 0:
        return out
    packed = pack_padded_sequence(e_l[keep], lengths[keep].to(torch.int64).cpu(), batch_first=True, enforce_sorted=False)
    states, _ = pad_packed_sequence(gru(packed)[0], batch_first=True, total_length=L)  # (U', L, H)
    return out.index_copy(0, keep, states)  # (U, L, H)


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _pad_gates(w: torch.Tensor, H: int, Hp: int, cols: int | None = None) -> torch.Tensor:
    """(3H, k) gate-stacked weights -> (3Hp, cols), or (3H,) biases -> (3Hp,); zero-padded per gate."""
    if w.dim() == 1:
        return F.pad(w.view(3, H), (0, Hp - H)).reshape(3 * Hp)
    return F.pad(w.view(3, H, w.shape[1]), (0, cols - w.shape[1], 0, Hp - H)).reshape(3 * Hp, cols)


def _run_fused(gru: nn.GRU, e_l: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    if gru.bidirectional or not gru.bias or not gru.batch_first or gru.proj_size:
        raise ValueError("the fused GRU kernel supports batch-first, unidirectional GRUs with biases only")
    U, L, d = e_l.shape
    H = gru.hidden_size
    lengths = lengths.to(torch.int64)
    steps = int(lengths.max()) if U else 0
    if steps == 0:
        return e_l.new_zeros(U, L, H)
    order = torch.argsort(lengths, descending=True, stable=True)  # (U,) longest first
    active = (lengths[order][None, :] > torch.arange(steps, device=lengths.device)[:, None]).sum(1).tolist()  # rows at step t
    Hp = _aligned(H)
    x = F.pad(e_l[order, :steps].transpose(0, 1), (0, _aligned(d) - d)).contiguous()  # (T, U, dp) time-major, sorted
    for k in range(gru.num_layers):
        w_ih, w_hh, b_ih, b_hh = (getattr(gru, f"{p}_l{k}") for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        x = _FusedLayer.apply(x, _pad_gates(w_ih, H, Hp, x.shape[2]), _pad_gates(w_hh, H, Hp, Hp),
                              _pad_gates(b_ih, H, Hp), _pad_gates(b_hh, H, Hp), active)  # (T, U, Hp)
    states = x[:, :, :H].transpose(0, 1)  # (U, T, H), sorted
    states = states[torch.argsort(order)]  # (U, T, H), input order
    return F.pad(states, (0, 0, 0, L - steps)) if steps < L else states  # (U, L, H)


class _FusedLayer(torch.autograd.Function):
    """One GRU layer, time-major, rows sorted longest first, widths padded.

    forward(x (T, U, I), w_ih (3Hp, I), w_hh (3Hp, Hp), b_ih (3Hp,), b_hh (3Hp,), active: T ints)
    -> states (T, U, Hp): rows ``:active[t]`` are running at step t; the others are 0.
    Gates in ``nn.GRU``'s order r, z, n:
    ``r, z = sigmoid(gi + gh)``, ``n = tanh(gi_n + r * gh_n)``, ``h' = n + z (h - n)``.
    """

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, active):
        T, U, _ = x.shape
        Hp = w_hh.shape[1]
        out = x.new_empty(T, U, Hp)  # (T, U, Hp)
        rz = x.new_empty(T, U, 2 * Hp)  # sigmoid gates, saved for backward
        new = x.new_empty(T, U, Hp)  # n
        gh_n = x.new_empty(T, U, Hp)  # W_hn h + b_hn
        h0 = x.new_zeros(U, Hp)
        w_ih_t, w_hh_t = w_ih.t(), w_hh.t()
        for t, n in enumerate(active):
            hp = h0[:n] if t == 0 else out[t - 1, :n]  # (n, Hp)
            gi = torch.addmm(b_ih, x[t, :n], w_ih_t)  # (n, 3Hp)
            gh = torch.addmm(b_hh, hp, w_hh_t)  # (n, 3Hp)
            g = torch.add(gi[:, :2 * Hp], gh[:, :2 * Hp], out=rz[t, :n]).sigmoid_()  # (n, 2Hp) = r, z
            gh_n[t, :n] = gh[:, 2 * Hp:]
            nt = torch.addcmul(gi[:, 2 * Hp:], g[:, :Hp], gh_n[t, :n], out=new[t, :n]).tanh_()  # (n, Hp)
            torch.addcmul(nt, g[:, Hp:], hp - nt, out=out[t, :n])  # h' = n + z (h - n)
            out[t, n:] = 0
        ctx.active = active
        ctx.save_for_backward(x, w_ih, w_hh, out, rz, new, gh_n)
        return out

    @staticmethod
    def backward(ctx, d_out):
        x, w_ih, w_hh, out, rz, new, gh_n = ctx.saved_tensors
        active = ctx.active
        T, U, _ = x.shape
        Hp = w_hh.shape[1]
        dx = torch.zeros_like(x)  # (T, U, I)
        dw_ih, dw_hh = torch.zeros_like(w_ih), torch.zeros_like(w_hh)
        db_ih, db_hh = x.new_zeros(3 * Hp), x.new_zeros(3 * Hp)
        dh = x.new_zeros(U, Hp)  # dL/dh_t from step t + 1; rows that ended stay 0
        one = x.new_ones(())
        for t in range(T - 1, -1, -1):
            n = active[t]
            r, z, nt = rz[t, :n, :Hp], rz[t, :n, Hp:], new[t, :n]  # (n, Hp) each
            hp = out[t - 1, :n] if t > 0 else None  # (n, Hp); h_{-1} = 0
            d = torch.add(dh[:n], d_out[t, :n])  # (n, Hp)
            dgi = x.new_empty(n, 3 * Hp)  # d(pre-activations) = dL/d(gi), (n, 3Hp)
            da_n = torch.mul(torch.addcmul(d, d, z, value=-1), torch.addcmul(one, nt, nt, value=-1),
                             out=dgi[:, 2 * Hp:])  # d (1 - z) (1 - n^2): through n = tanh(.)
            torch.mul(da_n * gh_n[t, :n], torch.addcmul(r, r, r, value=-1), out=dgi[:, :Hp])  # through r
            dz = -(d * nt) if hp is None else d * (hp - nt)  # d (h - n)
            torch.mul(dz, torch.addcmul(z, z, z, value=-1), out=dgi[:, Hp:2 * Hp])  # through z
            dgh = torch.cat([dgi[:, :2 * Hp], da_n * r], dim=1)  # dL/d(gh), (n, 3Hp)
            torch.mm(dgi, w_ih, out=dx[t, :n])
            dw_ih.addmm_(dgi.t(), x[t, :n])
            db_ih += dgi.sum(0)
            db_hh += dgh.sum(0)
            if hp is not None:
                dw_hh.addmm_(dgh.t(), hp)
                dh[:n] = torch.addmm(d * z, dgh, w_hh)  # dL/dh_{t-1}
        return dx, dw_ih, dw_hh, db_ih, db_hh, None
