"""The sampler interface the trainer calls (SPEC §5), and row-index helpers shared by samplers.

A sampler decides which training rows a discriminator step sees:

* ``epoch_batches(epoch)`` — the 30 row batches of an epoch (positives, or all rows for the
  pointwise "logistic regression" sampler);
* ``pointwise_rows(rows)`` — for ``loss == "pointwise"``: the rows of one step's batch;
* ``negatives(pos)`` — for ``loss == "pairwise"``: one negative per positive, as a
  :class:`~tacr.batch.Batch` aligned with ``pos``;
* ``g_step(pos, epoch)`` / ``pretrain_step(pos)`` — adversarial samplers train their generator.

Every draw uses the sampler's own ``torch.Generator`` so a seed fixes the whole run.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..batch import Batch, DeviceSplit


@dataclass(frozen=True)
class SamplerConfig:
    n_candidates: int = 35  # C
    temperature: float = 20.0  # T at the first adversarial epoch
    temperature_decay: float = 0.98  # per epoch
    lambda_i: float = 3.0
    lambda_h: float = 5.0
    reward: str = "both"  # "score", "penalty", "both" (Fig. 7)
    margin: float = 1.0  # hinge margin of G's pre-training (Eq. 8)
    under_ratio: int = 5  # negatives per positive for 1:5 under-sampling
    lr_g: float = 0.01
    tau_positives: int = 64  # positives per G step whose C candidates are ranked for Kendall tau


class Sampler:
    """Base class: uniform positives in 30 batches; subclasses choose the negatives."""

    name = "base"
    loss = "pairwise"  # or "pointwise"
    adversarial = False

    def __init__(self, train: DeviceSplit, config: SamplerConfig, generator: torch.Generator, steps_per_epoch: int = 30):
        if len(train.pos_rows) == 0 or len(train.neg_rows) == 0:
            raise ValueError("the training split needs both positives and observed negatives")
        self.train = train
        self.config = config
        self.gen = generator
        self.steps_per_epoch = steps_per_epoch

    @property
    def device(self) -> torch.device:
        return self.train.data.device

    def randint(self, high, size) -> torch.Tensor:
        """Uniform integers in [0, high) (``high`` a scalar or a tensor broadcast to ``size``)."""
        u = torch.rand(size, generator=self.gen, device=self.device)
        if isinstance(high, torch.Tensor):
            return torch.minimum((u * high).long(), (high - 1).clamp(min=0))
        return (u * high).long().clamp(max=high - 1)

    def epoch_batches(self, epoch: int) -> list[torch.Tensor]:
        rows = self.train.pos_rows
        perm = rows[torch.randperm(len(rows), generator=self.gen, device=self.device)]
        return [b for b in torch.tensor_split(perm, self.steps_per_epoch) if len(b)]

    def uniform_negative_rows(self, shape) -> torch.Tensor:
        neg = self.train.neg_rows
        return neg[self.randint(len(neg), shape)]

    def negatives(self, pos: Batch) -> Batch:  # pragma: no cover - interface
        raise NotImplementedError

    def pointwise_rows(self, rows: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def start_epoch(self, epoch: int, game_epoch: int | None = None, lr_scale: float = 1.0) -> None:
        """Called before each epoch; ``game_epoch`` counts epochs after pre-training and
        ``lr_scale`` is the learning-rate decay (adversarial samplers set T and G's rate)."""

    def stats(self) -> dict:
        """Per-epoch statistics to add to the trainer's row; reset after reading."""
        return {}


class GroupIndex:
    """Rows grouped by a key (user, item or category) for drawing within a group.

    ``draw(keys)`` returns a uniformly drawn row of each key's group, and -1 where the group
    is empty; vectorised with ``searchsorted`` over the sorted keys.
    """

    def __init__(self, rows: torch.Tensor, keys: torch.Tensor):
        order = torch.argsort(keys, stable=True)
        self.rows = rows[order]  # (R,)
        self.keys = keys[order].contiguous()  # (R,) sorted

    def bounds(self, keys: torch.Tensor):
        keys = keys.contiguous()
        start = torch.searchsorted(self.keys, keys, right=False)
        end = torch.searchsorted(self.keys, keys, right=True)
        return start, end - start

    def draw(self, keys: torch.Tensor, sampler: Sampler, k: int = 1) -> torch.Tensor:
        """(B,) keys -> (B, k) rows (-1 where the key has no rows)."""
        start, count = self.bounds(keys)
        offs = sampler.randint(count[:, None].expand(-1, k), (len(keys), k))  # (B, k)
        idx = (start[:, None] + offs).clamp(max=max(len(self.rows) - 1, 0))
        out = self.rows[idx] if len(self.rows) else torch.full_like(idx, -1)
        return torch.where(count[:, None] > 0, out, torch.full_like(out, -1))
